/**
 * `npm run soak`: a few thousand mixed calls through the built server over stdio, against the
 * emulator on loopback, bounded in count and time. Samples the server's resident memory and open
 * file descriptors (Linux /proc) along the way and fails if either keeps growing.
 *
 * RSS alone rises and falls with V8's garbage collection, so two checks decide: the server runs
 * with its old generation capped (--max-old-space-size), where a leak ends in an out-of-memory
 * crash, and the peak RSS of the last quarter of the run is compared with that of the second.
 *
 * Options (environment): SOAK_CALLS (default 5000), SOAK_SECONDS (default 120), SOAK_CONCURRENCY (default 8).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startEmulator } from '../src/emulator/index.js';

const CALLS = Number(process.env['SOAK_CALLS'] ?? 5000);
const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 120);
const CONCURRENCY = Number(process.env['SOAK_CONCURRENCY'] ?? 8);
const HEAP_CAP_MB = 64;
const serverEntry = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Sample {
  calls: number;
  rssMb: number;
  fds: number;
  seconds: number;
}

function sample(pid: number, calls: number, startedAt: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return {
    calls,
    rssMb: Math.round(rssKb / 102.4) / 10,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
}

/** The n-th call of the mix: both surfaces, the catalog, the balance, and an error. */
function callFor(n: number): { name: string; arguments: Record<string, unknown> } {
  switch (n % 10) {
    case 0:
      return { name: 'list_models', arguments: { query: 'claude' } };
    case 1:
      return { name: 'get_balance', arguments: {} };
    case 2:
      return { name: 'complete', arguments: { prompt: `soak ${n}`, model: 'no-such-model' } };
    case 3:
    case 4:
    case 5:
      return { name: 'complete', arguments: { prompt: `soak ${n}`, model: 'claude-sonnet-4-6' } };
    default:
      return { name: 'complete', arguments: { prompt: `soak ${n} `.repeat(20), model: 'deepseek-v4-flash', max_tokens: 200 } };
  }
}

async function main(): Promise<void> {
  const emulator = await startEmulator();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [`--max-old-space-size=${HEAP_CAP_MB}`, serverEntry],
    env: { ...(process.env as Record<string, string>), EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url, EZROUTER_LOG_LEVEL: 'warn' },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'ezrouter-mcp-soak', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error('server did not start');

  const startedAt = Date.now();
  const deadline = startedAt + SECONDS * 1000;
  const samples: Sample[] = [sample(pid, 0, startedAt)];
  let issued = 0;
  let done = 0;
  let failures = 0;
  const sampleEvery = Math.max(50, Math.floor(CALLS / 40));

  const worker = async (): Promise<void> => {
    while (issued < CALLS && Date.now() < deadline) {
      const n = issued++;
      const call = callFor(n);
      const result = await client.callTool(call);
      const expectedError = call.arguments['model'] === 'no-such-model';
      if (Boolean(result.isError) !== expectedError) failures++;
      done++;
      if (done % sampleEvery === 0) samples.push(sample(pid, done, startedAt));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  samples.push(sample(pid, done, startedAt));

  await client.close();
  await emulator.close();

  const quarter = (q: number): Sample[] => samples.filter((x) => x.calls > (CALLS * (q - 1)) / 4 && x.calls <= (CALLS * q) / 4);
  const peak = (xs: Sample[]): Sample => xs.reduce((a, b) => (b.rssMb > a.rssMb ? b : a));
  const shown = samples.filter((_, i) => i % 4 === 0 || i === samples.length - 1);
  const lines = shown.map((x) => `${String(x.calls).padStart(6)} calls  ${x.rssMb.toFixed(1).padStart(7)} MB RSS  ${String(x.fds).padStart(4)} fds  ${x.seconds.toFixed(1).padStart(6)} s`);
  process.stdout.write(`soak: ${done} calls (${CONCURRENCY} in flight, server heap capped at ${HEAP_CAP_MB} MB), ${failures} unexpected results\n${lines.join('\n')}\n`);

  const second = peak(quarter(2));
  const last = peak(quarter(4));
  const rssGrowth = last.rssMb / second.rssMb - 1;
  const fdGrowth = samples.at(-1)!.fds - quarter(2)[0]!.fds;
  process.stdout.write(
    `peak RSS, 2nd quarter: ${second.rssMb} MB; last quarter: ${last.rssMb} MB (${(rssGrowth * 100).toFixed(1)}%); open fds ${quarter(2)[0]!.fds} → ${samples.at(-1)!.fds}\n`,
  );
  const ok = done === CALLS && failures === 0 && rssGrowth < 0.1 && fdGrowth <= 2;
  process.stdout.write(ok ? 'soak: PASS\n' : 'soak: FAIL (calls failed or were cut short, or memory/handles kept growing)\n');
  process.exitCode = ok ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
