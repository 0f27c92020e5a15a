/**
 * Who is calling: every /mcp request goes through one Authenticator, chosen by
 * EZROUTER_HTTP_AUTH. A mode is a small object, so OAuth (issue 13) plugs in beside the others:
 * it validates the bearer token its own way, names the principal, and may add a challenge
 * parameter and a public metadata route.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Env } from '../../config.js';
import type { Logger } from '../../log.js';
import type { AuthMode, HttpConfig } from './http-config.js';

export interface Principal {
  /**
   * Names the caller in logs and limits, never a secret: the tokens file's name, `key:` and a
   * hash prefix of the caller's own key in byok, `anonymous` with none.
   */
  readonly id: string;
  /** The ezrouter key this principal's calls send upstream (undefined: missing_api_key). */
  readonly apiKey: string | undefined;
  /** Owns the principal's stored state (MCP tasks, background jobs): never shared by two principals. */
  readonly scope: string;
}

export interface Authenticator {
  readonly mode: AuthMode;
  /** The caller, or undefined when credentials are missing or wrong (401, with no detail). */
  authenticate(req: IncomingMessage): Promise<Principal | undefined>;
  /** The `WWW-Authenticate` value of a 401 (OAuth adds `resource_metadata`). */
  challenge(req: IncomingMessage): string;
  /** Answers a public route of the mode's own (OAuth's protected-resource metadata); true if it did. */
  route?(req: IncomingMessage, res: ServerResponse): boolean;
  /** Re-reads the mode's configuration (SIGHUP); keeps the previous one when the new one is bad. */
  reload?(): Promise<void>;
  /**
   * The ezrouter keys the mode holds now (its file's), for redacting what no request's redactor
   * sees: a crash of the process (its tokens are kept only as hashes, so they cannot be).
   */
  keys?(): string[];
  close(): void;
}

export interface AuthContext {
  http: Readonly<HttpConfig>;
  /** EZROUTER_API_KEY: what `none` and key-less token entries use. */
  serverKey: string | undefined;
  env: Env;
  log: Logger;
}

/** RFC 6750's b64token after `Bearer `; anything else is no credential. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

/** What an ezrouter key looks like; byok refuses anything else before it reaches the gateway. */
const KEY_SHAPE = /^sk-[A-Za-z0-9\-._~+/]{8,512}=*$/;

export const PLAIN_CHALLENGE = 'Bearer';

/** The caller's `Authorization: Bearer sk-…` is its own ezrouter key, for this request only. */
export function byokAuthenticator(): Authenticator {
  return {
    mode: 'byok',
    authenticate: (req) => {
      const key = bearerToken(req);
      if (key === undefined || !KEY_SHAPE.test(key)) return Promise.resolve(undefined);
      const hash = createHash('sha256').update(key).digest('hex');
      return Promise.resolve({ id: `key:${hash.slice(0, 12)}`, apiKey: key, scope: `key:${hash}` });
    },
    challenge: () => PLAIN_CHALLENGE,
    close: () => {},
  };
}

/** No credentials (loopback only): every caller is `anonymous` and uses the server's key. */
export function noAuthenticator(serverKey: string | undefined): Authenticator {
  const principal: Principal = { id: 'anonymous', apiKey: serverKey, scope: 'anonymous' };
  return {
    mode: 'none',
    authenticate: () => Promise.resolve(principal),
    challenge: () => PLAIN_CHALLENGE,
    close: () => {},
  };
}
