/**
 * The client side of the HTTP mode: `config <client> --url` (each client's remote form, the token
 * a reference unless --inline-key) and `doctor --http` against a running endpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/args.js';
import { runDoctor } from '../src/commands/doctor/doctor.js';
import { runSetupCommand } from '../src/commands/setup/setup-command.js';
import { startHttpHarness, tokensFile, type HttpHarness } from './http-harness.js';

const URL_ = 'https://mcp.example.com/mcp';
const TOKEN = 'team-token-0123456789abcdef01234567';

function setup(client: 'claude-code' | 'cursor' | 'vscode' | 'claude-desktop', extra: { inlineKey?: boolean; json?: boolean; windows?: boolean } = {}, env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = runSetupCommand(
    { client, inlineKey: extra.inlineKey ?? false, windows: extra.windows ?? false, json: extra.json ?? false, url: URL_ },
    { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), platform: 'linux' },
  );
  return { code, stdout, stderr };
}

describe('config <client> --url', () => {
  it('claude-code: the `claude mcp add --transport http` line and the .mcp.json form, the token an environment reference', () => {
    const r = setup('claude-code');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`  claude mcp add --transport http ezrouter ${URL_} --header "Authorization: Bearer $EZROUTER_HTTP_TOKEN"\n`);
    const json = setup('claude-code', { json: true });
    expect(JSON.parse(json.stdout)).toEqual({
      mcpServers: { ezrouter: { type: 'http', url: URL_, headers: { Authorization: 'Bearer ${EZROUTER_HTTP_TOKEN}' } } },
    });
    expect(setup('claude-code', { windows: true }).stdout).toContain('--header "Authorization: Bearer $env:EZROUTER_HTTP_TOKEN"');
  });

  it('cursor: url + headers with ${env:…}; vscode: an http server whose token is a password input', () => {
    expect(JSON.parse(setup('cursor', { json: true }).stdout)).toEqual({
      mcpServers: { ezrouter: { url: URL_, headers: { Authorization: 'Bearer ${env:EZROUTER_HTTP_TOKEN}' } } },
    });
    expect(JSON.parse(setup('vscode', { json: true }).stdout)).toEqual({
      inputs: [{ type: 'promptString', id: 'ezrouter-token', description: 'ezrouter-mcp bearer token', password: true }],
      servers: { ezrouter: { type: 'http', url: URL_, headers: { Authorization: 'Bearer ${input:ezrouter-token}' } } },
    });
  });

  it('--inline-key writes the token from EZROUTER_HTTP_TOKEN (with a warning), and needs it', () => {
    const r = setup('claude-code', { inlineKey: true }, { EZROUTER_HTTP_TOKEN: TOKEN });
    expect(r.stdout).toContain(`--header 'Authorization: Bearer ${TOKEN}'`);
    expect(r.stderr).toMatch(/contains your bearer token/);
    expect(JSON.parse(setup('vscode', { inlineKey: true, json: true }, { EZROUTER_HTTP_TOKEN: TOKEN }).stdout)).toEqual({
      servers: { ezrouter: { type: 'http', url: URL_, headers: { Authorization: `Bearer ${TOKEN}` } } },
    });
    const missing = setup('cursor', { inlineKey: true });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/EZROUTER_HTTP_TOKEN, which is not set/);
    // Without --inline-key the token never appears, even when it is set.
    expect(setup('cursor', {}, { EZROUTER_HTTP_TOKEN: TOKEN }).stdout).not.toContain(TOKEN);
  });

  it('claude-desktop: the custom connector steps (an oauth server, reachable from Anthropic\'s cloud); no file form, no token', () => {
    const r = setup('claude-desktop');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Settings -> Connectors -> Add custom connector');
    expect(r.stdout).toContain(`Remote MCP server URL: ${URL_}`);
    expect(r.stdout).toMatch(/EZROUTER_HTTP_AUTH=oauth/);
    expect(r.stdout).toMatch(/from Anthropic's cloud/);
    expect(r.stderr).toBe('');
    for (const extra of [{ json: true }, { inlineKey: true }]) {
      const refused = setup('claude-desktop', extra, { EZROUTER_HTTP_TOKEN: TOKEN });
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/connectors in its settings/);
      expect(refused.stderr).not.toContain(TOKEN);
    }
  });

  it('the arguments: --url takes an http(s) URL', () => {
    expect(parseArgs(['config', 'cursor', '--url', URL_])).toMatchObject({ kind: 'config', client: 'cursor', url: URL_ });
    expect(parseArgs(['config', '--url=' + URL_, 'vscode', '--json'])).toMatchObject({ kind: 'config', client: 'vscode', url: URL_, json: true });
    expect(parseArgs(['config', 'cursor', '--url', 'ftp://x'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['config', 'cursor', '--url'])).toMatchObject({ kind: 'error', message: '--url needs a value' });
    expect(parseArgs(['http', '--port', '9000', '--host', '::1', '--auth', 'none'])).toEqual({
      kind: 'http',
      overrides: { EZROUTER_HTTP_PORT: '9000', EZROUTER_HTTP_HOST: '::1', EZROUTER_HTTP_AUTH: 'none' },
    });
    expect(parseArgs(['http', '--help'])).toMatchObject({ kind: 'help' });
    expect(parseArgs(['doctor', '--http', URL_])).toEqual({ kind: 'doctor', overrides: {}, httpUrl: URL_ });
    expect(parseArgs(['--port', '9000'])).toMatchObject({ kind: 'error' }); // stdio takes no HTTP flags
  });
});

describe('doctor --http', () => {
  let h: HttpHarness | undefined;
  let remove: (() => void) | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    remove?.();
  });

  async function serve(env: Record<string, string> = {}) {
    const file = tokensFile([{ principal: 'team', token: TOKEN }]);
    remove = file.remove;
    h = await startHttpHarness({ env: { EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: file.path, ...env } });
    return h;
  }

  async function doctor(url: string, env: Record<string, string> = {}) {
    let out = '';
    const code = await runDoctor({ env, write: (t) => (out += t), httpUrl: url });
    return { code, out };
  }

  it('with the token: health, readiness, anonymous refused, an MCP session; READY, the token never printed', async () => {
    const harness = await serve();
    const r = await doctor(harness.url, { EZROUTER_HTTP_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\[ ok \] health +\/healthz answered ok/);
    expect(r.out).toMatch(/\[ ok \] readiness +\/readyz answered ready/);
    expect(r.out).toMatch(/\[ ok \] auth +refuses a request without credentials \(401, WWW-Authenticate: Bearer\)/);
    expect(r.out).toMatch(/\[ ok \] MCP session +4 tools \(compare, complete, get_balance, list_models\); list_models: \d+ models; the key behind it works \(get_balance\)/);
    expect(r.out).toMatch(/Verdict: READY - the endpoint serves MCP with this token/);
    expect(r.out).not.toContain(TOKEN);
    // The doctor's own requests show up in the server's log as the principal it authenticated.
    expect(harness.logs.some((l) => l.includes('"principal":"team"'))).toBe(true);
  });

  it('without a token the session is skipped; a wrong token fails with 401', async () => {
    const harness = await serve();
    const anonymous = await doctor(harness.url);
    expect(anonymous.code).toBe(0);
    expect(anonymous.out).toMatch(/\[skip\] MCP session +skipped: set EZROUTER_HTTP_TOKEN/);
    const wrong = await doctor(harness.url, { EZROUTER_HTTP_TOKEN: 'not-the-token-at-all-000000000000' });
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/\[FAIL\] MCP session +401: the token in EZROUTER_HTTP_TOKEN is refused/);
    expect(wrong.out).not.toContain('not-the-token-at-all');
  });

  it('a Host the server does not answer, and a server that is not there, fail with what to do', async () => {
    const harness = await serve({ EZROUTER_HTTP_ALLOWED_HOSTS: 'mcp.example.com' });
    const host = await doctor(harness.url, { EZROUTER_HTTP_TOKEN: TOKEN });
    expect(host.code).toBe(1);
    expect(host.out).toMatch(/\[FAIL\] auth +403: the server does not answer requests for Host 127\.0\.0\.1:\d+/);
    expect(host.out).toContain('EZROUTER_HTTP_ALLOWED_HOSTS');
    const url = harness.url;
    await harness.close();
    h = undefined;
    const down = await doctor(url, { EZROUTER_HTTP_TOKEN: TOKEN });
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/\[FAIL\] health +no answer from/);
    expect(down.out).toMatch(/\[skip\] MCP session/);
  });

  it('a session whose upstream key is refused names the key, not the token', async () => {
    const file = tokensFile([{ principal: 'team', token: TOKEN, api_key: 'sk-revoked-000000000000000000000' }]);
    remove = file.remove;
    h = await startHttpHarness({ env: { EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: file.path } });
    const r = await doctor(h.url, { EZROUTER_HTTP_TOKEN: TOKEN });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\[FAIL\] MCP session +4 tools, but get_balance failed \(ezrouter error: invalid_api_key\)/);
    expect(r.out).not.toContain('sk-revoked-000000000000000000000');
  });
});
