/**
 * `EZROUTER_HTTP_AUTH=oauth`: ezrouter-mcp as an OAuth 2.1 resource server, as the MCP
 * authorization specification describes, so clients such as Claude's web app connect through an
 * organisation's identity provider. It publishes its protected-resource metadata (RFC 9728) at
 * `/.well-known/oauth-protected-resource` (and the path-suffixed form for /mcp), naming the
 * configured authorization server; it accepts bearer access tokens that are JWTs signed by a key
 * of the issuer's JWKS (fetched and cached by jose), issued by that issuer, for this resource
 * (audience), not expired; a configured claim names the principal, which maps to an ezrouter key
 * as in the tokens mode (unlisted principals use EZROUTER_API_KEY). A 401 carries
 * `WWW-Authenticate: Bearer resource_metadata="…"` so a client can find where to log in.
 * jose is loaded only in this mode.
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

/** Principal → ezrouter key, from EZROUTER_HTTP_OAUTH_KEYS_FILE; a bad file is a ConfigError. */
async function readKeysFile(path: string, ctx: AuthContext): Promise<Map<string, string | undefined>> {
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
  const keys = new Map<string, string | undefined>();
  for (const entry of result.data.principals) {
    const key = entry.api_key ?? (entry.api_key_env ? ctx.env[entry.api_key_env] : undefined) ?? ctx.serverKey;
    keys.set(entry.principal, key);
  }
  return keys;
}

export async function loadOAuthAuthenticator(ctx: AuthContext): Promise<Authenticator> {
  const settings = ctx.http.oauth as OAuthConfig;
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  const jwks = createRemoteJWKSet(new URL(settings.jwksUrl));
  let keys = settings.keysFile ? await readKeysFile(settings.keysFile, ctx) : new Map<string, string | undefined>();
  const metadataUrl = `${new URL(settings.audience).origin}${PROTECTED_RESOURCE_PATH}`;
  const metadata = JSON.stringify({
    resource: settings.audience,
    authorization_servers: [settings.issuer],
    bearer_methods_supported: ['header'],
    resource_name: 'ezrouter-mcp',
  });
  const metadataPaths = new Set([PROTECTED_RESOURCE_PATH, `${PROTECTED_RESOURCE_PATH}${new URL(settings.audience).pathname.replace(/\/+$/, '')}`]);

  return {
    mode: 'oauth',
    authenticate: async (req: IncomingMessage): Promise<Principal | undefined> => {
      const token = bearerToken(req);
      if (token === undefined) return undefined;
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: settings.issuer, audience: settings.audience, clockTolerance: CLOCK_TOLERANCE_S });
        const name = payload[settings.principalClaim];
        if (typeof name !== 'string' || !PRINCIPAL.test(name)) return undefined;
        const hash = createHash('sha256').update(name).digest('hex');
        return { id: `oauth:${name}`, apiKey: keys.has(name) ? keys.get(name) : ctx.serverKey, scope: `oauth:${hash}` };
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
    close: () => {},
  };
}
