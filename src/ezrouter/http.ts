/**
 * The HTTP client for ezrouter, on undici: one keep-alive dispatcher shared by every call, auth
 * headers, the idle timer (undici's headersTimeout/bodyTimeout: the response head and every gap
 * between body bytes), the call deadline and cancellation (a CallScope signal), retries with
 * backoff for network errors, 5xx and 429 (only before any response byte was used), and error
 * bodies turned into EzrouterErrors. It knows nothing of MCP.
 *
 * undici itself is loaded on the first request, not at start-up: the server's cold start
 * (initialize, tools/list) never needs it.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.js';
import { CallScope, sleep } from './call-scope.js';
import { excerpt } from '../redact.js';
import {
  CallCancelledError,
  classifyTransportError,
  defaultSentence,
  EzrouterError,
  httpError,
  isAnswerPath,
  mayResend,
  parseErrorEnvelope,
} from './errors.js';

export const REQUEST_ID_HEADER = 'x-oneapi-request-id';
/** Error bodies are read up to this many bytes; the rest is discarded. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface RetryPolicy {
  maxRetries: number;
  /** First backoff; doubles each retry (default 500 ms). */
  baseDelayMs: number;
  /** Cap for one backoff (default 8 s). */
  maxDelayMs: number;
}

export interface HttpClientOptions {
  baseUrl: string;
  /** The shared dispatcher (see DispatcherHolder). */
  dispatcher: () => Promise<Dispatcher>;
  idleTimeoutMs: number;
  retry: RetryPolicy;
  log: Logger;
  userAgent: string;
  /** Source of jitter; tests may pin it. */
  random?: () => number;
}

export type AuthStyle = 'bearer' | 'x-api-key';

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path below the gateway root, e.g. `/v1/models`. */
  path: string;
  auth: AuthStyle;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A 2xx response whose body has not been read yet. */
export interface UpstreamResponse {
  status: number;
  contentType: string;
  requestId: string | undefined;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
  attempts: number;
}

let undiciModule: Promise<typeof import('undici')> | undefined;
const loadUndici = (): Promise<typeof import('undici')> => (undiciModule ??= import('undici'));

/** What one HTTP attempt came to: a usable 2xx response, or a failure (with the server's wait hint). */
type AttemptOutcome =
  | { kind: 'response'; response: UpstreamResponse }
  | { kind: 'failure'; failure: EzrouterError | CallCancelledError; retryAfterMs?: number };

export class HttpClient {
  private readonly random: () => number;

  constructor(private readonly options: HttpClientOptions) {
    this.random = options.random ?? Math.random;
  }

  /**
   * Sends the request with `apiKey` (the server's, or a principal's in the HTTP mode), resending
   * what may be resent, and resolves with the first 2xx response (body unread). Non-2xx
   * responses, network failures, the deadline and cancellation reject with EzrouterError /
   * CallCancelledError; `attempts` on the error says how many attempts were made.
   */
  async send(req: UpstreamRequest, scope: CallScope, apiKey: string | undefined): Promise<UpstreamResponse> {
    if (!apiKey) {
      throw new EzrouterError({ code: 'missing_api_key', message: defaultSentence('missing_api_key') });
    }
    const [{ request }, dispatcher] = await Promise.all([loadUndici(), this.options.dispatcher()]);
    const prepared = this.prepare(req, apiKey);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(prepared, req, scope, attempt, request, dispatcher);
      if (outcome.kind === 'response') return outcome.response;
      const { failure } = outcome;
      if (failure instanceof CallCancelledError) throw failure;
      const delay = this.backoff(attempt, outcome.retryAfterMs);
      if (!mayResend(failure) || scope.signal.aborted || attempt > this.options.retry.maxRetries || delay >= scope.timeLeft()) {
        throw failure.with({ attempts: attempt });
      }
      this.options.log.info(`retrying ${req.method} ${req.path} in ${delay} ms after ${failure.code}`, {
        attempt,
        maxRetries: this.options.retry.maxRetries,
        status: failure.status,
        requestId: failure.requestId,
      });
      try {
        await sleep(delay, scope.signal);
      } catch {
        const ended = this.classify(scope.signal.reason, scope, req.path);
        throw ended instanceof EzrouterError ? ended.with({ attempts: attempt }) : ended;
      }
    }
  }

  /** The URL, headers and body of a request, built once for all its attempts. */
  private prepare(req: UpstreamRequest, apiKey: string): { url: string; headers: Record<string, string>; body: string | undefined } {
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent,
      accept: isAnswerPath(req.path) ? 'text/event-stream, application/json' : 'application/json',
      ...req.headers,
      ...(req.auth === 'bearer' ? { authorization: `Bearer ${apiKey}` } : { 'x-api-key': apiKey }),
    };
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    return { url: this.options.baseUrl + req.path, headers, body };
  }

  /** One HTTP attempt, never throwing: what it came to. */
  private async attempt(
    prepared: { url: string; headers: Record<string, string>; body: string | undefined },
    req: UpstreamRequest,
    scope: CallScope,
    attempt: number,
    request: typeof import('undici').request,
    dispatcher: Dispatcher,
  ): Promise<AttemptOutcome> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(prepared.url, {
        method: req.method,
        headers: prepared.headers,
        body: prepared.body,
        dispatcher,
        signal: scope.signal,
        headersTimeout: this.options.idleTimeoutMs,
        bodyTimeout: this.options.idleTimeoutMs,
      });
    } catch (error) {
      return { kind: 'failure', failure: this.classify(error, scope, req.path) };
    }
    const requestId = headerValue(res.headers[REQUEST_ID_HEADER]);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const encoding = headerValue(res.headers['content-encoding'])?.trim().toLowerCase();
      if (encoding && encoding !== 'identity') {
        discardBody(res.body);
        return {
          kind: 'failure',
          failure: new EzrouterError({
            code: 'bad_response',
            message: `ezrouter answered ${req.method} ${req.path} with a compressed body ("${excerpt(encoding, 20)}") this server did not ask for: a proxy in between may be re-encoding it; check EZROUTER_BASE_URL and the proxy.`,
            status: res.statusCode,
            requestId,
          }),
        };
      }
      return {
        kind: 'response',
        response: {
          status: res.statusCode,
          contentType: headerValue(res.headers['content-type']) ?? '',
          requestId,
          headers: res.headers,
          body: res.body,
          attempts: attempt,
        },
      };
    }
    let text: string;
    try {
      ({ text } = await readCapped(res.body, MAX_ERROR_BODY_BYTES, scope, { lenient: true }));
    } catch (error) {
      return { kind: 'failure', failure: this.classify(error, scope, req.path) };
    }
    const failure = httpError(res.statusCode, parseErrorEnvelope(text), requestId);
    if (res.statusCode >= 300 && res.statusCode < 400) {
      const location = headerValue(res.headers['location']);
      const shown = location === undefined ? undefined : excerpt(location, 120);
      return {
        kind: 'failure',
        failure: failure.with({
          upstreamMessage: undefined,
          message: `ezrouter answered ${req.method} ${req.path} with a redirect (HTTP ${res.statusCode}${shown ? ` to ${shown}` : ''}): set EZROUTER_BASE_URL to the gateway's API root${shown ? ' that it points to' : ''}, e.g. https://www.ezrouter.dev.`,
        }),
      };
    }
    return { kind: 'failure', failure, retryAfterMs: retryAfter(res.headers) };
  }

  /** See classifyTransportError: this client's limits and base URL, the scope's end. */
  classify(error: unknown, scope: CallScope, path: string): EzrouterError | CallCancelledError {
    return classifyTransportError(error, {
      scopeEnd: scope.reason,
      timeoutMs: scope.timeoutMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
      baseUrl: this.options.baseUrl,
      path,
    });
  }

  /** Exponential backoff with jitter: ~0.5 s × 2^(n-1), capped, or what the server asked for. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    if (retryAfterMs !== undefined && retryAfterMs <= 60_000) return Math.ceil(retryAfterMs);
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return Math.round(exp * (1 - 0.25 * this.random()));
  }
}

/**
 * Reads at most `cap` bytes of a body as UTF-8 and discards the rest (`truncated` says so).
 * `lenient` (for error bodies, whose status already tells what happened): a read failure keeps
 * what arrived, unless the call itself was aborted. Otherwise read failures are thrown.
 */
export async function readCapped(
  body: UpstreamResponse['body'],
  cap: number,
  scope: CallScope,
  options: { lenient: boolean },
): Promise<{ text: string; truncated: boolean }> {
  const pieces: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = cap - size;
      if (chunk.length > room) {
        pieces.push(chunk.subarray(0, room));
        truncated = true;
        break;
      }
      pieces.push(chunk);
      size += chunk.length;
    }
  } catch (error) {
    if (!options.lenient || scope.signal.aborted) throw error;
  } finally {
    discardBody(body);
  }
  return { text: Buffer.concat(pieces).toString('utf8'), truncated };
}

/**
 * Stops reading a body and closes it. A body destroyed before its end makes undici abort the
 * request and close the socket (never reused after a broken stream); the error it emits for
 * that is expected, so it is swallowed here instead of surfacing as an unhandled 'error'.
 */
export function discardBody(body: UpstreamResponse['body']): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
function retryAfter(headers: UpstreamResponse['headers']): number | undefined {
  const ms = Number(headerValue(headers['retry-after-ms']));
  if (Number.isFinite(ms) && ms >= 0 && headers['retry-after-ms'] !== undefined) return ms;
  const raw = headerValue(headers['retry-after']);
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
