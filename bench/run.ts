/**
 * `npm run bench`: ezrouter-mcp against the official SDK clients and the raw byte floor, on the
 * emulator (its own process, like a gateway on another machine). Prints a table of medians and
 * ratios measured in this run, checks the targets of the performance issue, and writes
 * bench/results.json. See BENCHMARKS.md.
 *
 * Options: --only=throughput,decode,e2e,overhead,concurrency,cold,memory,idle,inflight
 *          --quick (fewer repetitions)
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeStream, loadConfig } from '#internal';
import { MAX_TOKENS, MODEL, PROMPT, createReaders, upstream, type Readers } from './lib/clients.js';
import { startHostedEmulator, type HostedEmulator } from './lib/emulator.js';
import { ROOT, SERVER_ENTRY, coldStart, cpuOf, memoryOf, startStdioServer, type StdioSession } from './lib/mcp.js';
import { interleaved, median, round, settle, timed, type Contender } from './lib/stats.js';
import { answerText } from './lib/workload.mjs';

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const quick = args.includes('--quick');
const want = (section: string): boolean => !only || only.includes(section);
const reps = (n: number): number => (quick ? Math.max(3, Math.ceil(n / 2)) : n);

/** 100,000 deltas of 4 code points: the long answer of the issue. */
const LONG_POINTS = 400_000;
const LONG_CHUNKS = 100_000;
const CHUNK_CHARS = 4;
/** The 10 MiB answer of the memory section: 10 Mi code points, 100 per delta. */
const HUGE_POINTS = 10 * 1024 * 1024;
const HUGE_CHUNK_CHARS = 100;

interface Row {
  section: string;
  case: string;
  median: number;
  unit: string;
  ratio?: string;
  note?: string;
}
interface Target {
  target: string;
  goal: string;
  measured: string;
  pass: boolean;
}

const rows: Row[] = [];
const targets: Target[] = [];
const results: Record<string, unknown> = {};

function row(section: string, name: string, value: number, unit: string, ratio?: string, note?: string): void {
  rows.push({ section, case: name, median: value, unit, ratio, note });
}
function target(name: string, goal: string, measured: string, pass: boolean): void {
  targets.push({ target: name, goal, measured, pass });
}
const x = (a: number, b: number): string => `${round(a / b, 2)}×`;
const mb = (bytes: number): string => `${round(bytes / 1024 / 1024, 1)} MiB`;

function machine(): Record<string, unknown> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

function expectText(expected: string): (result: unknown) => void {
  return (result) => {
    if (result !== expected) {
      const got = typeof result === 'string' ? `${result.length} chars` : String(result);
      throw new Error(`answer mismatch: expected ${expected.length} chars, got ${got}`);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Stream throughput: the upstream client alone.

async function throughput(emu: HostedEmulator, live: Readers, replay: Readers): Promise<void> {
  const expected = answerText(LONG_POINTS);
  const script = { kind: 'stream' as const, chunkChars: CHUNK_CHARS };
  const gen = { length: LONG_POINTS };
  const queue = (): Promise<void> => emu.script(script, { gen });
  for (const surface of ['openai', 'anthropic'] as const) {
    const sdkName = surface === 'openai' ? 'openai SDK' : '@anthropic-ai/sdk';
    const request = upstream(emu.url, emu.apiKey, surface);
    await emu.record({ path: new URL(request.url).pathname, body: request.body, headers: request.headers }, script, gen);
    for (const mode of ['live', 'replay'] as const) {
      const readers = mode === 'live' ? live : replay;
      const prepare = mode === 'live' ? queue : undefined;
      let bytes = 0;
      const contenders: Record<string, Contender> = {
        raw: { prepare, run: async () => (bytes = await readers.raw(surface)) },
        product: { prepare, run: () => readers.product(surface), check: expectText(expected) },
        naive: { prepare, run: () => readers.naive(surface), check: expectText(expected) },
        sdk: { prepare, run: () => readers.sdk(surface), check: expectText(expected) },
      };
      const s = await interleaved(contenders, reps(7));
      const where = mode === 'live' ? 'emulator live' : 'emulator response replayed at loopback speed';
      const section = `throughput ${surface}, ${where} (${LONG_CHUNKS / 1000}k chunks, ${mb(bytes)} SSE)`;
      const cpu = (n: string): string => `client CPU ${round(s[n]!.cpuMedian)} ms`;
      row(section, 'raw floor: undici, bytes read and dropped', s['raw']!.median, 'ms', '1×', cpu('raw'));
      row(section, 'ezrouter-mcp upstream client (EzrouterClient.complete)', s['product']!.median, 'ms', `${x(s['product']!.median, s['raw']!.median)} raw`, `${cpu('product')}; ${x(s['sdk']!.median, s['product']!.median)} faster than the SDK`);
      row(section, 'undici + eventsource-parser + JSON.parse per frame', s['naive']!.median, 'ms', `${x(s['naive']!.median, s['raw']!.median)} raw`, cpu('naive'));
      row(section, `${sdkName} streaming client`, s['sdk']!.median, 'ms', `${x(s['sdk']!.median, s['raw']!.median)} raw`, cpu('sdk'));
      results[`throughput_${surface}_${mode}`] = { sseBytes: bytes, chunks: LONG_CHUNKS, ...s };
      const vsSdk = s['product']!.median / s['sdk']!.median;
      const vsRaw = s['product']!.median / s['raw']!.median;
      target(`stream ${surface} (${mode}): product vs ${sdkName}`, '≤ 0.25× (4× faster)', `${round(vsSdk, 3)}× (${round(1 / vsSdk, 1)}× faster)`, vsSdk <= 0.25);
      target(`stream ${surface} (${mode}): product vs raw floor`, '≤ 2×', `${round(vsRaw, 2)}×`, vsRaw <= 2);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 1b. Decoding alone, in memory: the recorded emulator bytes in 64 KiB chunks through the
// product's decodeStream, with each fast path switched on in turn.

async function decodeOnly(emu: HostedEmulator): Promise<void> {
  const expected = answerText(LONG_POINTS);
  const replay = createReaders(emu.replayUrl, emu.apiKey);
  try {
    for (const surface of ['openai', 'anthropic'] as const) {
      const request = upstream(emu.url, emu.apiKey, surface);
      await emu.record({ path: new URL(request.url).pathname, body: request.body, headers: request.headers }, { kind: 'stream', chunkChars: CHUNK_CHARS }, { length: LONG_POINTS });
      const body = await replay.bytes(surface);
      const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536));
      const decode = (fastPath: 'off' | 'strings' | 'bytes') => async (): Promise<string> => {
        const decoded = await decodeStream(chunks, surface, { fastPath });
        if (!decoded.complete) throw new Error(`incomplete ${surface} stream: ${String(decoded.failure)}`);
        return decoded.text;
      };
      const s = await interleaved(
        {
          plain: { run: decode('off'), check: expectText(expected) },
          strings: { run: decode('strings'), check: expectText(expected) },
          bytes: { run: decode('bytes'), check: expectText(expected) },
        },
        reps(15),
        2,
      );
      const section = `decoding alone, in memory: ${surface} (${mb(body.length)} recorded from the emulator, 64 KiB chunks)`;
      const rate = (ms: number): string => `${round(body.length / 1024 / 1024 / (ms / 1000))} MiB/s`;
      row(section, 'eventsource-parser + JSON.parse of every frame (fast paths off)', s['plain']!.median, 'ms', '1×', rate(s['plain']!.median));
      row(section, '+ FrameShape: frames of the learned shape without JSON.parse', s['strings']!.median, 'ms', x(s['strings']!.median, s['plain']!.median), rate(s['strings']!.median));
      row(section, '+ byte-level match before the SSE decoder (as shipped)', s['bytes']!.median, 'ms', x(s['bytes']!.median, s['plain']!.median), rate(s['bytes']!.median));
      results[`decode_${surface}`] = { bytes: body.length, ...s };
    }
  } finally {
    await replay.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. End to end through the built server over stdio.

async function endToEnd(emu: HostedEmulator, readers: Readers, session: StdioSession): Promise<void> {
  const section = 'end to end over MCP stdio';
  // Small answers: the emulator's default reply (~13 deltas), one call after the other.
  const callArgs = { prompt: PROMPT, model: MODEL.openai, surface: 'openai' };
  const small = await session.call(callArgs);
  const smallText = (small.structuredContent as { text: string }).text;
  if (small.isError || (await readers.naive('openai')) !== smallText) throw new Error('small answers differ');
  const calls = quick ? 100 : 200;
  const mcpMs: number[] = [];
  const directMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    await session.call(callArgs);
    await readers.naive('openai');
  }
  for (let i = 0; i < calls; i++) {
    mcpMs.push((await timed(() => session.call(callArgs))).ms);
    directMs.push((await timed(() => readers.naive('openai'))).ms);
  }
  const mcpSmall = median(mcpMs);
  const directSmall = median(directMs);
  const added = mcpSmall - directSmall;
  row(section, `small answer (${smallText.length} chars), per call, ${calls} calls: direct undici + parse`, directSmall, 'ms', '1×');
  row(section, `small answer, per call: complete over MCP stdio`, mcpSmall, 'ms', x(mcpSmall, directSmall), `adds ${round(added, 2)} ms`);
  target('small call: time added by MCP stdio', '< 1 ms median', `${round(added, 2)} ms`, added < 1);
  results['e2e_small'] = { calls, mcpMedian: mcpSmall, directMedian: directSmall, addedMs: added, mcpSamples: mcpMs.map((v) => round(v, 3)), directSamples: directMs.map((v) => round(v, 3)) };

  // The 100,000-chunk answer.
  const expected = answerText(LONG_POINTS);
  const prepare = (): Promise<void> => emu.script({ kind: 'stream', chunkChars: CHUNK_CHARS }, { gen: { length: LONG_POINTS } });
  const serverCpu: number[] = [];
  const contenders: Record<string, Contender> = {
    raw: { prepare, run: () => readers.raw('openai') },
    mcp: {
      prepare,
      run: async () => {
        const before = cpuOf(session.pid);
        const result = await session.call({ ...callArgs, max_tokens: MAX_TOKENS });
        serverCpu.push(cpuOf(session.pid) - before);
        return (result.structuredContent as { text?: string } | undefined)?.text;
      },
      check: expectText(expected),
    },
    naive: { prepare, run: () => readers.naive('openai'), check: expectText(expected) },
    sdk: { prepare, run: () => readers.sdk('openai'), check: expectText(expected) },
  };
  const s = await interleaved(contenders, reps(5));
  const sub = `${section}, ${LONG_CHUNKS / 1000}k-chunk answer`;
  row(sub, 'raw floor: undici, bytes read and dropped', s['raw']!.median, 'ms', '1×');
  row(sub, 'complete over MCP stdio (built server, SDK Client)', s['mcp']!.median, 'ms', `${x(s['mcp']!.median, s['raw']!.median)} raw`, `server CPU ${round(median(serverCpu))} ms; ${x(s['sdk']!.median, s['mcp']!.median)} faster than the SDK`);
  row(sub, 'direct: undici + eventsource-parser + JSON.parse', s['naive']!.median, 'ms', `${x(s['naive']!.median, s['raw']!.median)} raw`);
  row(sub, 'direct: openai SDK streaming client', s['sdk']!.median, 'ms', `${x(s['sdk']!.median, s['raw']!.median)} raw`);
  results['e2e_long'] = { ...s, serverCpuMs: serverCpu };
  const vsSdk = s['mcp']!.median / s['sdk']!.median;
  const vsRaw = s['mcp']!.median / s['raw']!.median;
  target('100k chunks over MCP stdio vs openai SDK direct', '≤ 0.25×', `${round(vsSdk, 3)}×`, vsSdk <= 0.25);
  target('100k chunks over MCP stdio vs raw floor', '≤ 3×', `${round(vsRaw, 2)}×`, vsRaw <= 3);
}

// ---------------------------------------------------------------------------------------------
// 2b. Overhead that is ours alone: the same small `complete` through ezrouter-mcp and through a
// minimal SDK stdio server whose one tool makes the same single upstream request with undici
// (bench/minimal-undici-server.mjs). Both under the SDK Client over stdio, calls alternating.

async function overhead(emu: HostedEmulator): Promise<void> {
  const env = { EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, EZROUTER_LOG_LEVEL: 'silent' };
  const product = await startStdioServer(env);
  const minimal = await startStdioServer(env, { entry: `${ROOT}bench/minimal-undici-server.mjs` });
  try {
    const callArgs = { prompt: PROMPT, model: MODEL.openai, surface: 'openai' };
    const textOf = (r: Awaited<ReturnType<StdioSession['call']>>): string => (r.content[0] as { text?: string } | undefined)?.text ?? '';
    const expected = textOf(await product.call(callArgs));
    if (textOf(await minimal.call(callArgs)) !== expected) throw new Error('overhead: the two servers answered differently');
    const calls = quick ? 150 : 300;
    const ours: number[] = [];
    const ref: number[] = [];
    for (let i = 0; i < 30; i++) {
      await product.call(callArgs);
      await minimal.call(callArgs);
    }
    const oursCpu0 = cpuOf(product.pid);
    const refCpu0 = cpuOf(minimal.pid);
    for (let i = 0; i < calls; i++) {
      ours.push((await timed(() => product.call(callArgs))).ms);
      ref.push((await timed(() => minimal.call(callArgs))).ms);
    }
    const oursCpu = (cpuOf(product.pid) - oursCpu0) / calls;
    const refCpu = (cpuOf(minimal.pid) - refCpu0) / calls;
    const a = median(ours);
    const b = median(ref);
    const section = `overhead that is ours: small complete (${expected.length} chars), ${calls} calls each, alternating`;
    row(section, 'minimal SDK stdio server, one tool, one undici request (bench/minimal-undici-server.mjs)', b, 'ms', '1×', `server CPU ${round(refCpu, 2)} ms/call`);
    row(section, 'ezrouter-mcp complete (surface openai)', a, 'ms', x(a, b), `adds ${round(a - b, 2)} ms; server CPU ${round(oursCpu, 2)} ms/call`);
    target('small complete vs minimal SDK server + undici (median round trip)', '≤ 1.2×', `${round(a / b, 2)}× (+${round(a - b, 2)} ms; server CPU ${round(oursCpu, 2)} vs ${round(refCpu, 2)} ms/call)`, a / b <= 1.2);
    results['overhead'] = { calls, oursMedian: a, minimalMedian: b, oursCpuPerCall: oursCpu, minimalCpuPerCall: refCpu, ours: ours.map((v) => round(v, 3)), minimal: ref.map((v) => round(v, 3)) };
  } finally {
    await Promise.all([product.close(), minimal.close()]);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Cold start: spawn → initialize → tools/list.

async function coldStarts(emu: HostedEmulator): Promise<void> {
  const env = { EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, EZROUTER_LOG_LEVEL: 'silent' };
  const variants: Record<string, string[]> = {
    product: [SERVER_ENTRY],
    minimal: [`${ROOT}bench/minimal-server.mjs`],
    bare: [`${ROOT}bench/bare-stdio.mjs`],
  };
  const names = Object.keys(variants);
  const samples: Record<string, { init: number[]; list: number[] }> = Object.fromEntries(names.map((n) => [n, { init: [], list: [] }]));
  for (const name of names) {
    const r = await coldStart(variants[name]!, env);
    if (r.tools < 1) throw new Error(`${name}: tools/list returned no tools`);
  }
  for (let i = 0; i < reps(15); i++) {
    for (const name of names) {
      const r = await coldStart(variants[name]!, env);
      samples[name]!.init.push(r.initializeMs);
      samples[name]!.list.push(r.toolsListMs);
    }
  }
  const med = (n: string, k: 'init' | 'list'): number => median(samples[n]![k]);
  const section = 'cold start (spawn → response)';
  row(section, 'bare node: hand-written JSON-RPC, no SDK (node floor)', med('bare', 'list'), 'ms', x(med('bare', 'list'), med('minimal', 'list')), `initialize ${round(med('bare', 'init'))} ms`);
  row(section, 'minimal one-tool McpServer (bench/minimal-server.mjs)', med('minimal', 'list'), 'ms', '1×', `initialize ${round(med('minimal', 'init'))} ms`);
  row(section, 'ezrouter-mcp (node dist/cli.js, bundled, undici loaded lazily) → tools/list', med('product', 'list'), 'ms', x(med('product', 'list'), med('minimal', 'list')), `initialize ${round(med('product', 'init'))} ms`);
  results['cold_start'] = Object.fromEntries(names.map((n) => [n, { initializeMedian: med(n, 'init'), toolsListMedian: med(n, 'list'), ...samples[n] }]));
  const ratio = med('product', 'list') / med('minimal', 'list');
  target('cold start to tools/list vs minimal SDK server', '≤ 0.8×', `${round(ratio, 2)}×`, ratio <= 0.8);
}

// ---------------------------------------------------------------------------------------------
// 4. Memory of the server process.

/** Peak RSS of the upstream side alone (bench/client-peak.mjs in a fresh process): product client or raw floor. */
async function clientPeak(emu: HostedEmulator, mode: 'product' | 'raw', points: number, chunkChars: number): Promise<{ idle: number; peak: number }> {
  const child = fork(`${ROOT}bench/client-peak.mjs`, [emu.url, emu.apiKey, mode], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (): Promise<Record<string, number>> => new Promise((resolve) => child.once('message', (m) => resolve(m as Record<string, number>)));
  const ready = await next();
  await emu.script({ kind: 'stream', chunkChars }, { gen: { length: points } });
  const done = next();
  child.send('go');
  const result = await done;
  await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  return { idle: ready['hwm'] as number, peak: result['peak'] as number };
}

/** Issue 14's target for the 100k-chunk answer: at or under 90 MB (decimal), in MiB. */
const TARGET_PEAK_MIB = 90e6 / (1024 * 1024);

async function memory(emu: HostedEmulator): Promise<void> {
  const env = { EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, EZROUTER_LOG_LEVEL: 'silent' };
  const section = 'memory: peak RSS (VmHWM) of the process';
  const serverPeak = async (points: number, chunkChars: number, nodeArgs: string[] = []): Promise<{ idle: number; peak: number; bytes: number }> => {
    // A 10 MiB answer is a ~21 MiB result message (text and structuredContent.text): more than
    // the SDK client accepts by default (10 MiB), so this client's buffer is raised.
    const session = await startStdioServer(env, { maxBufferSize: 256 * 1024 * 1024, nodeArgs });
    try {
      await session.call({ prompt: PROMPT, model: MODEL.openai, surface: 'openai' });
      const idle = memoryOf(session.pid).peakMiB;
      await emu.script({ kind: 'stream', chunkChars }, { gen: { length: points } });
      const result = await session.call({ prompt: PROMPT, model: MODEL.openai, surface: 'openai', max_tokens: MAX_TOKENS });
      const text = (result.structuredContent as { text?: string } | undefined)?.text ?? '';
      if (text !== answerText(points)) throw new Error(`memory: answer of ${points} code points came back wrong: ${text.length} chars, ${JSON.stringify(result).slice(0, 600)}`);
      return { idle, peak: memoryOf(session.pid).peakMiB, bytes: Buffer.byteLength(text) };
    } finally {
      await session.close();
    }
  };
  const long = await serverPeak(LONG_POINTS, CHUNK_CHARS);
  const huge = await serverPeak(HUGE_POINTS, HUGE_CHUNK_CHARS);
  // Where the growth is: V8's young generation (semi-spaces up to 16 MiB each on Node 20) fills
  // with the stream's short-lived chunks before a scavenge; a smaller one is the experiment.
  const longSmallYoung = await serverPeak(LONG_POINTS, CHUNK_CHARS, ['--max-semi-space-size=2']);
  const rawLong = await clientPeak(emu, 'raw', LONG_POINTS, CHUNK_CHARS);
  const clientLong = await clientPeak(emu, 'product', LONG_POINTS, CHUNK_CHARS);
  const clientHuge = await clientPeak(emu, 'product', HUGE_POINTS, HUGE_CHUNK_CHARS);
  const hugeMiB = huge.bytes / 1024 / 1024;
  const longName = `${LONG_CHUNKS / 1000}k-chunk answer (${mb(long.bytes)})`;
  const hugeName = `${mb(huge.bytes)} answer (${Math.ceil(HUGE_POINTS / HUGE_CHUNK_CHARS / 1000)}k chunks)`;
  const growth = (r: { idle: number; peak: number }): string => `+${round(r.peak - r.idle)} MiB over idle ${round(r.idle)} MiB`;
  row(section, 'server: idle after initialize + one small call', long.idle, 'MiB');
  row(section, `server: while returning the ${longName}`, long.peak, 'MiB', undefined, `${growth(long)}; target ≤ 90 MB (${round(TARGET_PEAK_MIB)} MiB)`);
  row(section, `experiment: node --max-semi-space-size=2, the same answer`, longSmallYoung.peak, 'MiB', undefined, growth(longSmallYoung));
  row(section, `server: while returning a ${hugeName}`, huge.peak, 'MiB', `${round((huge.peak - 80) / hugeMiB, 2)}× answer + 80`, `${growth(huge)}; target < ${round(3 * hugeMiB + 80)} MiB`);
  row(section, `upstream side alone (no MCP): raw floor, undici reads the ${LONG_CHUNKS / 1000}k-chunk stream`, rawLong.peak, 'MiB', undefined, growth(rawLong));
  row(section, `upstream side alone (no MCP): EzrouterClient, ${longName}`, clientLong.peak, 'MiB', undefined, growth(clientLong));
  row(section, `upstream side alone (no MCP): EzrouterClient, ${hugeName}`, clientHuge.peak, 'MiB', undefined, growth(clientHuge));
  target(`peak RSS, ${LONG_CHUNKS / 1000}k-chunk answer`, `≤ 90 MB (${round(TARGET_PEAK_MIB)} MiB)`, `${round(long.peak)} MiB (${round((long.peak * 1024 * 1024) / 1e6)} MB)`, long.peak <= TARGET_PEAK_MIB);
  target(`peak RSS, ${mb(huge.bytes)} answer`, `< 3× answer + 80 MiB (${round(3 * hugeMiB + 80)} MiB)`, `${round(huge.peak)} MiB`, huge.peak < 3 * hugeMiB + 80);

  // After 100 and after 1,000 small calls: RSS (median of a few readings after a pause), for the
  // server as shipped and with a smaller V8 young generation; and the live JS heap (a heap
  // snapshot forces a full GC first), which tells a leak from a heap that grew and stays grown.
  const callArgs = { prompt: PROMPT, model: MODEL.openai, surface: 'openai' };
  const rssSection = 'memory: the server after 100 and after 1,000 small calls';
  const rssAfter = async (nodeArgs: string[]): Promise<{ after100: number; after1000: number }> => {
    const session = await startStdioServer(env, { nodeArgs });
    try {
      const rssNow = async (): Promise<number> => {
        const readings: number[] = [];
        for (let i = 0; i < 5; i++) {
          await settle(60);
          readings.push(memoryOf(session.pid).rssMiB);
        }
        return median(readings);
      };
      for (let i = 0; i < 100; i++) await session.call(callArgs);
      const after100 = await rssNow();
      for (let i = 100; i < 1000; i++) await session.call(callArgs);
      return { after100, after1000: await rssNow() };
    } finally {
      await session.close();
    }
  };
  const shipped = await rssAfter([]);
  const smallYoung = await rssAfter(['--max-semi-space-size=1']);
  const heap = await liveHeapAfter(env, [100, 1000]);
  row(rssSection, 'RSS after 100 calls', shipped.after100, 'MiB');
  row(rssSection, 'RSS after 1,000 calls', shipped.after1000, 'MiB', x(shipped.after1000, shipped.after100));
  row(rssSection, 'live JS heap after 100 calls (heap snapshot)', heap[0] as number, 'MiB');
  row(rssSection, 'live JS heap after 1,000 calls (heap snapshot)', heap[1] as number, 'MiB', x(heap[1] as number, heap[0] as number));
  row(rssSection, 'experiment: node --max-semi-space-size=1, RSS after 100 calls', smallYoung.after100, 'MiB');
  row(rssSection, 'experiment: node --max-semi-space-size=1, RSS after 1,000 calls', smallYoung.after1000, 'MiB', x(smallYoung.after1000, smallYoung.after100));
  const grew = shipped.after1000 / shipped.after100 - 1;
  target('RSS after 1,000 calls vs after 100', 'within 10%', `${round(grew * 100, 1)}% (live heap ${round(((heap[1] as number) / (heap[0] as number) - 1) * 100, 1)}%)`, Math.abs(grew) <= 0.1);
  results['memory'] = { long, huge, rawLong, clientLong, clientHuge, shipped, smallYoung, liveHeapMiB: heap };
}

// ---------------------------------------------------------------------------------------------
// 4b. Idle RSS after initialize (+ tools/list), against the minimal one-tool SDK server: fresh
// processes, alternating, VmRSS after a pause.

async function idleMemory(emu: HostedEmulator): Promise<void> {
  const env = { EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, EZROUTER_LOG_LEVEL: 'silent' };
  const entries: Record<string, string | undefined> = { product: undefined, minimal: `${ROOT}bench/minimal-server.mjs` };
  const rss: Record<string, number[]> = { product: [], minimal: [] };
  for (let i = 0; i < reps(7); i++) {
    for (const [name, entry] of Object.entries(entries)) {
      const session = await startStdioServer(env, entry ? { entry } : {});
      try {
        await settle(300);
        rss[name]!.push(memoryOf(session.pid).rssMiB);
      } finally {
        await session.close();
      }
    }
  }
  const a = median(rss['product']!);
  const b = median(rss['minimal']!);
  const section = 'memory: idle RSS after initialize + tools/list (VmRSS, fresh processes)';
  row(section, 'minimal one-tool McpServer (bench/minimal-server.mjs)', b, 'MiB', '1×');
  row(section, 'ezrouter-mcp (node dist/cli.js)', a, 'MiB', x(a, b), `${a >= b ? '+' : ''}${round(a - b, 1)} MiB`);
  // "Within 10%" of the minimal server: at most 10% above it (below it is better still).
  target('idle RSS after initialize vs minimal SDK server', '≤ 1.1× (at most 10% more)', `${round(a / b, 2)}× (${round(a, 1)} vs ${round(b, 1)} MiB)`, a / b <= 1.1);
  results['idle'] = { productMedian: a, minimalMedian: b, ...rss };
}

// ---------------------------------------------------------------------------------------------
// 4c. Memory per in-flight call: N slow calls (40 frames, 40 ms apart) sent at once through one
// server; VmRSS mid-stream against the same server idle. At most EZROUTER_MAX_CONCURRENCY
// (default 16) upstream calls run at once, at most EZROUTER_MAX_QUEUE (default 256) wait for a
// slot, and the rest are refused at once (rate_limited): past limit + queue, memory stays flat.

async function inflightMemory(emu: HostedEmulator): Promise<void> {
  const { maxConcurrency: limit, maxQueue } = loadConfig({}); // the defaults
  const env = { EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, EZROUTER_LOG_LEVEL: 'silent' };
  const text = answerText(160);
  const callArgs = { prompt: PROMPT, model: MODEL.openai, surface: 'openai', max_tokens: MAX_TOKENS };
  const section = `memory: calls sent at once through one server (VmRSS mid-stream; ${limit} upstream, ${maxQueue} waiting at most)`;
  const full = limit + maxQueue;
  const levels = [limit, full, 4 * full];
  const measured: { n: number; answered: number; refused: number; during: number; perCallKiB: number }[] = [];
  const session = await startStdioServer(env);
  try {
    for (let i = 0; i < 5; i++) await session.call({ prompt: PROMPT, model: MODEL.openai, surface: 'openai' });
    await settle(500);
    const idle = median([0, 1, 2].map(() => memoryOf(session.pid).rssMiB));
    row(section, 'idle (after 5 small calls)', idle, 'MiB');
    for (const n of levels) {
      const admitted = Math.min(n, full);
      await emu.script({ kind: 'stream', text, chunkChars: CHUNK_CHARS, frameDelayMs: 40 }, { times: admitted });
      const calls = Array.from({ length: n }, () => session.call(callArgs));
      await settle(900); // the first `limit` calls mid-stream (a stream lasts ~1.6 s), the rest waiting or refused
      const during = memoryOf(session.pid).rssMiB;
      const outcomes = await Promise.all(calls);
      const answered = outcomes.filter((r) => (r.structuredContent as { text?: string } | undefined)?.text === text).length;
      const refused = outcomes.filter((r) => r.isError && (r._meta as { error?: { code?: string } } | undefined)?.error?.code === 'rate_limited').length;
      if (answered !== admitted || answered + refused !== n) throw new Error(`inflight: of ${n} calls ${answered} answered and ${refused} were refused; expected ${admitted} and ${n - admitted}`);
      const perCall = ((during - idle) * 1024) / admitted;
      const shape = n <= limit ? ' (all upstream)' : ` (${limit} upstream, ${admitted - limit} waiting${refused ? `, ${refused} refused` : ''})`;
      row(section, `${n} calls${shape}`, during, 'MiB', `+${round(during - idle, 1)} MiB`, `${round(perCall, 1)} KiB per admitted call`);
      measured.push({ n, answered, refused, during, perCallKiB: perCall });
      await settle(300);
    }
    // Bounded: past limit + queue, more calls cost (almost) nothing more: the growth with 4× that
    // many sent stays within 1.1× the growth with the queue just full.
    const atFull = measured[1]!.during - idle;
    const atMost = measured[2]!.during - idle;
    target(
      `memory per in-flight call; bounded past EZROUTER_MAX_CONCURRENCY + EZROUTER_MAX_QUEUE (${limit} + ${maxQueue})`,
      `${4 * full} sent ≤ 1.1 × the growth at ${full}`,
      `${round(measured[0]!.perCallKiB, 1)} KiB/call at ${limit} upstream; +${round(measured[0]!.during - idle, 1)} MiB at ${limit}, +${round(atFull, 1)} MiB at ${full}, +${round(atMost, 1)} MiB at ${4 * full} (${round(atMost / atFull, 2)}×)`,
      atMost <= 1.1 * atFull,
    );
    results['inflight'] = { idle, measured };
  } finally {
    await session.close();
  }
}

/**
 * The live JS heap of a server after each number of small calls in `marks`: node writes a heap
 * snapshot on SIGUSR2 (after a full GC); the sum of its nodes' self sizes is the live heap.
 */
async function liveHeapAfter(env: Record<string, string>, marks: number[]): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ezrouter-mcp-heap-'));
  const session = await startStdioServer(env, { nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] });
  const sizes: number[] = [];
  try {
    let calls = 0;
    for (const mark of marks) {
      while (calls < mark) {
        await session.call({ prompt: PROMPT, model: MODEL.openai, surface: 'openai' });
        calls++;
      }
      const before = new Set(readdirSync(dir));
      process.kill(session.pid, 'SIGUSR2');
      let snapshot: { snapshot: { meta: { node_fields: string[] } }; nodes: number[] } | undefined;
      for (let waited = 0; snapshot === undefined && waited < 30_000; waited += 100) {
        await settle(100);
        const file = readdirSync(dir).find((f) => !before.has(f));
        if (file === undefined) continue;
        try {
          snapshot = JSON.parse(readFileSync(join(dir, file), 'utf8')) as typeof snapshot;
        } catch {
          // Still being written.
        }
      }
      if (!snapshot) throw new Error('no heap snapshot');
      const fields = snapshot.snapshot.meta.node_fields;
      const selfSize = fields.indexOf('self_size');
      let bytes = 0;
      for (let i = selfSize; i < snapshot.nodes.length; i += fields.length) bytes += snapshot.nodes[i] as number;
      sizes.push(bytes / 1024 / 1024);
    }
  } finally {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return sizes;
}

// ---------------------------------------------------------------------------------------------
// 5. Concurrency: 64 calls in flight through one server.

async function concurrency(emu: HostedEmulator, readers: Readers, session: StdioSession): Promise<void> {
  const N = 64;
  const points = 4_000;
  const expected = answerText(points);
  const prepare = (): Promise<void> => emu.script({ kind: 'stream', chunkChars: CHUNK_CHARS }, { gen: { length: points }, times: N });
  const callArgs = { prompt: PROMPT, model: MODEL.openai, surface: 'openai', max_tokens: MAX_TOKENS };
  const all = async (one: () => Promise<string | undefined>): Promise<string | undefined> => {
    const texts = await Promise.all(Array.from({ length: N }, one));
    return texts.every((t) => t === expected) ? expected : 'mismatch';
  };
  const s = await interleaved(
    {
      direct: { prepare, run: () => all(() => readers.naive('openai')), check: expectText(expected) },
      mcp: {
        prepare,
        run: () => all(async () => ((await session.call(callArgs)).structuredContent as { text?: string } | undefined)?.text),
        check: expectText(expected),
      },
    },
    reps(5),
  );
  const section = `concurrency: ${N} calls in flight, ${points / CHUNK_CHARS} chunks each`;
  row(section, `${N} direct calls (undici + eventsource-parser + JSON.parse)`, s['direct']!.median, 'ms', '1×');
  row(section, `${N} complete calls through one stdio server`, s['mcp']!.median, 'ms', x(s['mcp']!.median, s['direct']!.median));
  results['concurrency'] = { calls: N, chunksEach: points / CHUNK_CHARS, ...s };
}

// ---------------------------------------------------------------------------------------------

function printTable(): void {
  let section = '';
  const lines: string[] = [];
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      lines.push('', `## ${section}`);
    }
    const value = `${round(r.median, r.median < 10 ? 2 : 1)} ${r.unit}`;
    lines.push(`  ${r.case.padEnd(74)} ${value.padStart(11)}  ${(r.ratio ?? '').padEnd(24)} ${r.note ?? ''}`);
  }
  lines.push('', '## targets');
  for (const t of targets) lines.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.target.padEnd(58)} goal ${t.goal.padEnd(34)} measured ${t.measured}`);
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  if (!existsSync(SERVER_ENTRY)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const started = performance.now();
  const info = machine();
  console.log(`ezrouter-mcp bench · ${info['date']} · ${info['nproc']} × ${info['cpu']} · node ${info['node']}${quick ? ' · quick' : ''}`);
  const emu = await startHostedEmulator();
  const readers = createReaders(emu.url, emu.apiKey);
  const replay = createReaders(emu.replayUrl, emu.apiKey);
  let session: StdioSession | undefined;
  try {
    if (want('throughput')) await throughput(emu, readers, replay);
    if (want('decode')) await decodeOnly(emu);
    if (want('e2e') || want('concurrency')) {
      session = await startStdioServer({ EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, EZROUTER_LOG_LEVEL: 'silent' });
    }
    if (want('e2e') && session) await endToEnd(emu, readers, session);
    if (want('overhead')) await overhead(emu);
    if (want('concurrency') && session) await concurrency(emu, readers, session);
    await session?.close();
    session = undefined;
    if (want('cold')) await coldStarts(emu);
    if (want('memory')) await memory(emu);
    if (want('idle')) await idleMemory(emu);
    if (want('inflight')) await inflightMemory(emu);
  } finally {
    await session?.close();
    await Promise.all([readers.close(), replay.close()]);
    await emu.close();
  }
  const seconds = round((performance.now() - started) / 1000, 1);
  printTable();
  console.log(`\n(${seconds} s)`);
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ machine: info, seconds, rows, targets, results }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
