/**
 * Two replicas (the built `dist/cli.js http`) sharing a real redis-server, behind a real nginx
 * (round robin, proxy_buffering off for SSE), the emulator as the gateway; all on loopback.
 * Skipped, saying so, only when redis-server or nginx is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { tokensFile } from '../http-harness.js';
import { freePort, redisBinary, startRedis, type RedisServer } from '../support/redis-server.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const nginxBinary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);
const missing = [!redisBinary() && 'redis-server', !nginxBinary && 'nginx'].filter(Boolean);
if (missing.length > 0) process.stderr.write(`cluster suite: SKIPPED, not installed: ${missing.join(', ')} (apt-get install -y redis-server nginx)\n`);

const TOKEN = 'cluster-token-0123456789abcdef';

interface Replica {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
}

async function startReplica(emulator: Emulator, redisUrl: string, tokens: string, port: number): Promise<Replica> {
  const proc = spawn(process.execPath, [CLI, 'http', '--port', String(port)], {
    env: {
      PATH: process.env['PATH'],
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      EZROUTER_HTTP_AUTH: 'tokens',
      EZROUTER_HTTP_TOKENS_FILE: tokens,
      EZROUTER_REDIS_URL: redisUrl,
      EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT: '2',
      EZROUTER_HTTP_ALLOWED_HOSTS: '127.0.0.1,localhost',
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
  return { proc, url: `http://127.0.0.1:${port}/mcp`, stderr: () => stderr };
}

async function connect(url: string, name = 'codex-mcp-client'): Promise<Client> {
  const client = new Client({ name, version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  return client;
}

describe.skipIf(missing.length > 0)('cluster: two replicas, one Redis, nginx in front', () => {
  let emulator: Emulator;
  let redis: RedisServer;
  let dir: string;
  let nginx: ChildProcess | undefined;
  let a: Replica;
  let b: Replica;
  let proxy: string;
  const clients: Client[] = [];
  const open = async (url: string): Promise<Client> => {
    const c = await connect(url);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    emulator = await startEmulator();
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'ezrouter-cluster-'));
    const tokens = tokensFile([{ principal: 'team', token: TOKEN }]);
    const [portA, portB, portProxy] = [await freePort(), await freePort(), await freePort()];
    a = await startReplica(emulator, redis.url, tokens.path, portA);
    b = await startReplica(emulator, redis.url, tokens.path, portB);
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 256; }\nhttp {\n  access_log ${dir}/access.log;\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n  upstream replicas { server 127.0.0.1:${portA} max_fails=1 fail_timeout=2s; server 127.0.0.1:${portB} max_fails=1 fail_timeout=2s; }\n  server {\n    listen 127.0.0.1:${portProxy};\n    location / {\n      proxy_pass http://replicas;\n      proxy_http_version 1.1;\n      proxy_set_header Host $host;\n      proxy_set_header Connection "";\n      proxy_buffering off;\n      proxy_read_timeout 120s;\n    }\n  }\n}\n`,
    );
    nginx = spawn(nginxBinary!, ['-p', dir, '-c', conf], { stdio: 'ignore' });
    proxy = `http://127.0.0.1:${portProxy}/mcp`;
    const end = Date.now() + 10_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${portProxy}/healthz`).then((r) => r.ok).catch(() => false);
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

  it('a truncated answer produced on replica A is read whole through replica B (and through nginx)', async () => {
    const long = 'word '.repeat(6000);
    emulator.script({ kind: 'stream', text: long }, { model: 'gpt-5.2' });
    const result = (await (await open(a.url)).callTool({ name: 'complete', arguments: { prompt: 'long', model: 'gpt-5.2' } })) as CallToolResult;
    const truncated = (result.structuredContent as { truncated?: { uri: string; total_chars: number } }).truncated;
    expect(truncated?.total_chars).toBe(long.length);
    for (const via of [b.url, proxy]) {
      const reader = await open(via);
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
    const started = (await (await open(b.url)).callTool({ name: 'complete', arguments: { prompt: 'job', model: 'gpt-5.2', background: true } })) as CallToolResult;
    const id = (started.structuredContent as { job: { id: string } }).job.id;
    const collected = (await (await open(a.url)).callTool({ name: 'complete', arguments: { job_id: id } })) as CallToolResult;
    expect(collected.isError).toBeFalsy();
    expect((collected.structuredContent as { text: string }).text).toBe('the job answer');
  });

  it('a job cancelled through replica A stops the upstream request running on replica B', async () => {
    emulator.script({ kind: 'stream', text: 'x'.repeat(400), chunkChars: 1, frameDelayMs: 100 }, { model: 'gpt-5.2' });
    const before = emulator.requests.length;
    const started = (await (await open(b.url)).callTool({ name: 'complete', arguments: { prompt: 'cancel me', model: 'gpt-5.2', background: true } })) as CallToolResult;
    const id = (started.structuredContent as { job: { id: string } }).job.id;
    let upstream = emulator.requests.slice(before).find((r) => r.path === '/v1/chat/completions');
    for (let i = 0; i < 100 && !upstream; i++) {
      await new Promise((r) => setTimeout(r, 50));
      upstream = emulator.requests.slice(before).find((r) => r.path === '/v1/chat/completions');
    }
    expect(upstream).toBeDefined();
    const cancelled = (await (await open(a.url)).callTool({ name: 'complete', arguments: { job_id: id, cancel: true } })) as CallToolResult;
    expect((cancelled.structuredContent as { job: { status: string } }).job.status).toBe('cancelled');
    expect((await upstream!.closed).aborted).toBe(true);
  });

  it('per-principal limits hold across replicas: two calls in flight on A, the third on B is refused (429)', async () => {
    for (let i = 0; i < 2; i++) emulator.script({ kind: 'stream', text: 'slow', chunkChars: 1, frameDelayMs: 400 }, { model: 'gpt-5.2' });
    const slow = [await open(a.url), await open(a.url)].map((c) => c.callTool({ name: 'complete', arguments: { prompt: 'slow', model: 'gpt-5.2' } }));
    await new Promise((r) => setTimeout(r, 500));
    const refused = await fetch(b.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    await Promise.all(slow);
  });

  it('Redis restarted: calls needing it get store_unavailable meanwhile, plain calls go on, and it recovers without restarting replicas', async () => {
    await redis.stop();
    const client = await open(proxy);
    const plain = (await client.callTool({ name: 'complete', arguments: { prompt: 'still here', model: 'gpt-5.2' } })) as CallToolResult;
    expect(plain.isError).toBeFalsy();
    const job = (await client.callTool({ name: 'complete', arguments: { prompt: 'job', model: 'gpt-5.2', background: true } })) as CallToolResult;
    expect(job.isError).toBe(true);
    expect(JSON.stringify(job)).toContain('store_unavailable');
    const ready = await fetch(a.url.replace('/mcp', '/readyz'));
    expect([503, 200]).toContain(ready.status);
    await redis.start();
    let recovered = false;
    for (let i = 0; i < 100 && !recovered; i++) {
      const again = (await client.callTool({ name: 'complete', arguments: { prompt: 'job', model: 'gpt-5.2', background: true } })) as CallToolResult;
      recovered = !again.isError;
      if (!recovered) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(true);
  });

  it('replica A killed mid-stream: that call fails cleanly, other calls through nginx go on', async () => {
    emulator.script({ kind: 'stream', text: 'y'.repeat(200), chunkChars: 1, frameDelayMs: 100 }, { model: 'claude-sonnet-4-6' });
    const doomed = (await open(a.url)).callTool({ name: 'complete', arguments: { prompt: 'doomed', model: 'claude-sonnet-4-6' } }, undefined, { timeout: 5_000 }).then(
      (result) => ((result as CallToolResult).isError ? `failed: ${JSON.stringify(result).slice(0, 200)}` : `answered: ${JSON.stringify(result).slice(0, 200)}`),
      (error: unknown) => `failed: ${(error as Error).message}`,
    );
    await new Promise((r) => setTimeout(r, 500));
    a.proc.kill('SIGKILL');
    expect(await doomed).toMatch(/^failed/);
    const survivor = await open(proxy);
    for (let i = 0; i < 4; i++) {
      const ok = (await survivor.callTool({ name: 'complete', arguments: { prompt: `after ${i}`, model: 'gpt-5.2' } })) as CallToolResult;
      expect(ok.isError).toBeFalsy();
    }
  });
});
