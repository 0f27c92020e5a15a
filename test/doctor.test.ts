/**
 * `ezrouter-mcp doctor` against the emulator: a good key, a wrong key, an unreachable host, a
 * missing key, a bad value, and the warnings (no balance endpoint, unknown default model). The
 * report never contains the key. In process for the details, spawned for exit codes and streams.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DOCTOR_USAGE, parseArgs } from '../src/args.js';
import { checkConfiguration } from '../src/commands/doctor/checks.js';
import { runDoctor } from '../src/commands/doctor/doctor.js';
import { loadConfig } from '../src/config.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { maskKey } from '../src/redact.js';

const BIN = join(import.meta.dirname, '..', 'dist', 'cli.js');

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    EZROUTER_API_KEY: emulator.apiKey,
    EZROUTER_BASE_URL: emulator.url,
    EZROUTER_IDLE_TIMEOUT_MS: '2000',
    EZROUTER_MAX_RETRIES: '0',
    ...extra,
  };
}

async function doctor(extra: Record<string, string | undefined> = {}): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runDoctor({ env: env(extra), write: (text) => (out += text), retryBaseDelayMs: 5 });
  return { code, out };
}

/** The `[status] title` line of one check. */
function line(out: string, title: string): string {
  const found = out.split('\n').find((l) => l.slice(7).startsWith(title));
  if (!found) throw new Error(`no "${title}" line in:\n${out}`);
  return found;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function runCli(args: string[], childEnv: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'], ...childEnv } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe('doctor', () => {
  it('with a good key: every check passes, timed, and it exits 0', async () => {
    const { code, out } = await doctor();
    expect(code).toBe(0);
    expect(line(out, 'configuration')).toMatch(/^\[ ok \] configuration +key sk-…cdef, gateway http:\/\/127\.0\.0\.1:\d+ \(\d+ ms\)$/);
    expect(line(out, 'gateway')).toMatch(/^\[ ok \] gateway +http:\/\/127\.0\.0\.1:\d+ answered \(HTTP 401 .*\) \(\d+ ms\)$/);
    expect(out).toContain('plain HTTP (no TLS), direct (no proxy configured)');
    expect(line(out, 'API key')).toMatch(/^\[ ok \] API key +accepted by GET \/v1\/models \(\d+ ms\)$/);
    expect(line(out, 'model catalog')).toMatch(/^\[ ok \] model catalog +11 models \(3 also on the Anthropic surface\)$/);
    expect(line(out, 'balance')).toMatch(/^\[ ok \] balance +42\.5 USD \(\d+ ms\)$/);
    expect(out).toMatch(/\nVerdict: READY - ezrouter-mcp can reach ezrouter and the key works \(total \d+ ms\)\.\n$/);
    expect(out).not.toContain(emulator.apiKey);
    expect(out).toContain(maskKey(emulator.apiKey));
    // One unauthenticated probe, then the key check and the balance: nothing else, no completion.
    expect(emulator.requests.map((r) => `${r.method} ${r.path} ${r.headers['authorization'] ? 'auth' : 'anon'}`)).toEqual([
      'GET /v1/models anon',
      'GET /v1/models auth',
      'GET /v1/user/balance auth',
    ]);
  });

  it('with a wrong key: the key check fails with invalid_api_key, later checks are skipped, exit 1, key never shown', async () => {
    const wrong = 'sk-wrong0123456789wrong0123456789';
    const { code, out } = await doctor({ EZROUTER_API_KEY: wrong });
    expect(code).toBe(1);
    expect(line(out, 'gateway')).toMatch(/^\[ ok \]/);
    expect(line(out, 'API key')).toMatch(/^\[FAIL\] API key +invalid_api_key \(HTTP 401\) \(\d+ ms\)$/);
    expect(out).toContain('ezrouter rejected the API key: check EZROUTER_API_KEY');
    expect(out).toMatch(/request id: \w+/);
    expect(line(out, 'model catalog')).toMatch(/^\[skip\]/);
    expect(line(out, 'balance')).toMatch(/^\[skip\]/);
    expect(out).toMatch(/Verdict: NOT READY - 1 check failed/);
    // The emulator echoes the key it got in its 401 message: the report must not.
    expect(out).not.toContain(wrong);
    expect(out).not.toContain(wrong.slice(3, 20));
  });

  it('with an unreachable host: the gateway check fails with network wording, exit 1, no retries', async () => {
    const port = await closedPort();
    const started = Date.now();
    const { code, out } = await doctor({ EZROUTER_BASE_URL: `http://127.0.0.1:${port}`, EZROUTER_MAX_RETRIES: '2' });
    expect(code).toBe(1);
    expect(line(out, 'gateway')).toMatch(
      new RegExp(`^\\[FAIL\\] gateway +Could not reach ezrouter at http://127\\.0\\.0\\.1:${port}/v1/models \\(ECONNREFUSED\\): check the network`),
    );
    for (const title of ['API key', 'model catalog', 'balance']) {
      expect(line(out, title)).toMatch(/^\[skip\] .*skipped: the gateway is unreachable$/);
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('without a key: configuration fails but the gateway is still checked', async () => {
    const { code, out } = await doctor({ EZROUTER_API_KEY: undefined });
    expect(code).toBe(1);
    expect(line(out, 'configuration')).toMatch(/^\[FAIL\] configuration +EZROUTER_API_KEY is not set/);
    expect(line(out, 'gateway')).toMatch(/^\[ ok \]/);
    expect(line(out, 'API key')).toMatch(/skipped: no API key$/);
    expect(emulator.count('/v1/models')).toBe(1);
  });

  it('with an invalid value: names the variable and exits 2 without touching the network', async () => {
    const { code, out } = await doctor({ EZROUTER_TIMEOUT_MS: 'soon' });
    expect(code).toBe(2);
    expect(line(out, 'configuration')).toMatch(/^\[FAIL\] configuration +EZROUTER_TIMEOUT_MS must be a whole number of milliseconds \(got "soon"\)/);
    expect(out).toMatch(/Verdict: NOT READY - a configuration value is invalid/);
    expect(emulator.requests).toHaveLength(0);
  });

  it('a gateway without a balance endpoint is a warning, not a failure (exit 0)', async () => {
    emulator.setBalance(null);
    const { code, out } = await doctor();
    expect(code).toBe(0);
    expect(line(out, 'balance')).toMatch(/^\[warn\] balance +not_supported \(HTTP 404\)/);
    expect(out).toContain('does not offer a balance endpoint');
    expect(out).toMatch(/Verdict: READY, with 1 warning/);
  });

  it('warns about an empty balance, an unrecognised balance shape, and a default model missing from the catalog', async () => {
    emulator.setBalance({ data: { balance: 0, currency: 'USD' } });
    let { code, out } = await doctor({ EZROUTER_DEFAULT_MODEL: 'claude-sonet-4-6' });
    expect(code).toBe(0);
    expect(line(out, 'balance')).toMatch(/^\[warn\] balance +0 USD/);
    expect(out).toContain('insufficient_balance');
    expect(line(out, 'model catalog')).toMatch(/^\[warn\]/);
    expect(out).toContain('EZROUTER_DEFAULT_MODEL "claude-sonet-4-6" is not in the catalog; closest: claude-sonnet-4-6');
    expect(out).toMatch(/with 2 warnings/);

    emulator.setBalance({ quota: 'plenty' });
    ({ code, out } = await doctor({ EZROUTER_DEFAULT_MODEL: 'gpt-5.2' }));
    expect(code).toBe(0);
    expect(line(out, 'balance')).toMatch(/^\[warn\] balance +the gateway answered in a shape this server does not recognise/);
    expect(out).toContain('raw: {"quota":"plenty"}');
    expect(out).toContain('default model gpt-5.2 is in the catalog');
  });

  it('reports a failing catalog endpoint with its code and status', async () => {
    const failure = { kind: 'error', status: 500, body: { error: { code: '', message: 'upstream exploded', type: 'upstream_error' } } } as const;
    emulator.script(failure, { path: '/v1/models' }); // the anonymous probe: still an answer
    emulator.script(failure, { path: '/v1/models' });
    const { code, out } = await doctor();
    expect(code).toBe(1);
    expect(line(out, 'gateway')).toMatch(/^\[warn\] gateway .*HTTP 500/);
    expect(out).toContain('An ezrouter gateway answers 401 or 200 here');
    expect(line(out, 'API key')).toMatch(/^\[FAIL\] API key +upstream_error \(HTTP 500\)/);
    expect(out).toContain('ezrouter said: upstream exploded');
  });

  it('flags common key mistakes and plain http to a remote host as warnings', async () => {
    const { out } = await doctor({ EZROUTER_API_KEY: `Bearer ${emulator.apiKey}` });
    expect(line(out, 'configuration')).toMatch(/^\[warn\]/);
    expect(out).toContain('EZROUTER_API_KEY starts with "Bearer "');
    expect(out).not.toContain(emulator.apiKey);

    const check = (vars: Record<string, string>) => checkConfiguration(loadConfig(vars));
    expect(check({ EZROUTER_API_KEY: '"sk-0123456789abcdef"' }).details?.[0]).toMatch(/quote characters/);
    expect(check({ EZROUTER_API_KEY: 'sk-0123 456789abcdef' }).details?.[0]).toMatch(/whitespace/);
    expect(check({ EZROUTER_API_KEY: 'key-0123456789abcdef' }).details?.[0]).toMatch(/does not look like an ezrouter key/);
    const remote = check({ EZROUTER_API_KEY: 'sk-0123456789abcdef', EZROUTER_BASE_URL: 'http://gateway.example.com' });
    expect(remote.status).toBe('warn');
    expect(remote.details?.[0]).toMatch(/plain http:\/\/ to gateway\.example\.com: the key travels unencrypted/);
    expect(check({ EZROUTER_API_KEY: 'sk-0123456789abcdef' }).status).toBe('ok');
  });
});

describe('doctor on the command line', () => {
  it('prints the report on stdout with exit 0 / 1 / 2, nothing on stderr', async () => {
    const good = await runCli(['doctor'], env());
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^ezrouter-mcp doctor \d+\.\d+\.\d+ \(node v\d+/);
    expect(good.stdout).toMatch(/Verdict: READY/);
    expect(good.stderr).toBe('');
    expect(good.stdout).not.toContain(emulator.apiKey);

    const wrong = await runCli(['doctor'], env({ EZROUTER_API_KEY: 'sk-nopenopenopenopenope' }));
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/\[FAIL\] API key +invalid_api_key/);

    const bad = await runCli(['doctor', '--idle-timeout-ms', 'x'], env());
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/EZROUTER_IDLE_TIMEOUT_MS/);
  });

  it('takes the server flags, and --help', async () => {
    const flagged = await runCli(['doctor', `--base-url=${emulator.url}`], { EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: 'http://127.0.0.1:9' });
    expect(flagged.code).toBe(0);
    const help = await runCli(['doctor', '--help'], {});
    expect(help).toEqual({ code: 0, stdout: DOCTOR_USAGE, stderr: '' });
    const unknown = await runCli(['doctor', '--frobnicate'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown argument: --frobnicate[\s\S]*Usage: ezrouter-mcp doctor/);
  });

  it('parseArgs: doctor with flags, errors carry the doctor usage', () => {
    expect(parseArgs(['doctor'])).toEqual({ kind: 'doctor', overrides: {} });
    expect(parseArgs(['doctor', '--base-url', 'http://x'])).toEqual({ kind: 'doctor', overrides: { EZROUTER_BASE_URL: 'http://x' } });
    expect(parseArgs(['doctor', '--nope'])).toEqual({ kind: 'error', message: 'unknown argument: --nope', usage: DOCTOR_USAGE });
    expect(parseArgs([])).toEqual({ kind: 'serve', overrides: {} });
    expect(parseArgs(['doctors'])).toMatchObject({ kind: 'error' });
  });
});
