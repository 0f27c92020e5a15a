/**
 * `EZROUTER_HTTP_AUTH=tokens`: the tokens file maps SHA-256 hashes of bearer tokens to a
 * principal and the ezrouter key its calls use. The file never holds a token itself; a
 * presented token is hashed and compared with every entry in constant time. The file is
 * re-read when it changes (polled) and on SIGHUP; a file that fails to load keeps the tokens
 * already loaded (and says so in the log).
 *
 * {
 *   "tokens": [
 *     { "principal": "alice", "sha256": "<64 hex digits>", "api_key_env": "ALICE_EZROUTER_KEY" },
 *     { "principal": "ci", "sha256": "<64 hex digits>", "api_key": "sk-..." },
 *     { "principal": "bob", "sha256": "<64 hex digits>" }
 *   ]
 * }
 *
 * An entry without `api_key` / `api_key_env` uses the server's own EZROUTER_API_KEY.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { z } from 'zod';
import { ConfigError, type Env } from '../../config.js';
import type { Logger } from '../../log.js';
import { bearerToken, PLAIN_CHALLENGE, type AuthContext, type Authenticator, type Principal } from './auth.js';

/** How often the file is checked for changes (SIGHUP reloads at once). */
export const TOKENS_POLL_MS = 2000;

const entrySchema = z.strictObject({
  principal: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1-64 letters, digits or . _ @ -'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the token\'s SHA-256, 64 hex digits'),
  api_key: z.string().min(1).optional(),
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
});

const fileSchema = z.strictObject({ tokens: z.array(entrySchema).min(1, 'must list at least one token') });

interface TokenEntry {
  digest: Buffer;
  principal: Principal;
}

interface LoadedTokens {
  entries: TokenEntry[];
  principals: number;
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Reads and checks the tokens file; every problem is a ConfigError naming the file and the entry. */
export async function readTokensFile(path: string, env: Env, serverKey: string | undefined): Promise<LoadedTokens> {
  const where = `EZROUTER_HTTP_TOKENS_FILE (${path})`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${where} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${where} is not valid JSON.`);
  }
  const entriesIn = (json as { tokens?: unknown } | null)?.tokens;
  const plaintext = Array.isArray(entriesIn) ? entriesIn.findIndex((e) => typeof e === 'object' && e !== null && 'token' in e) : -1;
  if (plaintext !== -1) {
    throw new ConfigError(`${where}: tokens[${plaintext}] holds a "token": store its SHA-256 as "sha256" instead (printf %s "$TOKEN" | sha256sum), never the token.`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (!issue?.path.length) throw new ConfigError(`${where} must be a JSON object with a "tokens" list.`);
    const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    // Zod's messages name keys and types, never the values (which may be keys).
    throw new ConfigError(`${where}: ${at} ${missing ? 'is missing' : issue.message}.`);
  }
  const seen = new Set<string>();
  const principals = new Set<string>();
  const entries: TokenEntry[] = [];
  for (const [index, entry] of parsed.data.tokens.entries()) {
    const hash = entry.sha256.toLowerCase();
    if (seen.has(hash)) throw new ConfigError(`${where}: tokens[${index}] repeats the hash of an earlier entry.`);
    seen.add(hash);
    if (entry.api_key !== undefined && entry.api_key_env !== undefined) {
      throw new ConfigError(`${where}: tokens[${index}] (${entry.principal}) gives both api_key and api_key_env: keep one.`);
    }
    let apiKey = entry.api_key?.trim();
    if (entry.api_key_env !== undefined) {
      apiKey = env[entry.api_key_env]?.trim();
      if (!apiKey) throw new ConfigError(`${where}: tokens[${index}] (${entry.principal}) reads its key from ${entry.api_key_env}, which is not set.`);
    }
    apiKey ||= serverKey;
    if (!apiKey) {
      throw new ConfigError(`${where}: tokens[${index}] (${entry.principal}) has no ezrouter key: give api_key or api_key_env, or set EZROUTER_API_KEY.`);
    }
    principals.add(entry.principal);
    entries.push({ digest: Buffer.from(hash, 'hex'), principal: { id: entry.principal, apiKey, scope: `principal:${entry.principal}` } });
  }
  return { entries, principals: principals.size };
}

/** Constant time over every entry: the time taken says nothing about which one matched, or how closely. */
function match(entries: readonly TokenEntry[], token: string): Principal | undefined {
  const digest = tokenDigest(token);
  let found: Principal | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(digest, entry.digest)) found = entry.principal;
  }
  return found;
}

export async function loadTokensAuthenticator(ctx: AuthContext & { tokensPollMs?: number }): Promise<Authenticator> {
  const path = ctx.http.tokensFile;
  if (path === undefined) throw new ConfigError('EZROUTER_HTTP_AUTH=tokens needs EZROUTER_HTTP_TOKENS_FILE.');
  let loaded = await readTokensFile(path, ctx.env, ctx.serverKey);
  await warnIfReadable(path, ctx.log);
  ctx.log.info('tokens file loaded', { tokens: loaded.entries.length, principals: loaded.principals });

  let reloading = Promise.resolve();
  const reload = (why: string): Promise<void> =>
    (reloading = reloading.then(async () => {
      try {
        loaded = await readTokensFile(path, ctx.env, ctx.serverKey);
        ctx.log.info(`tokens file reloaded (${why})`, { tokens: loaded.entries.length, principals: loaded.principals });
      } catch (error) {
        const reason = error instanceof ConfigError ? error.message : String(error);
        ctx.log.error(`tokens file not reloaded (${why}): ${reason} The ${loaded.entries.length} tokens loaded before stay in use.`);
      }
    }));

  const onChange = (now: Stats, before: Stats): void => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) void reload('file changed');
  };
  watchFile(path, { persistent: false, interval: ctx.tokensPollMs ?? TOKENS_POLL_MS }, onChange);

  return {
    mode: 'tokens',
    authenticate: (req) => {
      const token = bearerToken(req);
      return Promise.resolve(token === undefined ? undefined : match(loaded.entries, token));
    },
    challenge: () => PLAIN_CHALLENGE,
    reload: () => reload('SIGHUP'),
    keys: () => [...new Set(loaded.entries.map((entry) => entry.principal.apiKey).filter((key): key is string => key !== undefined))],
    close: () => unwatchFile(path, onChange),
  };
}

/** The file may hold ezrouter keys: say so when others can read it. */
async function warnIfReadable(path: string, log: Logger): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) {
      log.warn(`the tokens file ${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); it may hold ezrouter keys: chmod 600 it`);
    }
  } catch {
    // Read a moment ago; a vanished file shows up on the next reload.
  }
}
