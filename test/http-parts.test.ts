/** The HTTP mode's pure parts: its configuration, the guards, the limits, cancellation, the JSON log, keyed catalogs. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { startEmulator } from '../src/emulator/index.js';
import { EzrouterClient } from '../src/ezrouter/client.js';
import { EzrouterError } from '../src/ezrouter/errors.js';
import { createLogger, silentLogger } from '../src/log.js';
import { createRedactor } from '../src/redact.js';
import { InFlightCalls } from '../src/transports/http/cancellations.js';
import { hostAllowed, originAllowed } from '../src/transports/http/guards.js';
import { loadHttpConfig } from '../src/transports/http/http-config.js';
import { InFlightGate, InMemoryLimits } from '../src/transports/http/limits.js';
import { inspectMessages } from '../src/transports/http/mcp-exchange.js';

const configError = (env: Record<string, string>): string => {
  try {
    loadHttpConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('HTTP configuration', () => {
  it('has the documented defaults, and no default auth mode', () => {
    const config = loadHttpConfig({ EZROUTER_HTTP_AUTH: 'byok' });
    expect(config).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      auth: 'byok',
      allowedHosts: [
        { hostname: '127.0.0.1', port: undefined },
        { hostname: 'localhost', port: undefined },
      ],
      allowedOrigins: [],
      maxBodyBytes: 4 * 1024 * 1024,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      drainMs: 25_000,
      maxInFlight: 256,
      principalMaxInFlight: 16,
      principalRatePerMinute: 300,
    });
    expect(configError({})).toMatch(/^EZROUTER_HTTP_AUTH is not set: the HTTP mode never starts open/);
    // Every mode is offered, oauth included.
    expect(configError({})).toMatch(/tokens .*byok .*oauth .*none/);
  });

  it('a tokens file alone means tokens mode; tokens without a file, or a file with another mode, is an error', () => {
    expect(loadHttpConfig({ EZROUTER_HTTP_TOKENS_FILE: '/etc/ezrouter/tokens.json' }).auth).toBe('tokens');
    expect(configError({ EZROUTER_HTTP_AUTH: 'tokens' })).toMatch(/needs EZROUTER_HTTP_TOKENS_FILE/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_TOKENS_FILE: '/x' })).toMatch(/unset one of them/);
  });

  it('oauth needs its issuer and audience; an unknown mode names the choices', () => {
    expect(configError({ EZROUTER_HTTP_AUTH: 'oauth' })).toMatch(/oauth needs EZROUTER_HTTP_OAUTH_ISSUER/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'open' })).toMatch(/EZROUTER_HTTP_AUTH must be one of tokens, byok, oauth, none \(got "open"\)/);
  });

  it('none is refused off loopback', () => {
    expect(configError({ EZROUTER_HTTP_AUTH: 'none', EZROUTER_HTTP_HOST: '0.0.0.0' })).toMatch(/only on a loopback address/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'none', EZROUTER_HTTP_HOST: '192.168.1.4' })).toMatch(/only on a loopback address/);
    expect(loadHttpConfig({ EZROUTER_HTTP_AUTH: 'none', EZROUTER_HTTP_HOST: '::1' }).allowedHosts.map((h) => h.hostname)).toEqual(['[::1]', 'localhost']);
    expect(loadHttpConfig({ EZROUTER_HTTP_AUTH: 'none', EZROUTER_HTTP_HOST: 'localhost' }).host).toBe('localhost');
  });

  it('reads lists and numbers strictly, naming the variable', () => {
    const config = loadHttpConfig({
      EZROUTER_HTTP_AUTH: 'byok',
      EZROUTER_HTTP_HOST: '0.0.0.0',
      EZROUTER_HTTP_ALLOWED_HOSTS: 'MCP.Example.com, internal:8443',
      EZROUTER_HTTP_ALLOWED_ORIGINS: 'https://app.example.com/, http://localhost:5173',
    });
    expect(config.allowedHosts).toEqual([
      { hostname: 'mcp.example.com', port: undefined },
      { hostname: 'internal', port: 8443 },
    ]);
    expect(config.allowedOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadHttpConfig({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_HOST: '0.0.0.0' }).allowedHosts.map((h) => h.hostname)).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_PORT: '70000' })).toMatch(/^EZROUTER_HTTP_PORT must be at most 65535/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_PORT: 'http' })).toMatch(/^EZROUTER_HTTP_PORT must be a whole number/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_ALLOWED_HOSTS: 'ok.example, http://bad/' })).toMatch(/^EZROUTER_HTTP_ALLOWED_HOSTS has an entry that is not/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_ALLOWED_ORIGINS: 'https://app.example.com/path' })).toMatch(/^EZROUTER_HTTP_ALLOWED_ORIGINS has an entry/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_MAX_BODY_BYTES: '10' })).toMatch(/^EZROUTER_HTTP_MAX_BODY_BYTES must be at least 1024/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_HEADERS_TIMEOUT_MS: '5000', EZROUTER_HTTP_REQUEST_TIMEOUT_MS: '1000' })).toMatch(/must not exceed/);
    expect(configError({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_MAX_IN_FLIGHT: '0' })).toMatch(/^EZROUTER_HTTP_MAX_IN_FLIGHT must be at least 1/);
  });
});

describe('Host and Origin guards', () => {
  const rules = loadHttpConfig({ EZROUTER_HTTP_AUTH: 'byok', EZROUTER_HTTP_ALLOWED_HOSTS: 'mcp.example.com,[::1]:8787' }).allowedHosts;
  it('matches the host name case-insensitively, and the port only when the entry gives one', () => {
    expect(hostAllowed('mcp.example.com', rules)).toBe(true);
    expect(hostAllowed('MCP.EXAMPLE.COM:443', rules)).toBe(true);
    expect(hostAllowed('[::1]:8787', rules)).toBe(true);
    expect(hostAllowed('[::1]:9999', rules)).toBe(false);
    expect(hostAllowed('mcp.example.com.evil.example', rules)).toBe(false);
    expect(hostAllowed('user@mcp.example.com', rules)).toBe(false);
    expect(hostAllowed(undefined, rules)).toBe(false);
  });
  it('accepts no Origin, or an exact listed one', () => {
    expect(originAllowed(undefined, [])).toBe(true);
    expect(originAllowed('https://app.example.com', ['https://app.example.com'])).toBe(true);
    expect(originAllowed('https://app.example.com:443', ['https://app.example.com'])).toBe(true);
    expect(originAllowed('https://app.example.com.evil', ['https://app.example.com'])).toBe(false);
    expect(originAllowed('null', ['https://app.example.com'])).toBe(false);
    expect(originAllowed('https://app.example.com', [])).toBe(false);
  });
});

describe('InMemoryLimits', () => {
  it('a token bucket per principal: a minute\'s worth, refilled continuously, Retry-After until the next fits', async () => {
    let now = 0;
    const limits = new InMemoryLimits({ ratePerMinute: 2, maxInFlight: 10, now: () => now });
    expect((await limits.acquire('a', { slot: false })).admitted).toBe(true);
    expect((await limits.acquire('a', { slot: false })).admitted).toBe(true);
    expect(await limits.acquire('a', { slot: false })).toEqual({ admitted: false, limit: 'rate', retryAfterSeconds: 30 });
    expect((await limits.acquire('b', { slot: false })).admitted).toBe(true);
    now = 20_000;
    expect(await limits.acquire('a', { slot: false })).toEqual({ admitted: false, limit: 'rate', retryAfterSeconds: 10 });
    now = 30_000;
    expect((await limits.acquire('a', { slot: false })).admitted).toBe(true);
  });

  it('counts slots in flight until released (once), and a refusal takes nothing', async () => {
    const limits = new InMemoryLimits({ ratePerMinute: 0, maxInFlight: 2 });
    const one = await limits.acquire('a', { slot: true });
    const two = await limits.acquire('a', { slot: true });
    expect(await limits.acquire('a', { slot: true })).toEqual({ admitted: false, limit: 'in_flight', retryAfterSeconds: 1 });
    expect((await limits.acquire('a', { slot: false })).admitted).toBe(true);
    if (!one.admitted || !two.admitted) throw new Error('admitted expected');
    one.release();
    one.release();
    expect((await limits.acquire('a', { slot: true })).admitted).toBe(true);
    expect((await limits.acquire('a', { slot: true })).admitted).toBe(false);
  });

  it('a refusal for calls in flight costs no rate', async () => {
    const limits2 = new InMemoryLimits({ ratePerMinute: 2, maxInFlight: 1, now: () => 0 });
    const first = await limits2.acquire('a', { slot: true });
    expect((await limits2.acquire('a', { slot: true })).admitted).toBe(false); // in flight
    if (first.admitted) first.release();
    expect((await limits2.acquire('a', { slot: true })).admitted).toBe(true); // the rate still had room
  });

  it('the process-wide gate', () => {
    const gate = new InFlightGate(1);
    const leave = gate.tryEnter();
    expect(leave).toBeDefined();
    expect(gate.tryEnter()).toBeUndefined();
    leave!();
    leave!();
    expect(gate.size).toBe(0);
    expect(gate.tryEnter()).toBeDefined();
  });
});

describe('stateless cancellation registry', () => {
  it('cancels the one call of that principal and id; an ambiguous id cancels nothing', () => {
    const calls = new InFlightCalls();
    const cancelled: string[] = [];
    const removeA = calls.add('alice', 1, () => cancelled.push('a1'));
    calls.add('bob', 1, () => cancelled.push('b1'));
    expect(calls.cancel('alice', '1')).toBe('unknown'); // "1" is not 1
    expect(calls.cancel('alice', 1)).toBe('cancelled');
    expect(cancelled).toEqual(['a1']);
    removeA();
    expect(calls.cancel('alice', 1)).toBe('unknown');
    calls.add('bob', 1, () => cancelled.push('b1-second-session'));
    expect(calls.cancel('bob', 1)).toBe('ambiguous');
    expect(cancelled).toEqual(['a1']);
  });
});

describe('inspectMessages', () => {
  it('streams whatever may reach the gateway or wants progress; quick requests answer as JSON', () => {
    expect(inspectMessages({ jsonrpc: '2.0', id: 1, method: 'tools/list' }).streams).toBe(false);
    expect(inspectMessages({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }).streams).toBe(false);
    expect(inspectMessages({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { progressToken: 1 } } }).streams).toBe(true);
    expect(inspectMessages({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'ezrouter://models' } }).streams).toBe(true);
    const call = inspectMessages({ jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'complete', arguments: { prompt: 'p', model: 'gpt-5.2' } } });
    expect(call).toMatchObject({ streams: true, requestIds: ['x'], rpcMethod: 'tools/call', tool: 'complete', model: 'gpt-5.2' });
    const note = inspectMessages({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } });
    expect(note).toMatchObject({ requestIds: [], cancels: [4], streams: false });
    expect(inspectMessages('junk')).toMatchObject({ requestIds: [], rpcMethod: undefined });
  });

  it('requests that start or wait for work need an in-flight slot; polling and cancelling jobs need none', () => {
    const call = (args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'complete', arguments: args, ...extra } });
    expect(inspectMessages(call({ prompt: 'p' })).needsSlot).toBe(true);
    expect(inspectMessages(call({ prompt: 'p', background: true })).needsSlot).toBe(true);
    expect(inspectMessages(call({ job_id: 'j' })).needsSlot).toBe(true); // collecting waits for the job
    expect(inspectMessages(call({ prompt: 'p' }, { task: { ttl: 1000 } })).needsSlot).toBe(true);
    expect(inspectMessages({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'ezrouter://answers/x' } }).needsSlot).toBe(true);
    expect(inspectMessages(call({ job_id: 'j', cancel: true })).needsSlot).toBe(false);
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/list', 'ping', 'tools/list', 'initialize']) {
      expect(inspectMessages({ jsonrpc: '2.0', id: 1, method, params: {} }).needsSlot).toBe(false);
    }
    expect(inspectMessages([{ jsonrpc: '2.0', id: 1, method: 'ping' }, call({ prompt: 'p' })]).needsSlot).toBe(true);
    expect(inspectMessages({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } }).needsSlot).toBe(false);
    // A batch counts each request that takes a slot (the app refuses more than one per POST).
    expect(inspectMessages([call({ prompt: 'p', background: true }), { ...call({ prompt: 'q' }), id: 2 }, { jsonrpc: '2.0', id: 3, method: 'ping' }]).slotRequests).toBe(2);
  });

  it('cancels are de-duplicated and bounded per POST (each unknown one may be published to every replica)', () => {
    const cancel = (requestId: number) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } });
    expect(inspectMessages([cancel(1), cancel(1), cancel(2)]).cancels).toEqual([1, 2]);
    expect(inspectMessages(Array.from({ length: 60_000 }, (_, i) => cancel(i))).cancels).toHaveLength(16);
  });
});

describe('JSON log lines', () => {
  it('one object per line with time, level, msg, the logger\'s fields, and every secret redacted', () => {
    const lines: string[] = [];
    const redact = createRedactor('sk-server-000000000000000000', 'sk-principal-1111111111111', 'opaque_token_value_1234567890');
    const log = createLogger('info', redact, { write: (l) => lines.push(l) }, { format: 'json', fields: { request_id: 'r1', principal: 'alice' } });
    log.debug('hidden');
    log.info('upstream said sk-principal-1111111111111 and opaque_token_value_1234567890', { key: 'sk-server-000000000000000000', time: 'forged' });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', request_id: 'r1', principal: 'alice' });
    expect(line['time']).not.toBe('forged');
    expect(lines[0]).not.toMatch(/sk-server-0|sk-principal-1|opaque_token_value/);
    expect(lines[0]!.endsWith('\n')).toBe(true);
  });

  it('a line too long is cut and stays one valid JSON object', () => {
    const lines: string[] = [];
    const log = createLogger('debug', createRedactor(undefined), { write: (l) => lines.push(l) }, { format: 'json' });
    log.debug('MCP request body', { body: { prompt: 'x'.repeat(100_000) } });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'debug', msg: 'MCP request body', cut: true });
    expect(lines[0]!.length).toBeLessThan(10_000);
  });
});

describe('keyed client views without a server key', () => {
  it('fetch the catalog with their own key: one caller\'s bad key is not another\'s failure', async () => {
    const good = 'sk-good-000000000000000000000000';
    const emulator = await startEmulator({ extraKeys: [good] });
    try {
      const config = loadConfig({ EZROUTER_BASE_URL: emulator.url, EZROUTER_MAX_RETRIES: '0' });
      const shared = new EzrouterClient({ config, log: silentLogger, userAgent: 'test' });
      await expect(shared.withKey('sk-bad-11111111111111111111111').models()).rejects.toBeInstanceOf(EzrouterError);
      const snapshot = await shared.withKey(good).models();
      expect(snapshot.models.length).toBeGreaterThan(0);
      const auth = emulator.requests.map((r) => r.headers['authorization']);
      expect(auth).toEqual(['Bearer sk-bad-11111111111111111111111', `Bearer ${good}`]);
      await shared.close();
    } finally {
      await emulator.close();
    }
  });
});
