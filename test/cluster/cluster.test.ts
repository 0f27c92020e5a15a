/**
 * Two replicas (the built `dist/cli.js http`) sharing a real redis-server, behind a real nginx
 * running deploy/nginx.conf (only its ports and paths changed, plus one test-only location per
 * replica to pin a call to it), the emulator as the gateway; all on loopback. Every MCP request
 * goes through nginx, with the allowed hosts written as deploy/compose.yaml writes them, so the
 * example deployment is what runs here. Skipped, saying so, only when redis-server or nginx is
 * not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type RecordedRequest } from '../../src/emulator/index.js';
import { REPLICA_STOPPED } from '../../src/tasks/redis-task-store.js';
import { tokensFile } from '../http-harness.js';
import { freePort, redisBinary, startRedis, type RedisServer } from '../support/redis-server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const nginxBinary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);
const missing = [!redisBinary() && 'redis-server', !nginxBinary && 'nginx'].filter(Boolean);
if (missing.length > 0) process.stderr.write(`cluster suite: SKIPPED, not installed: ${missing.join(', ')} (apt-get install -y redis-server nginx)\n`);

const TOKEN = 'cluster-token-0123456789abcdef';
/** A second principal's token (its calls and jobs count against its own limits). */
const OTHER_TOKEN = 'cluster-token-other-0123456789ab';
/**
 * A crashed replica's jobs (and slots) are dropped this long after its last heartbeat: short
 * here, yet a live replica must miss two beats (2 s) before the others take it for dead, so a
 * loaded CI machine's stalls cannot fail the other tests.
 */
const LEASE_MS = 3_000;

interface Replica {
  proc: ChildProcess;
  /** Its own /readyz (probes need no Host check). */
  readyz: string;
  /** Through nginx, pinned to this replica. */
  url: string;
  stderr: () => string;
}

/** The allowed hosts as deploy/compose.yaml writes them (localhost:8080,127.0.0.1:8080), with this run's proxy port. */
function composeAllowedHosts(proxyPort: number): string {
  const compose = readFileSync(join(ROOT, 'deploy', 'compose.yaml'), 'utf8');
  const line = /EZROUTER_HTTP_ALLOWED_HOSTS: (.+)/.exec(compose)?.[1]?.trim();
  if (line !== 'localhost:8080,127.0.0.1:8080') throw new Error(`deploy/compose.yaml's EZROUTER_HTTP_ALLOWED_HOSTS changed (${line}): update the cluster suite`);
  return line.replaceAll(':8080', `:${proxyPort}`);
}

/** deploy/nginx.conf with this run's ports and paths; each edit must apply, or the suite says what drifted. */
function nginxConfig(dir: string, ports: { a: number; b: number; proxy: number }): string {
  let conf = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
  const edit = (from: string | RegExp, to: string | ((...m: string[]) => string)): void => {
    const next = conf.replace(from, to as string);
    if (next === conf) throw new Error(`deploy/nginx.conf has no ${String(from)} any more: update the cluster suite`);
    conf = next;
  };
  edit('server replica-a:8787', `server 127.0.0.1:${ports.a}`);
  edit('server replica-b:8787', `server 127.0.0.1:${ports.b}`);
  edit('listen 8080;', `listen 127.0.0.1:${ports.proxy};`);
  // Paths: nginx runs unprivileged in the foreground, everything in this run's directory.
  conf = `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n${conf}`;
  edit(/http \{\n/, `http {\n  access_log ${dir}/access.log;\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n`);
  // Test only: /replica-a/mcp and /replica-b/mcp, copies of `location /` sending to one replica.
  edit(/^( *)location \/ \{\n([\s\S]*?)^\1\}\n/m, (whole, indent = '', body = '') => {
    const pinned = (name: string, port: number): string => {
      if (!body.includes('proxy_pass http://replicas;')) throw new Error('deploy/nginx.conf: location / no longer proxies to replicas');
      return `${indent}location = /${name}/mcp {\n${body.replace('proxy_pass http://replicas;', `proxy_pass http://127.0.0.1:${port}/mcp;`)}${indent}}\n`;
    };
    return `${whole}${pinned('replica-a', ports.a)}${pinned('replica-b', ports.b)}`;
  });
  return conf;
}

async function startReplica(emulator: Emulator, redisUrl: string, tokens: string, port: number, proxyPort: number, name: string): Promise<Replica> {
  const proc = spawn(process.execPath, [CLI, 'http', '--port', String(port)], {
    env: {
      PATH: process.env['PATH'],
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      EZROUTER_HTTP_AUTH: 'tokens',
      EZROUTER_HTTP_TOKENS_FILE: tokens,
      EZROUTER_REDIS_URL: redisUrl,
      EZROUTER_REDIS_LEASE_MS: String(LEASE_MS),
      EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT: '2',
      EZROUTER_HTTP_ALLOWED_HOSTS: composeAllowedHosts(proxyPort),
      EZROUTER_TIMEOUT_MS: '30000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const end = Date.now() + 15_000;
  while (!stderr.includes('listening on')) {
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`replica did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, readyz: `http://127.0.0.1:${port}/readyz`, url: `http://127.0.0.1:${proxyPort}/${name}/mcp`, stderr: () => stderr };
}

interface Connected {
  client: Client;
  transport: StreamableHTTPClientTransport;
}

async function connect(url: string, options: { fetch?: typeof fetch; token?: string; name?: string } = {}): Promise<Connected> {
  const client = new Client({ name: options.name ?? 'codex-mcp-client', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${options.token ?? TOKEN}` } }, ...(options.fetch ? { fetch: options.fetch } : {}) });
  await client.connect(transport);
  return { client, transport };
}

/** Resolves with `work`, or rejects after `ms` (a hang guard, not a measurement). */
function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The `nth` upstream request for `model` among those after the first `since` recorded ones. */
async function upstreamFor(emulator: Emulator, model: string, since: number, nth = 1): Promise<RecordedRequest> {
  const find = () => emulator.requests.slice(since).filter((r) => (r.body as { model?: string } | undefined)?.model === model)[nth - 1];
  for (let i = 0; i < 200; i++) {
    const found = find();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no upstream request for ${model}`);
}

describe.skipIf(missing.length > 0)('cluster: two replicas, one Redis, nginx in front', () => {
  let emulator: Emulator;
  let redis: RedisServer;
  let dir: string;
  let nginx: ChildProcess | undefined;
  let a: Replica;
  let b: Replica;
  /** Round robin over both replicas, as deployed. */
  let proxy: string;
  const clients: Client[] = [];
  const open = async (url: string, options: { fetch?: typeof fetch; token?: string; name?: string } = {}): Promise<Connected> => {
    const c = await connect(url, options);
    clients.push(c.client);
    return c;
  };
  const call = (client: Client, args: Record<string, unknown>) => client.callTool({ name: 'complete', arguments: args }) as Promise<CallToolResult>;

  beforeAll(async () => {
    emulator = await startEmulator();
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'ezrouter-cluster-'));
    const tokens = tokensFile([
      { principal: 'team', token: TOKEN },
      { principal: 'jobs', token: OTHER_TOKEN },
    ]);
    const ports = { a: await freePort(), b: await freePort(), proxy: await freePort() };
    a = await startReplica(emulator, redis.url, tokens.path, ports.a, ports.proxy, 'replica-a');
    b = await startReplica(emulator, redis.url, tokens.path, ports.b, ports.proxy, 'replica-b');
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(dir, ports));
    nginx = spawn(nginxBinary!, ['-p', dir, '-c', conf], { stdio: 'ignore' });
    proxy = `http://127.0.0.1:${ports.proxy}/mcp`;
    const end = Date.now() + 10_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${ports.proxy}/healthz`).then((r) => r.ok).catch(() => false);
      if (ok) break;
      if (Date.now() > end) throw new Error('nginx did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    for (const r of [a, b]) r?.proc.kill('SIGKILL');
    nginx?.kill('SIGQUIT');
    await redis?.stop();
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a truncated answer produced on replica A is read whole through replica B and through the round robin', async () => {
    const long = 'word '.repeat(6000);
    emulator.script({ kind: 'stream', text: long }, { model: 'gpt-5.2' });
    const result = await call((await open(a.url)).client, { prompt: 'long', model: 'gpt-5.2' });
    const truncated = (result.structuredContent as { truncated?: { uri: string; total_chars: number } }).truncated;
    expect(truncated?.total_chars).toBe(long.length);
    for (const via of [b.url, proxy]) {
      const { client: reader } = await open(via);
      let text = '';
      let offset: number | undefined = 0;
      for (let i = 0; i < 100 && offset !== undefined; i++) {
        const page = await reader.readResource({ uri: `${truncated!.uri}?offset=${offset}` });
        const content = page.contents[0] as { text: string; _meta?: { next_offset?: number } };
        text += content.text;
        offset = content._meta?.next_offset;
      }
      expect(text).toBe(long);
    }
  });

  it('a background job started on replica B is collected on replica A', async () => {
    emulator.script({ kind: 'stream', text: 'the job answer', frameDelayMs: 100 }, { model: 'gpt-5.2' });
    const started = await call((await open(b.url)).client, { prompt: 'job', model: 'gpt-5.2', background: true });
    const id = (started.structuredContent as { job: { id: string } }).job.id;
    const collected = await call((await open(a.url)).client, { job_id: id });
    expect(collected.isError).toBeFalsy();
    expect((collected.structuredContent as { text: string }).text).toBe('the job answer');
  });

  it('a job cancelled through replica A stops the upstream request running on replica B', async () => {
    emulator.script({ kind: 'stream', text: 'x'.repeat(400), chunkChars: 1, frameDelayMs: 100 }, { model: 'gpt-5.2' });
    const before = emulator.requests.length;
    const started = await call((await open(b.url)).client, { prompt: 'cancel me', model: 'gpt-5.2', background: true });
    const id = (started.structuredContent as { job: { id: string } }).job.id;
    const upstream = await upstreamFor(emulator, 'gpt-5.2', before);
    const cancelled = await call((await open(a.url)).client, { job_id: id, cancel: true });
    expect((cancelled.structuredContent as { job: { status: string } }).job.status).toBe('cancelled');
    expect((await within(upstream.closed, 10_000, 'the upstream request closing')).aborted).toBe(true);
  });

  it('a plain call streaming on replica A, cancelled by the client with a POST that lands on replica B: A aborts the upstream request', async () => {
    emulator.script({ kind: 'stream', text: 'c'.repeat(400), chunkChars: 1, frameDelayMs: 100 }, { model: 'gpt-5.1' });
    // The client's own transport, sending its notifications/cancelled where round robin might: to B.
    const toB: typeof fetch = (url, init) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      return fetch(body.includes('"notifications/cancelled"') ? b.url : url, init);
    };
    const { client } = await open(a.url, { fetch: toB });
    const before = emulator.requests.length;
    const stop = new AbortController();
    const running = client.callTool({ name: 'complete', arguments: { prompt: 'cancel me', model: 'gpt-5.1' } }, undefined, { signal: stop.signal, timeout: 20_000 });
    const upstream = await upstreamFor(emulator, 'gpt-5.1', before);
    stop.abort('changed my mind');
    await expect(running).rejects.toThrow();
    // Without the relay, A never hears of the cancel and streams on for 40 s (billed).
    expect((await within(upstream.closed, 10_000, 'the upstream request closing')).aborted).toBe(true);
    // The replica's log reaches this process through a pipe: give it a moment.
    for (let i = 0; i < 40 && !a.stderr().includes('cancellation forwarded by another replica'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(a.stderr()).toContain('cancellation forwarded by another replica: call aborted');
  });

  it("a principal's client, named at initialize on replica A, gets its own budget for calls that land on replica B", async () => {
    // The job principal's client says it is Claude Desktop (150,000 bytes), through A only.
    await open(a.url, { token: OTHER_TOKEN, name: 'claude-ai' });
    const text = 'w'.repeat(60_000);
    emulator.script({ kind: 'stream', text, chunkChars: 1_000 }, { model: 'gpt-5.2' });
    // A call with no initialize before it, straight to B: the unknown client's budget (20,480 bytes) would cut it.
    const res = await fetch(b.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${OTHER_TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'complete', arguments: { prompt: 'long', model: 'gpt-5.2' } } }),
    });
    expect(res.status).toBe(200);
    const raw = await res.text();
    const message = (res.headers.get('content-type')?.includes('text/event-stream') ? raw.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)) : [raw])
      .map((m) => JSON.parse(m) as { id?: number; result?: CallToolResult })
      .find((m) => m.id === 7);
    const structured = message?.result?.structuredContent as { text?: string; truncated?: unknown } | undefined;
    expect(structured?.truncated).toBeUndefined();
    expect(structured?.text).toBe(text);
  });

  it('per-principal limits hold across replicas: two calls in flight on A, the third on B is refused (429)', async () => {
    for (let i = 0; i < 2; i++) emulator.script({ kind: 'stream', text: 'slow', chunkChars: 1, frameDelayMs: 400 }, { model: 'gpt-5.2' });
    const before = emulator.requests.length;
    const slow = [(await open(a.url)).client, (await open(a.url)).client].map((c) => call(c, { prompt: 'slow', model: 'gpt-5.2' }));
    await upstreamFor(emulator, 'gpt-5.2', before, 2);
    const refused = await fetch(b.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      // A call (listing methods take no slot, so a principal at its limit can still poll and cancel).
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'complete', arguments: { prompt: 'third', model: 'gpt-5.2' } } }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    await Promise.all(slow);
  });

  it('Redis restarted: calls needing it get store_unavailable meanwhile, plain calls go on, readiness stays 200 (degraded), and it recovers without restarting replicas', async () => {
    const readiness = async (r: Replica) => {
      const res = await fetch(r.readyz);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await readiness(a)).toEqual({ status: 200, body: { status: 'ready', store: 'ok', checked_at: expect.any(String) } });
    await redis.stop();
    const { client } = await open(proxy);
    const plain = await call(client, { prompt: 'still here', model: 'gpt-5.2' });
    expect(plain.isError).toBeFalsy();
    const job = await call(client, { prompt: 'job', model: 'gpt-5.2', background: true });
    expect(job.isError).toBe(true);
    expect((job._meta as { error?: { code?: string } } | undefined)?.error?.code).toBe('store_unavailable');
    for (const r of [a, b]) {
      // Every replica shares this Redis: 503 here would take them all out of the balancer at once.
      expect(await readiness(r)).toEqual({ status: 200, body: { status: 'degraded', store: 'unavailable', checked_at: expect.any(String) } });
    }
    await redis.start();
    let recovered = false;
    for (let i = 0; i < 100 && !recovered; i++) {
      const again = await call(client, { prompt: 'job', model: 'gpt-5.2', background: true });
      recovered = !again.isError;
      if (!recovered) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(true);
    for (const r of [a, b]) {
      for (let i = 0; i < 100 && (await readiness(r)).body['store'] !== 'ok'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await readiness(r)).toEqual({ status: 200, body: { status: 'ready', store: 'ok', checked_at: expect.any(String) } });
    }
  });

  it('replica A killed mid-stream: its call fails at once on the client (SSE disconnect), a call streaming on B completes, A\'s job reads as failed, later calls go on', async () => {
    emulator.script({ kind: 'stream', text: 'y'.repeat(200), chunkChars: 1, frameDelayMs: 100 }, { model: 'claude-sonnet-4-6' });
    emulator.script({ kind: 'stream', text: 'z'.repeat(30), chunkChars: 1, frameDelayMs: 100 }, { model: 'gpt-5.2-mini' });
    emulator.script({ kind: 'stream', text: 'j'.repeat(300), chunkChars: 1, frameDelayMs: 100 }, { model: 'deepseek-v4-flash' });
    const before = emulator.requests.length;
    const doomed = await open(a.url);
    let disconnected: (error: Error) => void = () => {};
    const disconnect = new Promise<Error>((resolve) => (disconnected = resolve));
    doomed.transport.onerror = (error) => disconnected(error);
    const { client: other } = await open(b.url);
    // The job is another principal's: a running job holds one of its principal's two slots.
    const { client: jobs } = await open(a.url, { token: OTHER_TOKEN });
    const job = await call(jobs, { prompt: 'job on A', model: 'deepseek-v4-flash', background: true });
    const jobId = (job.structuredContent as { job: { id: string } }).job.id;
    // The client timeout is a hang guard only: the SDK 1.x client leaves a request whose SSE
    // stream broke pending until it (typescript-sdk#2739); the disconnect itself is reported at once.
    const doomedCall = call(doomed.client, { prompt: 'doomed', model: 'claude-sonnet-4-6' }).then(
      (result) => `answered: ${JSON.stringify(result).slice(0, 200)}`,
      (error: unknown) => `failed: ${(error as Error).message}`,
    );
    const survivorCall = call(other, { prompt: 'survivor', model: 'gpt-5.2-mini' });
    await upstreamFor(emulator, 'claude-sonnet-4-6', before);
    await upstreamFor(emulator, 'gpt-5.2-mini', before);
    await upstreamFor(emulator, 'deepseek-v4-flash', before);
    a.proc.kill('SIGKILL');
    const error = await within(disconnect, 2_000, 'the client reporting the broken stream');
    expect(error.message).toMatch(/SSE stream disconnected/);
    const survivor = await within(survivorCall, 15_000, 'the call on B');
    expect(survivor.isError).toBeFalsy();
    expect((survivor.structuredContent as { text: string }).text).toBe('z'.repeat(30));
    await doomed.client.close();
    expect(await within(doomedCall, 2_000, 'the doomed call settling once its client closes')).toMatch(/^failed/);
    const { client: after } = await open(proxy);
    const { client: jobsAfter } = await open(proxy, { token: OTHER_TOKEN });
    const lost = await within(call(jobsAfter, { job_id: jobId }), 15_000, 'collecting the job of the dead replica');
    expect(lost.isError).toBe(true);
    expect(JSON.stringify(lost.content)).toContain(REPLICA_STOPPED);
    // The doomed call's slot died with A: once A's lease is gone it no longer counts, so the
    // principal has both its slots again (two at once), not after the 30 s call deadline.
    for (let i = 0; i < 2; i++) emulator.script({ kind: 'stream', text: 'both', chunkChars: 1, frameDelayMs: 300 }, { model: 'gpt-5.2' });
    const [x, y] = await within(Promise.all([call(after, { prompt: 'after x', model: 'gpt-5.2' }), call(after, { prompt: 'after y', model: 'gpt-5.2' })]), 15_000, 'two calls at once after the kill');
    for (const r of [x, y]) expect(r.isError, JSON.stringify(r.content).slice(0, 200)).toBeFalsy();
    for (let i = 0; i < 4; i++) {
      const ok = await call(after, { prompt: `after ${i}`, model: 'gpt-5.2' });
      expect(ok.isError).toBeFalsy();
    }
  });
});
