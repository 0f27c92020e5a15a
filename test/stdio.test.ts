/**
 * End to end over stdio: spawn the built `bin` exactly as an MCP client would, speak JSON-RPC
 * on its stdin/stdout, and check that stdout carries nothing else and that it exits promptly.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultReply, startEmulator, type Emulator } from '../src/emulator/index.js';
import { VERSION } from '../src/version.js';
import { waitFor } from './harness.js';

const BIN = join(import.meta.dirname, '..', 'dist', 'cli.js');
const PKG_VERSION = VERSION;

let emulator: Emulator;
let child: ChildProcessWithoutNullStreams | undefined;

beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await emulator.close();
});

function serverEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    EZROUTER_API_KEY: emulator.apiKey,
    EZROUTER_BASE_URL: emulator.url,
    EZROUTER_LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** A minimal line-oriented JSON-RPC peer that records every stdout line. */
function launch(env: NodeJS.ProcessEnv) {
  const proc = spawn(process.execPath, [BIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child = proc;
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  const waiting = new Map<number, (msg: Record<string, unknown>) => void>();
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (typeof msg['id'] === 'number') waiting.get(msg['id'])?.(msg);
      } catch {
        // Recorded in `lines`; the test asserts every line parses.
      }
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => (stderr += chunk));
  let nextId = 1;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    lines,
    exited,
    stderr: () => stderr,
    send: (msg: object) => proc.stdin.write(`${JSON.stringify(msg)}\n`),
    /** The reply to a request sent by hand. */
    reply(id: number): Promise<Record<string, unknown>> {
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    request(method: string, params: object = {}): Promise<Record<string, unknown>> {
      const id = nextId++;
      const reply = new Promise<Record<string, unknown>>((resolve) => waiting.set(id, resolve));
      proc.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      return reply;
    },
    async initialize() {
      const init = await this.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'stdio-test', version: '0' },
      });
      this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      return init;
    },
  };
}

describe('stdio server', () => {
  it('answers initialize, tools/list and complete; stdout carries only JSON-RPC; exits when stdin closes', async () => {
    const server = launch(serverEnv());
    const init = await server.initialize();
    expect(init['result']).toMatchObject({ serverInfo: { name: 'ezrouter-mcp', version: PKG_VERSION } });
    const list = await server.request('tools/list');
    expect(((list['result'] as { tools: { name: string }[] }).tools).map((t) => t.name).sort()).toEqual(['compare', 'complete', 'get_balance', 'list_models']);
    const call = await server.request('tools/call', {
      name: 'complete',
      arguments: { prompt: 'over stdio', model: 'claude-haiku-4-5' },
      _meta: { progressToken: 'p1' },
    });
    const result = call['result'] as { content: { text: string }[]; structuredContent: { surface: string } };
    expect(result.content[0]!.text).toBe(defaultReply('claude-haiku-4-5', 'over stdio'));
    expect(result.structuredContent.surface).toBe('anthropic');

    const closedAt = Date.now();
    server.proc.stdin.end();
    const exit = await server.exited;
    expect(Date.now() - closedAt).toBeLessThan(1000);
    expect(exit.code).toBe(0);
    expect(server.lines.length).toBeGreaterThanOrEqual(3);
    for (const line of server.lines) {
      const msg = JSON.parse(line) as Record<string, unknown>;
      expect(msg['jsonrpc']).toBe('2.0');
    }
    // Logs went to stderr, and never with the key.
    expect(server.stderr()).toMatch(/ready on stdio/);
    expect(server.stderr()).not.toContain(emulator.apiKey);
  });

  it('survives garbage on stdin and still answers a valid request', async () => {
    const server = launch(serverEnv());
    await server.initialize();
    server.proc.stdin.write('this is not json\n{"jsonrpc":"2.0","oops":\n\n[1,2,3]\n');
    const list = await server.request('tools/list');
    expect((list['result'] as { tools: unknown[] }).tools).toHaveLength(4);
    for (const line of server.lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('drops a 12 MB line on stdin instead of dying, and answers the next request', async () => {
    const server = launch(serverEnv());
    await server.initialize();
    const huge = `{"jsonrpc":"2.0","id":999,"method":"tools/call","params":{"name":"complete","arguments":{"prompt":"${'x'.repeat(12 * 1024 * 1024)}"}}}\n`;
    const answered = server.reply(999);
    server.proc.stdin.write(huge);
    // The dropped request itself is answered, so its caller does not hang.
    expect(await answered).toMatchObject({ id: 999, error: { code: -32600, message: expect.stringMatching(/Request too large/) } });
    const list = await server.request('tools/list');
    expect((list['result'] as { tools: unknown[] }).tools).toHaveLength(4);
    expect(server.proc.exitCode).toBeNull();
    expect(server.stderr()).toMatch(/dropped an input line of \d+ bytes/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s aborts the in-flight upstream request and exits within 1 s', async (signal) => {
    emulator.script({ kind: 'stall' });
    const server = launch(serverEnv());
    await server.initialize();
    void server.request('tools/call', { name: 'complete', arguments: { prompt: 'hang', model: 'gpt-5.2' } });
    const upstream = await waitFor(() => emulator.requests.find((r) => r.method === 'POST'));
    const sentAt = Date.now();
    server.proc.kill(signal);
    await server.exited;
    expect(Date.now() - sentAt).toBeLessThan(1000);
    expect((await upstream.closed).aborted).toBe(true);
  });

  it('works through the SDK client transport, without an API key', async () => {
    const env = serverEnv();
    delete env['EZROUTER_API_KEY'];
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN], env: env as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'sdk-stdio-test', version: '0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(4);
    const result = await client.callTool({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } });
    expect(result.isError).toBe(true);
    expect((result._meta as { error: { code: string } }).error.code).toBe('missing_api_key');
    expect(emulator.count()).toBe(0);
    await client.close();
  });
});

describe('command line', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] }) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const proc = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      proc.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('--version prints the package version to stdout and exits 0', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${PKG_VERSION}\n`, stderr: '' });
  });

  it('--help prints usage to stdout and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: ezrouter-mcp/);
    expect(r.stdout).toMatch(/EZROUTER_API_KEY/);
  });

  it('an unknown flag prints usage to stderr and exits 2', async () => {
    const r = await run(['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown argument: --frobnicate/);
    expect(r.stderr).toMatch(/Usage:/);
  });

  it.each([
    ['EZROUTER_TIMEOUT_MS', 'soon'],
    ['EZROUTER_BASE_URL', 'not a url'],
    ['EZROUTER_LOG_LEVEL', 'loud'],
  ])('a bad %s is named on stderr, exit 2', async (name, value) => {
    const r = await run([], { PATH: process.env['PATH'], [name]: value });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(name);
  });
});
