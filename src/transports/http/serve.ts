/**
 * `ezrouter-mcp http`: the process around the HTTP app. One shared upstream client and
 * dispatcher, the authenticator, the limits; one "listening on" line; SIGTERM / SIGINT drain
 * (stop accepting, finish calls for up to EZROUTER_HTTP_DRAIN_MS, abort the rest, exit 0; a
 * second signal exits at once); SIGHUP re-reads the tokens file. stdout stays silent.
 */
import type { AddressInfo } from 'node:net';
import type { Config, Env } from '../../config.js';
import { EzrouterClient } from '../../ezrouter/client.js';
import { createDispatcher } from '../../ezrouter/dispatcher.js';
import { createLogger, type Logger, type LogSink } from '../../log.js';
import { installCrashHandlers } from '../../crash.js';
import { createRedactor, maskKey, unredactableKeyWarning } from '../../redact.js';
import { USER_AGENT, VERSION } from '../../version.js';
import { createHttpApp, MCP_PATH, type HttpApp } from './app.js';
import type { Authenticator } from './auth.js';
import { createAuthenticator } from './auth-mode.js';
import { hostForUrl, isLoopbackHost, isWildcardHost, type HttpConfig } from './http-config.js';
import { Readiness, readinessCheck } from './readiness.js';
import { openSharedState } from './shared-state.js';

export interface HttpServiceOptions {
  /** Where logs go (stderr); tests collect them. */
  sink?: LogSink;
  /** Tokens file poll interval; tests shorten it. */
  tokensPollMs?: number;
  /** How long a /readyz answer is reused. */
  readyCacheMs?: number;
  /** First upstream retry backoff; tests shorten it. */
  retryBaseDelayMs?: number;
}

export interface HttpService {
  app: HttpApp;
  log: Logger;
  authenticator: Authenticator;
  /** Listens on the configured address; resolves with the /mcp URL. */
  listen(): Promise<string>;
  /** Drains (up to EZROUTER_HTTP_DRAIN_MS), aborts what is left, releases everything; resolves with how many were aborted. */
  stop(): Promise<number>;
}

/** The HTTP mode's parts, wired: what `serveHttp` runs and what the tests start in-process. Throws ConfigError for a bad tokens file. */
export async function startHttpService(config: Readonly<Config>, http: Readonly<HttpConfig>, env: Env, options: HttpServiceOptions = {}): Promise<HttpService> {
  const sink = options.sink ?? process.stderr;
  const log = createLogger(config.logLevel, createRedactor(config.apiKey), sink, { format: 'json' });
  const authenticator = await createAuthenticator({ http, serverKey: config.apiKey, env, log, tokensPollMs: options.tokensPollMs });
  const dispatcher = createDispatcher(config);
  const client = new EzrouterClient({ config, dispatcher, log, userAgent: USER_AGENT, retryBaseDelayMs: options.retryBaseDelayMs });
  // One answer store, task store and set of limits for every request: an ezrouter://answers link
  // or a job started by one request is read by a later one (in memory: one replica; with
  // EZROUTER_REDIS_URL: every replica).
  const shared = await openSharedState(config, http, log);
  const { answers, tasks, limits } = shared;
  const readiness = new Readiness(readinessCheck(config, client, dispatcher), { cacheMs: options.readyCacheMs, storeReady: shared.storeReady });
  const app = createHttpApp({ config, http, client, answers, tasks, authenticator, limits, readiness, log, sink, cancelRelay: shared.cancelRelay, clientNames: shared.clientNames });
  let stopping: Promise<number> | undefined;
  return {
    app,
    log,
    authenticator,
    listen: async () => {
      await new Promise<void>((resolve, reject) => {
        app.server.once('error', reject);
        app.server.listen(http.port, http.host, () => {
          app.server.off('error', reject);
          resolve();
        });
      });
      app.server.on('error', (error) => log.error('the HTTP server failed', { error }));
      const { port } = app.server.address() as AddressInfo;
      return `http://${hostForUrl(http.host)}:${port}${MCP_PATH}`;
    },
    stop: () =>
      (stopping ??= (async () => {
        const { aborted } = await app.shutdown(http.drainMs);
        authenticator.close();
        await shared.close().catch(() => {}); // background jobs still running are aborted with the process
        await client.close().catch(() => {});
        await dispatcher.destroy().catch(() => {});
        return aborted;
      })()),
  };
}

/** `ezrouter-mcp http`. Throws ConfigError for a bad tokens file (the CLI exits 2); resolves once listening. */
export async function serveHttp(config: Readonly<Config>, http: Readonly<HttpConfig>, env: Env): Promise<void> {
  const service = await startHttpService(config, http, env);
  const { app, log, authenticator } = service;
  // A crash is one redacted JSON line, then exit 1: redacted of the server key and every key the
  // auth mode holds at that moment (a crash message could quote any principal's).
  installCrashHandlers(() => createLogger(config.logLevel, createRedactor(config.apiKey, ...(authenticator.keys?.() ?? [])), process.stderr, { format: 'json' }));
  warnings(config, http).forEach((warning) => log.warn(warning));

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) {
      log.warn(`${why} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`draining (${why}): no new requests; ${app.inFlight} in flight get up to ${http.drainMs} ms`);
    const aborted = await service.stop();
    if (aborted > 0) log.warn(`aborted ${aborted} request(s) still in flight after ${http.drainMs} ms`);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (authenticator.reload) void authenticator.reload();
    else log.info(`SIGHUP: nothing to reload with EZROUTER_HTTP_AUTH=${http.auth}`);
  });

  let url: string;
  try {
    url = await service.listen();
  } catch (error) {
    log.error(`cannot listen on ${hostForUrl(http.host)}:${http.port}`, { error });
    process.exit(1);
  }
  log.info(`ezrouter-mcp ${VERSION} listening on ${url}`, {
    url,
    auth: http.auth,
    gateway: config.baseUrl,
    key: config.apiKey ? maskKey(config.apiKey) : 'none',
  });
}

/** What an operator should know before the first request. */
export function warnings(config: Readonly<Config>, http: Readonly<HttpConfig>): string[] {
  const out: string[] = [];
  const shortKey = unredactableKeyWarning(config.apiKey);
  if (shortKey) out.push(shortKey);
  if (http.auth === 'none') {
    out.push(`EZROUTER_HTTP_AUTH=none: every process on this machine can use this server${config.apiKey ? ' and its ezrouter key' : ''} without credentials`);
  }
  if (!isLoopbackHost(http.host)) {
    out.push(`listening on ${http.host}, beyond this machine, over plain HTTP: put a TLS reverse proxy in front (README, "Remote mode")`);
    if (http.defaultAllowedHosts) {
      out.push(
        `EZROUTER_HTTP_ALLOWED_HOSTS is not set: only requests addressed to ${isWildcardHost(http.host) ? 'localhost' : `${http.host} or localhost`} are answered (others get 403); set it to the name clients use`,
      );
    }
  }
  if (http.auth === 'byok' && !config.apiKey) {
    out.push('byok without EZROUTER_API_KEY: each request fetches the model catalog with its caller\'s key; set EZROUTER_API_KEY to fetch it once and share it');
  }
  return out;
}
