/**
 * `ezrouter-mcp http` as a process, spawned from the built bin: one "listening on" line, a silent
 * stdout, SIGTERM draining calls in flight (or aborting them past EZROUTER_HTTP_DRAIN_MS),
 * SIGHUP re-reading the tokens file, and configuration errors exiting with status 2.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { waitFor } from './harness.js';
import { tokensFile } from './http-harness.js';

const BIN = join(import.meta.dirname, '..', 'dist', 'cli.js');
const TOKEN = 'process-token-0123456789abcdef0123';

let emulator: Emulator;
let child: ChildProcessWithoutNullStreams | undefined;
let clients: Client[] = [];
let cleanup: (() => void)[] = [];

beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  clients = [];
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  for (const fn of cleanup) fn();
  cleanup = [];
  await emulator.close();
});

interface Launched {
  proc: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the /mcp URL of the "listening on" line. */
  running(): Promise<{ url: string } & Omit<Launched, 'running'>>;
}

function launch(env: Record<string, string | undefined>, args: string[] = []): Launched {
  const proc = spawn(process.execPath, [BIN, 'http', '--port', '0', ...args], {
    env: {
      PATH: process.env['PATH'],
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      EZROUTER_IDLE_TIMEOUT_MS: '20000',
      EZROUTER_TIMEOUT_MS: '30000',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const launched: Launched = {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    running: async () => ({ ...launched, url: await waitFor(() => /listening on (http:\/\/\S+?)"/.exec(stderr)?.[1], 10_000) }),
  };
  return launched;
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'http-process-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  clients.push(client);
  return client;
}

function tokensEnv(): Record<string, string> {
  const file = tokensFile([{ principal: 'ops', token: TOKEN }]);
  cleanup.push(file.remove);
  return { EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: file.path };
}

describe('ezrouter-mcp http (spawned)', () => {
  it('prints one "listening on" line (JSON, on stderr), keeps stdout silent, serves, and stops on SIGTERM', async () => {
    const { proc, running } = launch(tokensEnv());
    const r = await running();
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = await connect(r.url);
    const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'hi', model: 'gpt-5.2' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    proc.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.stdout()).toBe('');
    const lines = r.stderr().trim().split('\n');
    expect(lines.filter((l) => l.includes('listening on'))).toHaveLength(1);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(r.stderr()).not.toContain(emulator.apiKey);
    expect(r.stderr()).not.toContain(TOKEN);
  });

  it('SIGTERM with calls in flight: stops accepting, lets them finish, then exits 0', async () => {
    const { proc, running } = launch({ ...tokensEnv(), EZROUTER_HTTP_DRAIN_MS: '10000' });
    const r = await running();
    const answer = 'd'.repeat(120);
    emulator.script({ kind: 'stream', text: answer, chunkChars: 3, frameDelayMs: 15 });
    emulator.script({ kind: 'stream', text: answer, chunkChars: 3, frameDelayMs: 15 });
    const a = await connect(r.url);
    const b = await connect(r.url);
    const calls = [
      a.callTool({ name: 'complete', arguments: { prompt: 'one', model: 'gpt-5.2' } }),
      b.callTool({ name: 'complete', arguments: { prompt: 'two', model: 'gpt-5.2' } }),
    ];
    await waitFor(() => (emulator.requests.filter((x) => x.path === '/v1/chat/completions').length === 2 ? true : undefined));
    proc.kill('SIGTERM');
    await waitFor(() => (r.stderr().includes('draining (SIGTERM)') ? true : undefined));
    // No new connection is accepted while draining.
    await expect(fetch(`${new URL(r.url).origin}/healthz`)).rejects.toThrow();
    const results = (await Promise.all(calls)) as CallToolResult[];
    for (const result of results) expect((result.structuredContent as { text: string }).text).toBe(answer);
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.stderr()).toContain('"msg":"stopped"');
    expect(r.stderr()).not.toContain('aborted');
  });

  it('SIGTERM past EZROUTER_HTTP_DRAIN_MS aborts the calls still in flight (their upstream sockets close) and exits 0', async () => {
    const { proc, running } = launch({ ...tokensEnv(), EZROUTER_HTTP_DRAIN_MS: '200' });
    const r = await running();
    emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 1, pingEveryMs: 50 });
    emulator.script({ kind: 'stall' });
    const client = await connect(r.url);
    const calls = [
      client.callTool({ name: 'complete', arguments: { prompt: 'one', model: 'gpt-5.2' } }).catch((e: unknown) => e),
      client.callTool({ name: 'complete', arguments: { prompt: 'two', model: 'gpt-5.2' } }).catch((e: unknown) => e),
    ];
    await waitFor(() => (emulator.requests.filter((x) => x.path === '/v1/chat/completions').length === 2 ? true : undefined));
    proc.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    const upstream = emulator.requests.filter((x) => x.path === '/v1/chat/completions');
    expect(await Promise.all(upstream.map((x) => x.closed))).toEqual([{ aborted: true }, { aborted: true }]);
    // The client hears it at once (a JSON-RPC error), rather than waiting on a closed stream.
    for (const outcome of await Promise.all(calls)) expect(String(outcome)).toMatch(/shutting down/);
    expect(r.stderr()).toMatch(/aborted 2 request\(s\) still in flight after 200 ms/);
  });

  it('SIGHUP re-reads the tokens file', async () => {
    const file = tokensFile([{ principal: 'ops', token: TOKEN }]);
    cleanup.push(file.remove);
    const { proc, running } = launch({ EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: file.path });
    const r = await running();
    const other = 'second-token-99999999999999999999';
    const ping = (token: string) =>
      fetch(r.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      }).then((res) => res.status);
    expect(await ping(other)).toBe(401);
    file.write([
      { principal: 'ops', token: TOKEN },
      { principal: 'second', token: other },
    ]);
    proc.kill('SIGHUP');
    await waitFor(() => (r.stderr().includes('tokens file reloaded (SIGHUP)') ? true : undefined));
    expect(await ping(other)).toBe(200);
    proc.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });

  it.each([
    [{}, /EZROUTER_HTTP_AUTH is not set/],
    [{ EZROUTER_HTTP_AUTH: 'oauth' }, /oauth needs EZROUTER_HTTP_OAUTH_ISSUER/],
    [{ EZROUTER_HTTP_AUTH: 'none', EZROUTER_HTTP_HOST: '0.0.0.0' }, /only on a loopback address/],
    [{ EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: '/nonexistent/tokens.json' }, /cannot be read \(ENOENT\)/],
  ])('a configuration error exits 2 with one line on stderr (%o)', async (env, message) => {
    const launched = launch(env);
    expect((await launched.exited).code).toBe(2);
    const lines = launched.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ezrouter-mcp: configuration error: /);
    expect(lines[0]).toMatch(message);
    expect(launched.stdout()).toBe('');
  });
});
