/**
 * `npm run bench:http`: the remote mode's load figures, each side by side with a minimal MCP SDK
 * Streamable HTTP server doing the same upstream work without ezrouter logic
 * (bench/minimal-http-server.mjs), as ratios within one run; and the latency the Redis store
 * adds per call. Everything on loopback, bounded in count and time, stopped at the end. The
 * emulator runs in its own process (bench/emulator-host.mjs).
 *
 * Options (environment): BENCH_HTTP_CALLS (small calls per throughput run, default 1500),
 * BENCH_HTTP_CONCURRENCY (default 32), BENCH_HTTP_STREAMS (concurrent streaming calls, default 500).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startRedis, redisBinary } from '../test/support/redis-server.js';
import { startHostedEmulator, type HostedEmulator } from './lib/emulator.js';
import { median } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CALLS = Number(process.env['BENCH_HTTP_CALLS'] ?? 1500);
const CONCURRENCY = Number(process.env['BENCH_HTTP_CONCURRENCY'] ?? 32);
const STREAMS = Number(process.env['BENCH_HTTP_STREAMS'] ?? 500);
const SERIAL_CALLS = 300;

interface Server {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(name: string, args: string[], env: Record<string, string>, urlFrom: 'stdout' | 'stderr'): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${seen}`)), 15_000);
    child[urlFrom]!.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /http:\/\/127\.0\.0\.1:\d+\/mcp/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${seen}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    name,
    url,
    pid: child.pid ?? -1,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function product(emulator: HostedEmulator, extra: Record<string, string> = {}): Promise<Server> {
  return startServer(
    extra['EZROUTER_REDIS_URL'] ? 'ezrouter-mcp http + Redis' : 'ezrouter-mcp http',
    ['dist/cli.js', 'http'],
    {
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      EZROUTER_HTTP_AUTH: 'none',
      EZROUTER_HTTP_PORT: '0',
      EZROUTER_LOG_LEVEL: 'info', // the listening line, and one access line per request as in production
      EZROUTER_MAX_CONCURRENCY: '1024',
      EZROUTER_HTTP_MAX_IN_FLIGHT: '4096',
      EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT: '4096',
      EZROUTER_HTTP_PRINCIPAL_RATE_PER_MINUTE: '0',
      // The answers here are small; give every caller a budget that fits them (not the bench's point).
      EZROUTER_RESULT_BUDGET_BYTES: '1000000',
      ...extra,
    },
    'stderr',
  );
}

function minimal(emulator: HostedEmulator): Promise<Server> {
  return startServer('minimal SDK HTTP server', ['bench/minimal-http-server.mjs'], { EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url }, 'stdout');
}

let nextId = 1;
/** One tools/call complete, as a stateless client POSTs it; resolves when the whole answer is read. */
async function call(url: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'complete', arguments: { prompt: 'bench', model: 'gpt-5.2' } } }),
  });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"result"') || text.includes('"isError":true')) throw new Error(`unexpected answer (${res.status}): ${text.slice(0, 300)}`);
}

async function pool(count: number, concurrency: number, work: () => Promise<void>): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (started < count) {
        started++;
        await work();
      }
    }),
  );
}

async function throughput(server: Server): Promise<number> {
  await pool(100, CONCURRENCY, () => call(server.url)); // warm-up
  const t0 = performance.now();
  await pool(CALLS, CONCURRENCY, () => call(server.url));
  return CALLS / ((performance.now() - t0) / 1000);
}

async function serialLatency(server: Server): Promise<number> {
  await pool(50, 1, () => call(server.url));
  const times: number[] = [];
  for (let i = 0; i < SERIAL_CALLS; i++) {
    const t0 = performance.now();
    await call(server.url);
    times.push(performance.now() - t0);
  }
  return median(times);
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Peak RSS of the server while STREAMS slow streaming calls are in flight at once. */
async function streamingPeak(server: Server, emulator: HostedEmulator): Promise<{ idleMiB: number; peakMiB: number }> {
  await emulator.script({ kind: 'stream', chunkChars: 20, frameDelayMs: 20 }, { times: STREAMS, gen: { length: 2000 } });
  const idle = rssKiB(server.pid);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(server.pid))), 25);
  try {
    await Promise.all(Array.from({ length: STREAMS }, () => call(server.url)));
  } finally {
    clearInterval(sampler);
  }
  return { idleMiB: idle / 1024, peakMiB: Math.max(peak, rssKiB(server.pid)) / 1024 };
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const emulator = await startHostedEmulator();
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, calls: CALLS, concurrency: CONCURRENCY, streams: STREAMS };
  try {
    const ours = await product(emulator);
    const ref = await minimal(emulator);
    try {
      const oursRate = await throughput(ours);
      const refRate = await throughput(ref);
      const oursMem = await streamingPeak(ours, emulator);
      const refMem = await streamingPeak(ref, emulator);
      results['throughput'] = { product: round(oursRate), minimal: round(refRate), ratio: round(oursRate / refRate, 2) };
      results['memory'] = { product: oursMem, minimal: refMem, peakRatio: round(oursMem.peakMiB / refMem.peakMiB, 2) };
      console.log(`small calls, ${CONCURRENCY} in flight: ${round(oursRate)} calls/s vs ${round(refRate)} calls/s → ${round(oursRate / refRate, 2)}× the minimal SDK server's throughput`);
      console.log(`${STREAMS} concurrent streaming calls: peak RSS ${round(oursMem.peakMiB)} MiB (idle ${round(oursMem.idleMiB)}) vs ${round(refMem.peakMiB)} MiB (idle ${round(refMem.idleMiB)}) → ${round(oursMem.peakMiB / refMem.peakMiB, 2)}×`);
      const plain = await serialLatency(ours);
      results['serialMedianMs'] = { product: round(plain, 2) };
      if (redisBinary()) {
        const redis = await startRedis();
        const withRedis = await product(emulator, { EZROUTER_REDIS_URL: redis.url });
        try {
          const shared = await serialLatency(withRedis);
          results['redis'] = { medianMs: round(shared, 2), addedMs: round(shared - plain, 2) };
          console.log(`one call at a time: median ${round(plain, 2)} ms in memory, ${round(shared, 2)} ms with Redis → Redis adds ${round(shared - plain, 2)} ms per call`);
        } finally {
          await withRedis.stop();
          await redis.stop();
        }
      } else {
        console.log('redis-server is not installed: the Redis latency figure is skipped');
      }
    } finally {
      await ours.stop();
      await ref.stop();
    }
  } finally {
    await emulator.close();
  }
  writeFileSync(new URL('./http-results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
