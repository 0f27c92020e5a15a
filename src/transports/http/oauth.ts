/**
 * `EZROUTER_HTTP_AUTH=oauth`: ezrouter-mcp as an OAuth 2.1 resource server, as the MCP
 * authorization specification describes, so clients such as Claude's web app connect through an
 * organisation's identity provider. It publishes its protected-resource metadata (RFC 9728) at
 * the URL RFC 9728 §3.1 derives from the resource (the audience): for
 * `https://host/mcp`, `https://host/.well-known/oauth-protected-resource/mcp`, whose `resource`
 * is exactly the audience (§3.3), and at the root form too (the MCP spec's fallback for clients
 * without a challenge), naming the configured authorization server. It accepts bearer access
 * tokens that are JWTs signed by a key of the issuer's JWKS (fetched and cached by jose), issued
 * by that issuer, for this resource (audience), not expired; a configured claim names the
 * principal, which maps to an ezrouter key as in the tokens mode. A principal not in the keys
 * file is refused unless EZROUTER_HTTP_OAUTH_UNLISTED=server_key gives it EZROUTER_API_KEY. A
 * 401 carries `WWW-Authenticate: Bearer resource_metadata="…"` (the path-derived URL) so a
 * client can find where to log in. jose is loaded only in this mode.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ConfigError } from '../../config.js';
import { bearerToken, type AuthContext, type Authenticator, type Principal } from './auth.js';
import type { OAuthConfig } from './http-config.js';

export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';
/** Principal names accepted from the claim (anything else is refused: it ends up in logs and keys). */
const PRINCIPAL = /^[A-Za-z0-9._@:|+-]{1,128}$/;
/** Clock skew tolerated on exp/nbf. */
const CLOCK_TOLERANCE_S = 30;

const keysFileSchema = z.strictObject({
  principals: z.array(
    z.strictObject({
      principal: z.string().regex(PRINCIPAL, 'must be 1-128 letters, digits or . _ @ : | + -'),
      api_key: z.string().min(1).optional(),
      api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    }),
  ),
});

/**
 * Principal → ezrouter key, from EZROUTER_HTTP_OAUTH_KEYS_FILE; a bad file is a ConfigError, as in
 * the tokens mode: an `api_key_env` naming an unset variable, both `api_key` and `api_key_env`, or
 * no key at all without EZROUTER_API_KEY. A mistake never falls back to the server's key.
 */
async function readKeysFile(path: string, ctx: AuthContext): Promise<Map<string, string>> {
  const where = `EZROUTER_HTTP_OAUTH_KEYS_FILE (${path})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${where} cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? 'invalid JSON'}).`);
  }
  const result = keysFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`${where}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'}.`);
  }
  const keys = new Map<string, string>();
  for (const [index, entry] of result.data.principals.entries()) {
    const at = `${where}: principals[${index}] (${entry.principal})`;
    if (entry.api_key !== undefined && entry.api_key_env !== undefined) throw new ConfigError(`${at} gives both api_key and api_key_env: keep one.`);
    let key = entry.api_key?.trim();
    if (entry.api_key_env !== undefined) {
      key = ctx.env[entry.api_key_env]?.trim();
      if (!key) throw new ConfigError(`${at} reads its key from ${entry.api_key_env}, which is not set.`);
    }
    key ||= ctx.serverKey;
    if (!key) throw new ConfigError(`${at} has no ezrouter key: give api_key or api_key_env, or set EZROUTER_API_KEY.`);
    keys.set(entry.principal, key);
  }
  return keys;
}

export async function loadOAuthAuthenticator(ctx: AuthContext): Promise<Authenticator> {
  const settings = ctx.http.oauth as OAuthConfig;
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  const jwks = createRemoteJWKSet(new URL(settings.jwksUrl));
  if (settings.unlisted === 'server_key' && !ctx.serverKey) {
    throw new ConfigError('EZROUTER_HTTP_OAUTH_UNLISTED=server_key gives unlisted principals EZROUTER_API_KEY, which is not set.');
  }
  let keys = settings.keysFile ? await readKeysFile(settings.keysFile, ctx) : new Map<string, string>();
  const audience = new URL(settings.audience);
  // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
  const resourcePath = audience.pathname === '/' ? '' : audience.pathname;
  const metadataUrl = `${audience.origin}${PROTECTED_RESOURCE_PATH}${resourcePath}`;
  const metadata = JSON.stringify({
    resource: settings.audience,
    authorization_servers: [settings.issuer],
    bearer_methods_supported: ['header'],
    resource_name: 'ezrouter-mcp',
  });
  const metadataPaths = new Set([PROTECTED_RESOURCE_PATH, `${PROTECTED_RESOURCE_PATH}${resourcePath}`, `${PROTECTED_RESOURCE_PATH}${resourcePath.replace(/\/+$/, '')}`]);

  return {
    mode: 'oauth',
    authenticate: async (req: IncomingMessage): Promise<Principal | undefined> => {
      const token = bearerToken(req);
      if (token === undefined) return undefined;
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: settings.issuer, audience: settings.audience, clockTolerance: CLOCK_TOLERANCE_S });
        const name = payload[settings.principalClaim];
        if (typeof name !== 'string' || !PRINCIPAL.test(name)) return undefined;
        const apiKey = keys.get(name) ?? (settings.unlisted === 'server_key' ? ctx.serverKey : undefined);
        if (apiKey === undefined) {
          ctx.log.info('an OAuth principal not in the keys file was refused (EZROUTER_HTTP_OAUTH_UNLISTED=refuse)', { principal: `oauth:${name}` });
          return undefined;
        }
        const hash = createHash('sha256').update(name).digest('hex');
        return { id: `oauth:${name}`, apiKey, scope: `oauth:${hash}` };
      } catch (error) {
        // Never the token itself: only why it was refused (jose's error code).
        ctx.log.debug('an OAuth access token was refused', { reason: (error as { code?: unknown }).code ?? 'invalid' });
        return undefined;
      }
    },
    challenge: () => `Bearer resource_metadata="${metadataUrl}"`,
    route: (req: IncomingMessage, res: ServerResponse): boolean => {
      const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
      if (!metadataPaths.has(path) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(req.method === 'HEAD' ? undefined : metadata);
      return true;
    },
    reload: async () => {
      if (!settings.keysFile) return;
      try {
        keys = await readKeysFile(settings.keysFile, ctx);
      } catch (error) {
        ctx.log.warn('the OAuth keys file could not be reloaded; the previous one stays in use', { error });
      }
    },
    keys: () => [...new Set(keys.values())],
    close: () => {},
  };
}
