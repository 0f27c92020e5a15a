/**
 * The oauth mode (issue 13): protected-resource metadata, JWTs checked against the issuer's JWKS
 * (served on loopback by this test), issuer/audience/expiry, a claim naming the principal, the
 * principal's ezrouter key upstream, unlisted principals refused unless allowed, keys-file
 * mistakes refused at load, and 401s that point to the metadata RFC 9728 derives from /mcp.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError } from '../src/config.js';
import { DEFAULT_MODELS } from '../src/emulator/index.js';
import { createLogger } from '../src/log.js';
import { createRedactor } from '../src/redact.js';
import { createAuthenticator } from '../src/transports/http/auth-mode.js';
import { loadHttpConfig } from '../src/transports/http/http-config.js';
import { bearer, startHttpHarness, toolCall, upstreamKeys, type HttpHarness } from './http-harness.js';
import { expectNoFragment, keyFragments } from './support/key-fragments.js';

const AUDIENCE = 'http://127.0.0.1/mcp';
const CAROL_KEY = 'sk-carol-0000000000000000000000000003';

let jwksServer: Server;
let issuer: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
let dir: string;
let h: HttpHarness | undefined;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}`;
  dir = mkdtempSync(join(tmpdir(), 'ezrouter-oauth-'));
  writeFileSync(join(dir, 'keys.json'), JSON.stringify({ principals: [{ principal: 'carol@example.com', api_key: CAROL_KEY }] }));
});
afterAll(async () => {
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const oauthEnv = (env: Record<string, string> = {}): Record<string, string> => ({
  EZROUTER_HTTP_AUTH: 'oauth',
  EZROUTER_HTTP_OAUTH_ISSUER: issuer,
  EZROUTER_HTTP_OAUTH_AUDIENCE: AUDIENCE,
  EZROUTER_HTTP_OAUTH_PRINCIPAL_CLAIM: 'email',
  EZROUTER_HTTP_OAUTH_KEYS_FILE: join(dir, 'keys.json'),
  ...env,
});

async function oauthHarness(env: Record<string, string> = {}): Promise<HttpHarness> {
  h = await startHttpHarness({ env: oauthEnv(env), emulator: { extraKeys: [CAROL_KEY] } });
  return h;
}

/** Loads the oauth authenticator as the server does at start (no listening server needed). */
async function loadWith(principals: unknown[], env: Record<string, string> = {}): Promise<unknown> {
  const path = join(dir, `keys-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ principals }));
  const full = { EZROUTER_API_KEY: 'sk-server-000000000000000000', ...oauthEnv({ EZROUTER_HTTP_OAUTH_KEYS_FILE: path }), ...env };
  const log = createLogger('error', createRedactor(undefined), { write: () => true });
  try {
    (await createAuthenticator({ http: loadHttpConfig(full), serverKey: full['EZROUTER_API_KEY'] || undefined, env: full, log })).close();
    return undefined;
  } catch (error) {
    return error;
  }
}

function token(claims: { email?: string; iss?: string; aud?: string; exp?: number }, key: CryptoKey = signingKey): Promise<string> {
  const jwt = new SignJWT({ email: claims.email ?? 'carol@example.com' })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 300);
  return jwt.sign(key);
}

describe('oauth mode', () => {
  it("the access token, the principal's key and the operator's key (the catalog's) never reach the principal", async () => {
    const t = await oauthHarness();
    const operatorKey = t.emulator.apiKey;
    const access = await token({});
    t.emulator.setModels([...DEFAULT_MODELS, { id: `m-${operatorKey}`, owned_by: operatorKey, supported_endpoint_types: ['openai'] }]);
    const carol = await t.connect(bearer(access));
    const models = (await carol.callTool({ name: 'list_models', arguments: {} })) as CallToolResult;
    expect(models.isError).toBeFalsy();
    t.emulator.script({ kind: 'error', status: 400, body: { error: { message: `op ${operatorKey} own ${CAROL_KEY} token ${access}`, type: 'x', code: 'invalid_request' } } });
    const chat = (await carol.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } })) as CallToolResult;
    expect(chat.isError).toBe(true);
    const received = (await t.received()).join('\n');
    expect(received).toContain('m-[redacted]');
    for (const secret of [operatorKey, CAROL_KEY, access]) {
      expectNoFragment('a response to carol', received, keyFragments(secret));
      expectNoFragment('a log line', t.logs.join('\n'), keyFragments(secret));
    }
  });

  it('publishes the protected-resource metadata, without auth', async () => {
    const t = await oauthHarness();
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const res = await fetch(`${t.base}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ resource: AUDIENCE, authorization_servers: [issuer], bearer_methods_supported: ['header'], resource_name: 'ezrouter-mcp' });
    }
  });

  it('a valid token is accepted; the principal (from the email claim) calls with its own ezrouter key', async () => {
    const t = await oauthHarness();
    const client = await t.connect(bearer(await token({})));
    const result = await client.callTool({ name: 'complete', arguments: { prompt: 'hi', model: 'gpt-5.2' } });
    expect(result.isError).toBeFalsy();
    expect(upstreamKeys(t.emulator)).toEqual([CAROL_KEY]);
  });

  it('a principal not in the keys file is refused (401) by default; EZROUTER_HTTP_OAUTH_UNLISTED=server_key gives it the server key', async () => {
    const closed = await oauthHarness();
    const refused = await closed.post(toolCall(1, 'complete', { prompt: 'hi', model: 'gpt-5.2' }), bearer(await token({ email: 'dave@example.com' })));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata=/);
    expect(closed.emulator.count('/v1/')).toBe(0);
    await closed.close();
    h = undefined;

    const open = await oauthHarness({ EZROUTER_HTTP_OAUTH_UNLISTED: 'server_key' });
    const dave = await open.connect(bearer(await token({ email: 'dave@example.com' })));
    await dave.callTool({ name: 'complete', arguments: { prompt: 'hi', model: 'gpt-5.2' } });
    expect(upstreamKeys(open.emulator)).toEqual([open.emulator.apiKey]);
  });

  it('keys-file mistakes are refused at load (ConfigError), never a silent fall back to the server key', async () => {
    const unset = await loadWith([{ principal: 'carol@example.com', api_key_env: 'EZROUTER_TEST_KEY_NEVER_SET' }]);
    expect(unset).toBeInstanceOf(ConfigError);
    expect((unset as Error).message).toMatch(/principals\[0\] \(carol@example.com\) reads its key from EZROUTER_TEST_KEY_NEVER_SET, which is not set/);
    expect(await loadWith([{ principal: 'carol@example.com', api_key_env: 'CAROL_KEY_VAR' }], { CAROL_KEY_VAR: CAROL_KEY })).toBeUndefined();
    expect(String(await loadWith([{ principal: 'c', api_key: CAROL_KEY, api_key_env: 'CAROL_KEY_VAR' }]))).toMatch(/gives both api_key and api_key_env/);
    expect(String(await loadWith([{ principal: 'c' }], { EZROUTER_API_KEY: '' }))).toMatch(/has no ezrouter key/);
    expect(String(await loadWith([{ principal: 'c', api_key: CAROL_KEY }], { EZROUTER_API_KEY: '', EZROUTER_HTTP_OAUTH_UNLISTED: 'server_key' }))).toMatch(
      /EZROUTER_HTTP_OAUTH_UNLISTED=server_key gives unlisted principals EZROUTER_API_KEY, which is not set/,
    );
    // Refusing unlisted principals (the default) with no keys file would refuse everyone.
    const env = oauthEnv();
    delete env['EZROUTER_HTTP_OAUTH_KEYS_FILE'];
    expect(() => loadHttpConfig(env)).toThrow(/refuses every principal not in EZROUTER_HTTP_OAUTH_KEYS_FILE/);
    expect(loadHttpConfig({ ...env, EZROUTER_HTTP_OAUTH_UNLISTED: 'server_key' }).oauth?.unlisted).toBe('server_key');
    expect(() => loadHttpConfig({ ...env, EZROUTER_HTTP_OAUTH_UNLISTED: 'allow' })).toThrow(/EZROUTER_HTTP_OAUTH_UNLISTED must be one of refuse, server_key/);
  });

  it('no token, a wrong issuer, a wrong audience, an expired token and a foreign signature are each 401 with resource_metadata (RFC 9728: the document for /mcp)', async () => {
    const t = await oauthHarness();
    const bad = [
      undefined,
      await token({ iss: 'https://elsewhere.example' }),
      await token({ aud: 'https://other.example/mcp' }),
      await token({ exp: Math.floor(Date.now() / 1000) - 3600 }),
      await token({}, strangerKey),
      'not-a-jwt',
    ];
    for (const credential of bad) {
      const res = await t.post(toolCall(1, 'list_models'), credential === undefined ? {} : bearer(credential));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/mcp"');
    }
    // RFC 9728 §3: the URL is derived from the resource (/.well-known/oauth-protected-resource/<path>),
    // and the document there names exactly that resource.
    const challenge = /resource_metadata="([^"]+)"/.exec((await t.post(toolCall(1, 'list_models'))).headers.get('www-authenticate') ?? '')![1]!;
    const derived = new URL(AUDIENCE);
    expect(new URL(challenge).pathname).toBe(`/.well-known/oauth-protected-resource${derived.pathname}`);
    expect(new URL(challenge).origin).toBe(derived.origin);
    const document = (await (await fetch(`${t.base}${new URL(challenge).pathname}`)).json()) as { resource: string };
    expect(document.resource).toBe(AUDIENCE);
    expect(t.emulator.count('/v1/')).toBe(0);
    expect(t.logs.join('\n')).not.toMatch(/eyJ/); // no token in any log line
  });
});
