/** Configuration: defaults, normalisation, and every bad value named. */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/args.js';
import { ConfigError, DEFAULT_BASE_URL, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      apiKey: undefined,
      baseUrl: DEFAULT_BASE_URL,
      defaultModel: undefined,
      timeoutMs: 300_000,
      idleTimeoutMs: 60_000,
      maxRetries: 2,
      modelsTtlMs: 300_000,
      userId: undefined,
      logLevel: 'info',
      anthropicMaxTokens: 4096,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    ['https://www.ezrouter.dev/', 'https://www.ezrouter.dev'],
    ['https://www.ezrouter.dev/v1', 'https://www.ezrouter.dev'],
    ['https://www.ezrouter.dev/v1/', 'https://www.ezrouter.dev'],
    ['http://127.0.0.1:8787', 'http://127.0.0.1:8787'],
    ['https://proxy.example/ezrouter/v1', 'https://proxy.example/ezrouter'],
  ])('normalises EZROUTER_BASE_URL %s → %s', (raw, expected) => {
    expect(loadConfig({ EZROUTER_BASE_URL: raw }).baseUrl).toBe(expected);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      EZROUTER_API_KEY: ' sk-abc ',
      EZROUTER_DEFAULT_MODEL: 'gpt-5.2',
      EZROUTER_TIMEOUT_MS: '1000',
      EZROUTER_IDLE_TIMEOUT_MS: '200',
      EZROUTER_MAX_RETRIES: '0',
      EZROUTER_MODELS_TTL_MS: '0',
      EZROUTER_USER_ID: 'user-7',
      EZROUTER_LOG_LEVEL: 'DEBUG',
      HTTPS_PROXY: 'http://127.0.0.1:3128',
      no_proxy: 'localhost',
    });
    expect(c).toMatchObject({
      apiKey: 'sk-abc',
      defaultModel: 'gpt-5.2',
      timeoutMs: 1000,
      idleTimeoutMs: 200,
      maxRetries: 0,
      modelsTtlMs: 0,
      userId: 'user-7',
      logLevel: 'debug',
      proxy: { httpsProxy: 'http://127.0.0.1:3128', httpProxy: undefined, noProxy: 'localhost' },
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ EZROUTER_TIMEOUT_MS: '', EZROUTER_API_KEY: '  ' })).toMatchObject({ timeoutMs: 300_000, apiKey: undefined });
  });

  it.each([
    ['EZROUTER_TIMEOUT_MS', 'abc'],
    ['EZROUTER_TIMEOUT_MS', '0'],
    ['EZROUTER_IDLE_TIMEOUT_MS', '1.5'],
    ['EZROUTER_MAX_RETRIES', '-1'],
    ['EZROUTER_MAX_RETRIES', '99'],
    ['EZROUTER_MODELS_TTL_MS', '5m'],
    ['EZROUTER_BASE_URL', 'not a url'],
    ['EZROUTER_BASE_URL', 'ftp://example.com'],
    ['EZROUTER_LOG_LEVEL', 'verbose'],
    ['HTTPS_PROXY', 'not a url'],
    ['HTTP_PROXY', 'socks5://127.0.0.1:1080'],
    ['https_proxy', 'proxy.example:3128'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

});

describe('parseArgs', () => {
  it('knows --help, --version and the mirrored flags', () => {
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' });
    expect(parseArgs(['--base-url', 'http://x', '--log-level=debug'])).toEqual({
      kind: 'serve',
      overrides: { EZROUTER_BASE_URL: 'http://x', EZROUTER_LOG_LEVEL: 'debug' },
    });
  });

  it('rejects unknown flags and missing values', () => {
    expect(parseArgs(['--nope'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['--base-url'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['--api-key', 'sk-x'])).toMatchObject({ kind: 'error' });
  });
});
