/**
 * The HTTP mode's own variables (`ezrouter-mcp http`), validated once into a frozen HttpConfig,
 * the same way config.ts reads the others: a bad value names its variable and exits with 2.
 * Closed by default: there is no default auth mode, and `none` is refused off loopback.
 */
import { z } from 'zod';
import { ConfigError, isHttpUrl, optionalText, readVariable, wholeCount, wholeMs, type Env } from '../../config.js';

export const AUTH_MODES = ['tokens', 'byok', 'oauth', 'none'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** oauth mode: what a valid token of a principal not in the keys file gets. */
export const UNLISTED_POLICIES = ['refuse', 'server_key'] as const;
export type UnlistedPolicy = (typeof UNLISTED_POLICIES)[number];

export const DEFAULT_HTTP_PORT = 8787;
export const DEFAULT_HTTP_HOST = '127.0.0.1';
/** EZROUTER_REDIS_LEASE_MS: a crashed replica's jobs read as failed this long after its last heartbeat. */
export const DEFAULT_REDIS_LEASE_MS = 15_000;
/** The SDK's own default bound for a request body. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A Host header the server answers: a name or address, and a port when the entry gave one. */
export interface HostRule {
  /** Lower case; an IPv6 address in brackets, as in a Host header. */
  hostname: string;
  port: number | undefined;
}

export interface HttpConfig {
  port: number;
  /** The address to listen on (an IPv6 address without brackets). */
  host: string;
  auth: AuthMode;
  tokensFile: string | undefined;
  /** Host header values accepted on /mcp (DNS rebinding protection). */
  allowedHosts: readonly HostRule[];
  /** True when EZROUTER_HTTP_ALLOWED_HOSTS was not set (the default list is in use). */
  defaultAllowedHosts: boolean;
  /** Browser origins accepted on /mcp (`scheme://host[:port]`); a request without Origin is fine. */
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  drainMs: number;
  /** Requests in flight on this process, every principal together. */
  maxInFlight: number;
  principalMaxInFlight: number;
  /** 0 = no rate limit. */
  principalRatePerMinute: number;
  /** EZROUTER_REDIS_URL: the Redis that replicas share (answers, jobs/tasks, limits); undefined = in memory. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key (several deployments can share one Redis). */
  redisPrefix: string;
  /** How long a replica's running jobs outlive its last heartbeat (a crashed replica's jobs then read as failed). */
  redisLeaseMs: number;
  /** The oauth mode's settings (present only in that mode). */
  oauth: OAuthConfig | undefined;
}

export interface OAuthConfig {
  /** The authorization server: the tokens' `iss`, named in the protected-resource metadata. */
  issuer: string;
  /** This resource (the tokens' `aud`), e.g. https://mcp.example.com/mcp. */
  audience: string;
  /** Where the issuer's signing keys are (default: {issuer}/.well-known/jwks.json). */
  jwksUrl: string;
  /** The claim that names the principal (default sub). */
  principalClaim: string;
  /** Principal → ezrouter key, as in the tokens file. */
  keysFile: string | undefined;
  /** A principal not in the keys file: refused (401, the default) or given EZROUTER_API_KEY. */
  unlisted: UnlistedPolicy;
}

const HOST_PATTERN = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i;

/** `example.com`, `example.com:8443`, `[::1]:8787` → a HostRule; undefined when it is not one. */
export function parseHostValue(value: string): HostRule | undefined {
  const match = HOST_PATTERN.exec(value.trim());
  if (!match?.[1]) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65_535) return undefined;
  return { hostname: match[1].toLowerCase(), port };
}

/** The origin of an http(s) URL with nothing after the authority, else undefined. */
export function parseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

const IPV4_LOOPBACK = /^127(?:\.\d{1,3}){3}$/;

/** 127.0.0.0/8, ::1 and localhost: the addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || IPV4_LOOPBACK.test(bare) || /^::ffff:127(?:\.\d{1,3}){3}$/.test(bare);
}

/** 0.0.0.0 and :: listen on every interface. */
export function isWildcardHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '0.0.0.0' || bare === '::';
}

/** The host as it appears in a URL or a Host header: IPv6 in brackets. */
export function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

const listOf = <T>(parse: (entry: string) => T | undefined, what: string) =>
  optionalText.pipe(
    z
      .string()
      .transform((s, ctx) => {
        const out: T[] = [];
        for (const entry of s.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
          const value = parse(entry);
          if (value === undefined) {
            ctx.addIssue({ code: 'custom', message: `has an entry that is not ${what}: ${JSON.stringify(entry.length > 80 ? `${entry.slice(0, 77)}...` : entry)}` });
            return z.NEVER;
          }
          out.push(value);
        }
        return out;
      })
      .optional(),
  );

const positive = (fallback: number, min: number, max: number) =>
  wholeCount(fallback, max).pipe(z.number().min(min, `must be at least ${min}`));

const HTTP_VARIABLES = {
  EZROUTER_HTTP_PORT: { schema: wholeCount(DEFAULT_HTTP_PORT, 65_535), flag: '--port', help: 'port to listen on (0 picks a free one)' },
  EZROUTER_HTTP_HOST: {
    schema: optionalText.pipe(
      z
        .string()
        .regex(/^(\[?[0-9a-fA-F:.]+\]?|[A-Za-z0-9._-]+)$/, 'must be an IP address or a host name, e.g. 127.0.0.1')
        .transform((s) => s.replace(/^\[|\]$/g, ''))
        .optional()
        .transform((v) => v ?? DEFAULT_HTTP_HOST),
    ),
    flag: '--host',
    help: 'address to listen on',
  },
  EZROUTER_HTTP_AUTH: {
    schema: optionalText.pipe(
      z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}` }))
        .optional(),
    ),
    flag: '--auth',
    help: 'tokens | byok | oauth | none (loopback only); required',
  },
  EZROUTER_HTTP_TOKENS_FILE: { schema: optionalText, flag: '--tokens-file', help: 'tokens mode: JSON file of token hashes -> principal and ezrouter key' },
  EZROUTER_HTTP_ALLOWED_HOSTS: { schema: listOf(parseHostValue, 'a host name or address with an optional :port'), flag: undefined, help: 'Host headers answered on /mcp (default: the bind address and localhost)' },
  EZROUTER_HTTP_ALLOWED_ORIGINS: { schema: listOf(parseOrigin, 'an origin like https://app.example.com'), flag: undefined, help: 'browser origins allowed on /mcp (default none; no Origin is fine)' },
  EZROUTER_HTTP_MAX_BODY_BYTES: { schema: positive(DEFAULT_MAX_BODY_BYTES, 1024, 64 * 1024 * 1024), flag: undefined, help: 'largest request body, in bytes' },
  EZROUTER_HTTP_HEADERS_TIMEOUT_MS: { schema: wholeMs(10_000, 1), flag: undefined, help: 'time to receive a request\'s head' },
  EZROUTER_HTTP_REQUEST_TIMEOUT_MS: { schema: wholeMs(30_000, 1), flag: undefined, help: 'time to receive a whole request' },
  EZROUTER_HTTP_IDLE_TIMEOUT_MS: { schema: wholeMs(60_000, 100), flag: undefined, help: 'longest silence on a connection' },
  EZROUTER_HTTP_DRAIN_MS: { schema: wholeMs(25_000, 0), flag: undefined, help: 'on SIGTERM, how long calls in flight may finish' },
  EZROUTER_HTTP_MAX_IN_FLIGHT: { schema: positive(256, 1, 100_000), flag: undefined, help: 'requests in flight in this process' },
  EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT: { schema: positive(16, 1, 100_000), flag: undefined, help: 'requests in flight per principal' },
  EZROUTER_HTTP_PRINCIPAL_RATE_PER_MINUTE: { schema: wholeCount(300, 1_000_000), flag: undefined, help: 'requests per minute per principal (0 = no limit)' },
  EZROUTER_HTTP_OAUTH_ISSUER: { schema: optionalText.pipe(z.string().refine(isHttpUrl, 'must be an http(s) URL, e.g. https://login.example.com').optional()), flag: undefined, help: 'oauth mode: the authorization server (the tokens\' iss)' },
  EZROUTER_HTTP_OAUTH_AUDIENCE: { schema: optionalText.pipe(z.string().refine(isHttpUrl, 'must be this resource\'s URL, e.g. https://mcp.example.com/mcp').optional()), flag: undefined, help: 'oauth mode: this resource (the tokens\' aud)' },
  EZROUTER_HTTP_OAUTH_JWKS_URL: { schema: optionalText.pipe(z.string().refine(isHttpUrl, 'must be an http(s) URL').optional()), flag: undefined, help: 'oauth mode: the issuer\'s JWKS (default {issuer}/.well-known/jwks.json)' },
  EZROUTER_HTTP_OAUTH_PRINCIPAL_CLAIM: { schema: optionalText.pipe(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a claim name').optional().transform((v) => v ?? 'sub')), flag: undefined, help: 'oauth mode: the claim that names the principal' },
  EZROUTER_HTTP_OAUTH_KEYS_FILE: { schema: optionalText, flag: undefined, help: 'oauth mode: JSON file mapping principals to ezrouter keys' },
  EZROUTER_HTTP_OAUTH_UNLISTED: {
    schema: optionalText.pipe(
      z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(UNLISTED_POLICIES, { error: `must be one of ${UNLISTED_POLICIES.join(', ')}` }))
        .optional()
        .transform((v) => v ?? 'refuse'),
    ),
    flag: undefined,
    help: 'oauth mode: a principal not in the keys file is refused (401) or uses EZROUTER_API_KEY (server_key)',
  },
  EZROUTER_REDIS_URL: {
    schema: optionalText.pipe(z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL, e.g. redis://redis:6379').optional()),
    flag: undefined,
    help: 'the Redis replicas share (answers, jobs/tasks, limits); unset = in memory',
  },
  EZROUTER_REDIS_PREFIX: {
    schema: optionalText.pipe(z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 : . _ -').optional().transform((v) => v ?? 'ezrouter-mcp:')),
    flag: undefined,
    help: 'prefix of every Redis key',
  },
  EZROUTER_REDIS_LEASE_MS: { schema: wholeMs(DEFAULT_REDIS_LEASE_MS, 300), flag: undefined, help: 'a crashed replica\'s running jobs read as failed this long after its last heartbeat' },
} as const;

type HttpVariable = keyof typeof HTTP_VARIABLES;

/**
 * The help lines of the HTTP variables, generated from the table above (defaults included), so
 * `ezrouter-mcp http --help` never drifts from what is parsed.
 */
export function httpVariableHelp(): { flags: string[]; variables: string[] } {
  const flags: string[] = [];
  const variables: string[] = [];
  for (const [name, spec] of Object.entries(HTTP_VARIABLES)) {
    const parsed = spec.schema.safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? ` (default ${String(parsed.data)})` : '';
    if (spec.flag) flags.push(`  ${`${spec.flag} <value>`.padEnd(30)} same as ${name}${fallback}`);
    variables.push(`  ${name.padEnd(40)} ${spec.help}${fallback}`);
  }
  return { flags, variables };
}

/** Flags of `ezrouter-mcp http`, e.g. `--port` → `EZROUTER_HTTP_PORT`. */
export const HTTP_FLAGS: ReadonlyMap<string, HttpVariable> = new Map(
  Object.entries(HTTP_VARIABLES)
    .filter(([, spec]) => spec.flag !== undefined)
    .map(([name, spec]) => [spec.flag as string, name as HttpVariable]),
);

/** Validates the HTTP mode's variables; throws ConfigError naming the first bad one. */
export function loadHttpConfig(env: Env): Readonly<HttpConfig> {
  const value = <N extends HttpVariable>(name: N): z.output<(typeof HTTP_VARIABLES)[N]['schema']> =>
    readVariable(env, name, HTTP_VARIABLES[name].schema) as z.output<(typeof HTTP_VARIABLES)[N]['schema']>;
  const host = value('EZROUTER_HTTP_HOST');
  const tokensFile = value('EZROUTER_HTTP_TOKENS_FILE');
  // No default mode: a tokens file alone means tokens; anything else must be chosen.
  const auth = value('EZROUTER_HTTP_AUTH') ?? (tokensFile !== undefined ? 'tokens' : undefined);
  if (auth === undefined) {
    throw new ConfigError(
      'EZROUTER_HTTP_AUTH is not set: the HTTP mode never starts open. Choose tokens (with EZROUTER_HTTP_TOKENS_FILE), byok (callers send their own ezrouter key), oauth (with EZROUTER_HTTP_OAUTH_ISSUER and EZROUTER_HTTP_OAUTH_AUDIENCE: tokens from your identity provider) or none (loopback only).',
    );
  }
  let oauth: OAuthConfig | undefined;
  if (auth === 'oauth') {
    const issuer = value('EZROUTER_HTTP_OAUTH_ISSUER');
    const audience = value('EZROUTER_HTTP_OAUTH_AUDIENCE');
    if (issuer === undefined || audience === undefined) {
      throw new ConfigError('EZROUTER_HTTP_AUTH=oauth needs EZROUTER_HTTP_OAUTH_ISSUER (the authorization server) and EZROUTER_HTTP_OAUTH_AUDIENCE (this resource\'s URL, the tokens\' aud).');
    }
    const keysFile = value('EZROUTER_HTTP_OAUTH_KEYS_FILE');
    const unlisted = value('EZROUTER_HTTP_OAUTH_UNLISTED');
    if (keysFile === undefined && unlisted === 'refuse') {
      throw new ConfigError(
        'EZROUTER_HTTP_AUTH=oauth refuses every principal not in EZROUTER_HTTP_OAUTH_KEYS_FILE, and none is set: give the keys file, or set EZROUTER_HTTP_OAUTH_UNLISTED=server_key to let every principal the issuer vouches for use EZROUTER_API_KEY.',
      );
    }
    oauth = {
      issuer,
      audience,
      jwksUrl: value('EZROUTER_HTTP_OAUTH_JWKS_URL') ?? `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
      principalClaim: value('EZROUTER_HTTP_OAUTH_PRINCIPAL_CLAIM'),
      keysFile,
      unlisted,
    };
  }
  if (auth === 'tokens' && tokensFile === undefined) {
    throw new ConfigError('EZROUTER_HTTP_AUTH=tokens needs EZROUTER_HTTP_TOKENS_FILE, the file that maps token hashes to principals.');
  }
  if (auth !== 'tokens' && tokensFile !== undefined) {
    throw new ConfigError(`EZROUTER_HTTP_TOKENS_FILE is set but EZROUTER_HTTP_AUTH is ${auth}: unset one of them.`);
  }
  if (auth === 'none' && !isLoopbackHost(host)) {
    throw new ConfigError(`EZROUTER_HTTP_AUTH=none is allowed only on a loopback address (127.0.0.1, ::1, localhost), not ${JSON.stringify(host)}.`);
  }
  const headersTimeoutMs = value('EZROUTER_HTTP_HEADERS_TIMEOUT_MS');
  const requestTimeoutMs = value('EZROUTER_HTTP_REQUEST_TIMEOUT_MS');
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`EZROUTER_HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed EZROUTER_HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}).`);
  }
  const hosts = value('EZROUTER_HTTP_ALLOWED_HOSTS');
  const config: HttpConfig = {
    port: value('EZROUTER_HTTP_PORT'),
    host,
    auth,
    tokensFile,
    allowedHosts: hosts ?? defaultAllowedHosts(host),
    defaultAllowedHosts: hosts === undefined,
    allowedOrigins: value('EZROUTER_HTTP_ALLOWED_ORIGINS') ?? [],
    maxBodyBytes: value('EZROUTER_HTTP_MAX_BODY_BYTES'),
    headersTimeoutMs,
    requestTimeoutMs,
    idleTimeoutMs: value('EZROUTER_HTTP_IDLE_TIMEOUT_MS'),
    drainMs: value('EZROUTER_HTTP_DRAIN_MS'),
    maxInFlight: value('EZROUTER_HTTP_MAX_IN_FLIGHT'),
    principalMaxInFlight: value('EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT'),
    principalRatePerMinute: value('EZROUTER_HTTP_PRINCIPAL_RATE_PER_MINUTE'),
    oauth,
    redisUrl: value('EZROUTER_REDIS_URL'),
    redisPrefix: value('EZROUTER_REDIS_PREFIX'),
    redisLeaseMs: value('EZROUTER_REDIS_LEASE_MS'),
  };
  return Object.freeze(config);
}

/**
 * The bind address and `localhost`, any port. A wildcard bind (0.0.0.0, ::) is no Host a
 * client sends, so it means the loopback names (as `localhost` does, which may resolve to
 * either loopback address); remote names must be listed explicitly.
 */
function defaultAllowedHosts(host: string): HostRule[] {
  const loopbackNames = isWildcardHost(host) || host.toLowerCase() === 'localhost';
  const names = loopbackNames ? ['localhost', '127.0.0.1', '[::1]'] : [hostForUrl(host).toLowerCase(), 'localhost'];
  return [...new Set(names)].map((hostname) => ({ hostname, port: undefined }));
}
