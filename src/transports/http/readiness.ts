/**
 * `GET /readyz`: can this replica serve calls, i.e. reach the gateway's catalog? The answer is
 * cached (probes from a load balancer never turn into a request each), computed once for
 * concurrent probes, and carries no secret: a status and, when not ready, an error code.
 * With a server key the check is the shared catalog itself (cached for EZROUTER_MODELS_TTL_MS);
 * without one (byok), an unauthenticated GET /v1/models: any answer from the gateway proves it
 * is reachable.
 *
 * The shared store (Redis) is reported, not judged: every replica shares it, so a Redis outage
 * answered with 503 would take every replica out of the balancer at once, although calls that
 * need no shared state still work. Its state is read live on each probe (`store`), and a
 * replica whose store is unreachable is `degraded` (200), not unready.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Config } from '../../config.js';
import { MODELS_PATH, type EzrouterClient } from '../../ezrouter/client.js';
import { EzrouterError } from '../../ezrouter/errors.js';
import { USER_AGENT } from '../../version.js';

export interface ReadyState {
  ready: boolean;
  /** Why not, as an error code (e.g. `network_error`, `invalid_api_key`, `draining`). */
  reason?: string;
  checkedAt: string;
  /** The shared store's state now; absent when the state is in memory. */
  store?: StoreState;
}

export type StoreState = 'ok' | 'unavailable';

/** The /readyz answer: its HTTP status and body. */
export interface ReadyDocument {
  status: 200 | 503;
  body: { status: 'ready' | 'degraded' | 'not_ready'; reason?: string; store?: StoreState; checked_at: string };
}

/** 503 only when this replica cannot serve calls; an unreachable shared store is `degraded` (200). */
export function readyDocument(state: ReadyState): ReadyDocument {
  const store = state.store === undefined ? {} : { store: state.store };
  if (!state.ready) return { status: 503, body: { status: 'not_ready', reason: state.reason ?? 'internal_error', ...store, checked_at: state.checkedAt } };
  return { status: 200, body: { status: state.store === 'unavailable' ? 'degraded' : 'ready', ...store, checked_at: state.checkedAt } };
}

/** Statuses an unauthenticated GET /v1/models gets from a working gateway. */
const REACHABLE_STATUSES = new Set([200, 401, 403]);
export const READY_CACHE_MS = 5000;

export type ReadyCheck = () => Promise<Omit<ReadyState, 'checkedAt'>>;

export function readinessCheck(config: Readonly<Config>, client: EzrouterClient, dispatcher: Dispatcher): ReadyCheck {
  if (config.apiKey) {
    return async () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EzrouterError({ code: 'timeout', message: 'catalog check timed out' })), config.idleTimeoutMs);
      });
      try {
        // The catalog fetch may retry for long; the probe answers within the idle timeout.
        const snapshot = await Promise.race([client.models(), late]);
        return snapshot.stale ? { ready: false, reason: snapshot.staleReason?.code ?? 'stale_catalog' } : { ready: true };
      } catch (error) {
        return { ready: false, reason: error instanceof EzrouterError ? error.code : 'internal_error' };
      } finally {
        clearTimeout(timer);
      }
    };
  }
  return async () => {
    const { request } = await import('undici');
    try {
      const res = await request(`${config.baseUrl}${MODELS_PATH}`, {
        method: 'GET',
        dispatcher,
        headers: { 'user-agent': USER_AGENT, accept: 'application/json' },
        headersTimeout: config.idleTimeoutMs,
        bodyTimeout: config.idleTimeoutMs,
      });
      res.body.resume();
      res.body.on('error', () => {});
      return REACHABLE_STATUSES.has(res.statusCode) ? { ready: true } : { ready: false, reason: `http_${res.statusCode}` };
    } catch (error) {
      const code = (error as { code?: string }).code;
      return { ready: false, reason: code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'network_error' };
    }
  };
}

export interface ReadinessOptions {
  /** How long a check's answer is reused. */
  cacheMs?: number;
  /** Whether the shared store is reachable now (undefined: the state is in memory). */
  storeReady?: (() => boolean) | undefined;
  now?: () => number;
}

/** The check's last answer for `cacheMs`, one check at a time; the store's state read live. */
export class Readiness {
  private cached: { state: ReadyState; at: number } | undefined;
  private running: Promise<ReadyState> | undefined;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly storeReady: (() => boolean) | undefined;

  constructor(
    private readonly check: ReadyCheck,
    options: ReadinessOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? READY_CACHE_MS;
    this.now = options.now ?? (() => performance.now());
    this.storeReady = options.storeReady;
  }

  async state(): Promise<ReadyState> {
    const state = await this.checked();
    return this.storeReady ? { ...state, store: this.storeReady() ? 'ok' : 'unavailable' } : state;
  }

  private checked(): Promise<ReadyState> {
    const cached = this.cached;
    if (cached && this.now() - cached.at < this.cacheMs) return Promise.resolve(cached.state);
    this.running ??= this.check()
      .catch((): Omit<ReadyState, 'checkedAt'> => ({ ready: false, reason: 'internal_error' }))
      .then((result) => {
        const state: ReadyState = { ...result, checkedAt: new Date().toISOString() };
        this.cached = { state, at: this.now() };
        return state;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
