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
import {
  CallCancelledError,
  defaultSentence,
  EzrouterError,
  httpError,
  isRetryableStatus,
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

export class HttpClient {
  private readonly random: () => number;

  constructor(private readonly options: HttpClientOptions) {
    this.random = options.random ?? Math.random;
  }

  /**
   * Sends the request with `apiKey` (the server's, or a principal's in the HTTP mode), retrying what may be retried, and resolves with the first 2xx response
   * (body unread). Non-2xx responses, network failures, the deadline and cancellation reject
   * with EzrouterError / CallCancelledError.
   */
  async send(req: UpstreamRequest, scope: CallScope, apiKey: string | undefined): Promise<UpstreamResponse> {
    if (!apiKey) {
      throw new EzrouterError({ code: 'missing_api_key', message: defaultSentence('missing_api_key') });
    }
    const { maxRetries } = this.options.retry;
    const url = this.options.baseUrl + req.path;
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent,
      accept: req.path.endsWith('/messages') || req.path.endsWith('/chat/completions') ? 'text/event-stream, application/json' : 'application/json',
      ...req.headers,
      ...(req.auth === 'bearer' ? { authorization: `Bearer ${apiKey}` } : { 'x-api-key': apiKey }),
    };
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    if (body !== undefined) headers['content-type'] = 'application/json';

    const [{ request }, dispatcher] = await Promise.all([loadUndici(), this.options.dispatcher()]);
    for (let attempt = 1; ; attempt++) {
      let failure: EzrouterError;
      let retryAfterMs: number | undefined;
      try {
        const res = await request(url, {
          method: req.method,
          headers,
          body,
          dispatcher,
          signal: scope.signal,
          headersTimeout: this.options.idleTimeoutMs,
          bodyTimeout: this.options.idleTimeoutMs,
        });
        const requestId = headerValue(res.headers[REQUEST_ID_HEADER]);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          return {
            status: res.statusCode,
            contentType: headerValue(res.headers['content-type']) ?? '',
            requestId,
            headers: res.headers,
            body: res.body,
            attempts: attempt,
          };
        }
        const { text } = await readCapped(res.body, MAX_ERROR_BODY_BYTES, scope, { lenient: true });
        failure = httpError(res.statusCode, parseErrorEnvelope(text), requestId);
        if (res.statusCode >= 300 && res.statusCode < 400) {
          const location = headerValue(res.headers['location']);
          throw failure.with({
            attempts: attempt,
            upstreamMessage: undefined,
            message: `ezrouter answered ${req.method} ${req.path} with a redirect (HTTP ${res.statusCode}${location ? ` to ${location}` : ''}): set EZROUTER_BASE_URL to the gateway's API root${location ? ' that it points to' : ''}, e.g. https://www.ezrouter.dev.`,
          });
        }
        if (!isRetryableStatus(res.statusCode)) throw failure.with({ attempts: attempt });
        retryAfterMs = retryAfter(res.headers);
      } catch (error) {
        if (error instanceof EzrouterError && error.attempts !== undefined) throw error;
        failure = error instanceof EzrouterError ? error : this.transportError(error, scope, req.path);
        if (!isRetryableTransport(failure, scope)) throw failure.with({ attempts: attempt });
      }

      const delay = this.backoff(attempt, retryAfterMs);
      if (attempt > maxRetries || delay >= scope.timeLeft()) {
        throw failure.with({ attempts: attempt, message: withAttempts(failure.message, attempt) });
      }
      this.options.log.info(`retrying ${req.method} ${req.path} in ${delay} ms after ${failure.code}`, {
        attempt,
        maxRetries,
        status: failure.status,
        requestId: failure.requestId,
      });
      try {
        await sleep(delay, scope.signal);
      } catch {
        throw this.transportError(scope.signal.reason, scope, req.path).with({ attempts: attempt });
      }
    }
  }

  /**
   * Turns whatever undici threw into a typed error. An abort of the scope wins over the error
   * object itself: it says whether the deadline passed or the caller cancelled.
   */
  transportError(error: unknown, scope: CallScope, path: string): EzrouterError {
    if (scope.reason === 'cancelled') throw new CallCancelledError();
    if (scope.reason === 'deadline') {
      return new EzrouterError({
        code: 'timeout',
        message: `ezrouter did not finish within ${scope.timeoutMs} ms (EZROUTER_TIMEOUT_MS): raise it for long answers, or try a faster model.`,
        cause: error,
      });
    }
    // undici's documented error codes for its headersTimeout / bodyTimeout.
    const undiciCode = (error as { code?: unknown } | null)?.code;
    if (undiciCode === 'UND_ERR_HEADERS_TIMEOUT' || undiciCode === 'UND_ERR_BODY_TIMEOUT') {
      const what = undiciCode === 'UND_ERR_HEADERS_TIMEOUT' ? 'respond' : 'send more of the answer';
      return new EzrouterError({
        code: 'timeout',
        message: `ezrouter did not ${what} within ${this.options.idleTimeoutMs} ms (EZROUTER_IDLE_TIMEOUT_MS): it may be overloaded; raise the variable or try again.`,
        cause: error,
      });
    }
    const detail = describeNetworkError(error);
    const tls = isTlsError(error);
    return new EzrouterError({
      code: 'network_error',
      message: tls
        ? `TLS verification failed for ${this.options.baseUrl} (${detail}): if your network uses a private certificate authority, set NODE_EXTRA_CA_CERTS to its PEM file.`
        : `Could not reach ezrouter at ${this.options.baseUrl}${path} (${detail}): check the network, EZROUTER_BASE_URL and any proxy settings.`,
      cause: error,
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

/** Network failures and a head that never came (idle timeout) are retried; a passed deadline is final. */
function isRetryableTransport(error: EzrouterError, scope: CallScope): boolean {
  return !scope.signal.aborted && (error.code === 'network_error' || error.code === 'timeout');
}

function withAttempts(message: string, attempts: number): string {
  if (attempts <= 1) return message;
  return `${message.replace(/[.:]?\s*$/, '')} (gave up after ${attempts} attempts).`;
}

/** Reads at most `cap` bytes of a body as UTF-8 and discards the rest. */
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

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR')) return code;
    current = current.cause;
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isTlsError(error: unknown): boolean {
  return TLS_CODES.test(errorCode(error) ?? '');
}

function describeNetworkError(error: unknown): string {
  const code = errorCode(error);
  if (code === 'UND_ERR_SOCKET') return 'connection closed by the server';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timed out';
  if (code) return code;
  return error instanceof Error ? error.message.slice(0, 120) : 'unknown error';
}
