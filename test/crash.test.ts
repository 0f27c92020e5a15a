/**
 * Crash output passes the redactor: the real built CLI (dist/cli.js), stdio and HTTP mode, fails
 * with an unhandled rejection or an uncaught exception whose message holds the key (a test-only
 * trigger, test/support/crash-preload.mjs, loaded with `node --import`). Without the crash
 * handlers Node prints that message, and the stack, unredacted.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tokensFile } from './http-harness.js';
import { expectNoFragment, keyFragments } from './support/key-fragments.js';

const BIN = join(import.meta.dirname, '..', 'dist', 'cli.js');
const PRELOAD = join(import.meta.dirname, 'support', 'crash-preload.mjs');
const KEY = 'sk-cr4sh+Key/with=0123456789abcdefABCDEF';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts the CLI, waits until stderr shows `ready`, sends SIGUSR2, resolves with how it ended. */
function crashAfterStart(args: string[], crash: 'reject' | 'throw', ready: RegExp, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env['PATH'] ?? '', EZROUTER_API_KEY: KEY, EZROUTER_BASE_URL: 'http://127.0.0.1:9', EZROUTER_TEST_CRASH: crash, EZROUTER_HTTP_PORT: '0', EZROUTER_HTTP_AUTH: 'none', ...extraEnv };
    const child = spawn(process.execPath, ['--import', PRELOAD, BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      if (!signalled && ready.test(stderr)) {
        signalled = true;
        child.kill('SIGUSR2');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a crash is one redacted line through the logger, then exit 1', () => {
  const fragments = keyFragments(KEY);

  for (const crash of ['reject', 'throw'] as const) {
    it(`stdio server: ${crash === 'reject' ? 'an unhandled rejection' : 'an uncaught exception'} with the key in its message`, async () => {
      const r = await crashAfterStart([], crash, /ready on stdio/);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const fatal = r.stderr.split('\n').filter((l) => l.includes('fatal'));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toMatch(crash === 'reject' ? /error: fatal: unhandled promise rejection/ : /error: fatal: uncaught exception/);
      expect(fatal[0]).toContain('dependency bug while holding [redacted]');
      // No stack printed by Node itself.
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expectNoFragment('stderr', r.stderr, fragments);
    });
  }

  it('HTTP server: an unhandled rejection is one JSON line, redacted', async () => {
    const r = await crashAfterStart(['http'], 'reject', /listening on/);
    expect(r.code).toBe(1);
    const fatal = r.stderr
      .split('\n')
      .filter((l) => l.includes('fatal'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(fatal).toEqual([expect.objectContaining({ level: 'error', msg: 'fatal: unhandled promise rejection', error: 'Error: dependency bug while holding [redacted]' })]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expectNoFragment('stderr', r.stderr, fragments);
  });

  it("HTTP server in tokens mode: a principal's key from the tokens file is redacted from the crash line too", async () => {
    const principalKey = 'sk-principal+Key/0123456789abcdefABCDEF';
    const file = tokensFile([{ principal: 'alice', token: 'alice-token-0123456789abcdef0123', api_key: principalKey }]);
    try {
      const r = await crashAfterStart(['http'], 'reject', /listening on/, { EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: file.path, EZROUTER_TEST_CRASH_SECRET: principalKey });
      expect(r.code).toBe(1);
      const fatal = r.stderr.split('\n').filter((l) => l.includes('fatal')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(fatal).toEqual([expect.objectContaining({ msg: 'fatal: unhandled promise rejection', error: 'Error: dependency bug while holding [redacted] and [redacted]' })]);
      expectNoFragment('stderr', r.stderr, keyFragments(principalKey));
      expectNoFragment('stderr', r.stderr, fragments);
    } finally {
      file.remove();
    }
  });

  it('EZROUTER_LOG_LEVEL=silent: the process still says that it died (never with what), exit 1', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const env = { PATH: process.env['PATH'] ?? '', EZROUTER_API_KEY: KEY, EZROUTER_BASE_URL: 'http://127.0.0.1:9', EZROUTER_TEST_CRASH: 'reject', EZROUTER_LOG_LEVEL: 'silent' };
      const child = spawn(process.execPath, ['--import', PRELOAD, BIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      // Nothing on stderr at silent: the answer to initialize says the server is up.
      child.stdout.once('data', () => child.kill('SIGUSR2'));
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`);
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ezrouter-mcp: fatal: unhandled promise rejection\n');
    expectNoFragment('stderr', r.stderr, fragments);
  });
});
