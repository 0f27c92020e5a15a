/**
 * The ezrouter client the tools use: `complete` (surface choice, request, stream, aggregated
 * answer), the cached catalog and the balance. It knows nothing of MCP.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { excerpt } from '../redact.js';
import { parseBalance, type Balance } from './balance.js';
import { CallScope } from './call-scope.js';
import { Catalog, chooseSurface, isClaudeModel, suggestModels, type CatalogSnapshot } from './catalog.js';
import { ConcurrencyLimit, QueueFullError } from './concurrency.js';
import { CallCancelledError, EzrouterError } from './errors.js';
import { isRecord } from './json.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth.js';
import type { Dispatcher } from 'undici';
import { HttpClient, readCapped } from './http.js';
import { holdDispatcher, type DispatcherHolder } from './lazy-dispatcher.js';
import { readAnswer } from './stream-reader.js';
import { surfaceReader } from './surfaces.js';
import type { Completion, CompletionRequest, Surface, TextListener } from './types.js';

export const MODELS_PATH = '/v1/models';
export const BALANCE_PATH = '/v1/user/balance';
/**
 * Longest a call waits for the catalog that `auto` needs for a claude model before it uses the
 * OpenAI surface (which serves every model): a hanging GET /v1/models costs a call this much.
 */
export const CATALOG_WAIT_MS = 2_000;
/** JSON bodies of the catalog and balance endpoints are read up to this size. */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

export interface EzrouterClientOptions {
  config: Readonly<Config>;
  /**
   * The undici dispatcher for every upstream call. When absent, the client creates its own on
   * its first upstream call (undici is not even loaded before) and closes it in `close()`.
   */
  dispatcher?: Dispatcher;
  log: Logger;
  userAgent: string;
  /** First retry backoff (default 500 ms); tests shorten it. */
  retryBaseDelayMs?: number;
}

export interface CompleteOptions {
  surface: Surface | 'auto';
  signal?: AbortSignal;
  onText?: TextListener | undefined;
  /** Told of every piece of reasoning text (progress says "thinking" while only this arrives). */
  onReasoning?: TextListener | undefined;
  /** The call's deadline (default EZROUTER_TIMEOUT_MS; the caller's client may need less). */
  timeoutMs?: number;
}

/** The max_tokens a request body carries, if any. */
function maxTokensSent(body: unknown): number | undefined {
  const value = isRecord(body) ? body['max_tokens'] : undefined;
  return typeof value === 'number' ? value : undefined;
}

/** What a keyed view (withKey) shares with the client it came from. */
interface SharedParts {
  http: HttpClient;
  catalog: Catalog;
  catalogListeners: Set<() => void>;
  slots: ConcurrencyLimit;
}

/**
 * One upstream client can serve many MCP servers at once (the HTTP mode: one socket pool and one
 * catalog cache for every session); it owns its dispatcher and closes it in `close()`.
 */
export class EzrouterClient {
  readonly catalog: Catalog;
  private readonly http: HttpClient;
  private readonly dispatcher: DispatcherHolder | undefined;
  private readonly catalogListeners: Set<() => void>;
  /** The key this client sends: the configured one, or a principal's (see withKey). */
  private readonly apiKey: string | undefined;
  /** Upstream completions in flight, shared by every keyed view. */
  readonly slots: ConcurrencyLimit;

  constructor(
    private readonly options: EzrouterClientOptions,
    shared?: Omit<SharedParts, 'catalog'> & { catalog: Catalog | undefined; apiKey: string | undefined },
  ) {
    if (shared) {
      ({ http: this.http, catalogListeners: this.catalogListeners, slots: this.slots, apiKey: this.apiKey } = shared);
      this.catalog = shared.catalog ?? this.ownCatalog();
      return;
    }
    const { config } = options;
    this.apiKey = config.apiKey;
    this.slots = new ConcurrencyLimit(config.maxConcurrency, config.maxQueue);
    this.dispatcher = holdDispatcher(config, options.dispatcher);
    this.catalogListeners = new Set();
    this.http = new HttpClient({
      baseUrl: config.baseUrl,
      dispatcher: this.dispatcher.get,
      idleTimeoutMs: config.idleTimeoutMs,
      retry: { maxRetries: config.maxRetries, baseDelayMs: options.retryBaseDelayMs ?? 500, maxDelayMs: 8_000 },
      log: options.log,
      userAgent: options.userAgent,
    });
    this.catalog = this.ownCatalog();
  }

  /**
   * The same client (socket pool, catalog cache) sending another key: a principal's own key in
   * the HTTP mode. The catalog is gateway-global, so it is shared and fetched with the
   * configured key. Without a configured key (the HTTP mode's byok), the view keeps a catalog of
   * its own, fetched with its own key: one shared fetch would hand one caller's bad key (and the
   * failure backoff after it) to every other caller. Closing a keyed view closes nothing.
   */
  withKey(apiKey: string | undefined): EzrouterClient {
    const catalog = this.options.config.apiKey ? this.catalog : undefined;
    return new EzrouterClient(this.options, { http: this.http, catalog, catalogListeners: this.catalogListeners, slots: this.slots, apiKey });
  }

  /** A catalog fetched with this client's key. */
  private ownCatalog(): Catalog {
    return new Catalog(() => this.fetchCatalog(), this.options.config.modelsTtlMs, () => {
      for (const listener of this.catalogListeners) listener();
    });
  }

  /** Calls `listener` whenever a catalog refresh finds the model list changed; returns the unsubscribe. */
  onCatalogChange(listener: () => void): () => void {
    this.catalogListeners.add(listener);
    return () => this.catalogListeners.delete(listener);
  }

  /** Closes the sockets of the dispatcher this client created (a given one is left open). */
  close(): Promise<void> {
    return this.dispatcher?.destroy() ?? Promise.resolve();
  }

  /** Asks a model and returns its whole answer, consuming the stream whatever the surface. */
  async complete(req: CompletionRequest, options: CompleteOptions): Promise<Completion> {
    // One deadline and one cancellation for the whole call, the catalog lookup for `auto` included.
    const scope = new CallScope(options.timeoutMs ?? this.options.config.timeoutMs, options.signal);
    let release: (() => void) | undefined;
    try {
      // A slot among EZROUTER_MAX_CONCURRENCY: the wait is part of the call (deadline, cancel).
      release = await this.slots.acquire(scope.signal).catch((reason: unknown) => {
        if (reason instanceof QueueFullError) {
          throw new EzrouterError({
            code: 'rate_limited',
            message: `ezrouter-mcp is busy: ${this.slots.max} calls are in flight and ${reason.waiting} more are waiting (EZROUTER_MAX_CONCURRENCY, EZROUTER_MAX_QUEUE): try again shortly.`,
          });
        }
        if (scope.reason === 'deadline') {
          // Say where the time went: the call never reached ezrouter.
          throw new EzrouterError({
            code: 'timeout',
            message: `The call waited its whole deadline (${scope.timeoutMs} ms) for a free slot and never reached ezrouter: ${this.slots.max} calls were in flight (EZROUTER_MAX_CONCURRENCY). Try again shortly, or raise EZROUTER_MAX_CONCURRENCY.`,
            cause: reason,
          });
        }
        throw this.classify(reason, scope, 'the queue of calls waiting for a slot');
      });
      const surface = options.surface === 'auto' ? await this.autoSurface(req.model, scope) : options.surface;
      const { config } = this.options;
      const upstream = surfaceReader(surface).buildRequest(req, { maxTokens: config.anthropicMaxTokens });
      const res = await this.http.send(upstream, scope, this.apiKey);
      const answer = await readAnswer(
        res,
        surface,
        { onText: options.onText, onReasoning: options.onReasoning, maxAnswerChars: config.maxAnswerChars },
        (error) => this.http.classify(error, scope, upstream.path),
      );
      if (answer.finishReason === 'length' && answer.text.trim() === '' && answer.reasoning !== '') {
        // The whole budget went to thinking: an empty "success" would hide that.
        throw new EzrouterError({
          code: 'reasoning_exhausted',
          message: `The model spent its whole token budget (max_tokens ${maxTokensSent(upstream.body) ?? 'its default'}) on reasoning and wrote no answer: raise max_tokens, or lower reasoning_effort.`,
          status: res.status,
          requestId: res.requestId,
        });
      }
      const completion: Completion = {
        text: answer.text,
        model: answer.model ?? req.model,
        surface,
        finish_reason: answer.finishReason,
        usage: answer.usage,
      };
      if (res.requestId) completion.request_id = res.requestId;
      if (answer.reasoning !== '') completion.reasoning = answer.reasoning;
      if (answer.reasoningTruncated) completion.reasoningTruncated = true;
      return completion;
    } catch (error) {
      if (error instanceof EzrouterError && error.code === 'model_unavailable') throw await this.withSuggestions(error, req.model, scope);
      throw error;
    } finally {
      release?.();
      scope.dispose();
    }
  }

  /** A transport failure as a typed error; a cancellation is thrown as CallCancelledError. */
  private classify(error: unknown, scope: CallScope, path: string): EzrouterError {
    const failure = this.http.classify(error, scope, path);
    if (failure instanceof CallCancelledError) throw failure;
    return failure;
  }

  /**
   * The catalog (cached for EZROUTER_MODELS_TTL_MS unless `refresh`), waited for within the
   * caller's deadline (`timeoutMs`, default EZROUTER_TIMEOUT_MS) and cancellation: past it the
   * call is a `timeout`, and the shared fetch goes on to fill the cache.
   */
  async models(options: { refresh?: boolean; signal?: AbortSignal | undefined; timeoutMs?: number | undefined } = {}): Promise<CatalogSnapshot> {
    const scope = new CallScope(options.timeoutMs ?? this.options.config.timeoutMs, options.signal);
    try {
      return await scope.race(this.catalog.get({ refresh: options.refresh === true }));
    } catch (reason) {
      if (scope.reason !== undefined) throw this.http.classify(reason, scope, MODELS_PATH);
      throw reason;
    } finally {
      scope.dispose();
    }
  }

  /**
   * The account balance as the gateway reports it, within the caller's deadline (`timeoutMs`,
   * default EZROUTER_TIMEOUT_MS); a missing endpoint is `not_supported`.
   */
  async balance(signal?: AbortSignal, timeoutMs?: number): Promise<Balance> {
    try {
      return parseBalance(await this.getJson(BALANCE_PATH, signal, timeoutMs));
    } catch (error) {
      if (error instanceof EzrouterError && error.code === 'not_supported') {
        throw error.with({
          message: `This ezrouter gateway does not offer a balance endpoint (GET ${BALANCE_PATH} answered ${error.status ?? 'not found'}): check the balance in the ezrouter dashboard instead.`,
        });
      }
      throw error;
    }
  }

  /** What `auto` picks for a model: needs the catalog (for claude models); without one, OpenAI. */
  private async autoSurface(model: string, scope: CallScope): Promise<Surface> {
    if (!isClaudeModel(model)) return 'openai';
    const models = (await this.catalogWithin(scope))?.models ?? this.catalog.peek();
    if (!models) this.options.log.debug('catalog unavailable, auto surface falls back to openai', { model: excerpt(model, 80) });
    return chooseSurface(model, models);
  }

  /**
   * The catalog for a call in progress: the shared (cached) fetch, waited for no longer than
   * CATALOG_WAIT_MS (or the idle timeout, if shorter), and never past the call's deadline or
   * cancellation; undefined when it is not there in time (the shared fetch goes on and fills the
   * cache for later calls).
   */
  private async catalogWithin(scope: CallScope): Promise<CatalogSnapshot | undefined> {
    try {
      return await scope.within(this.catalog.get(), Math.min(CATALOG_WAIT_MS, this.options.config.idleTimeoutMs, scope.timeLeft()));
    } catch (reason) {
      throw this.classify(reason, scope, MODELS_PATH);
    }
  }

  private fetchCatalog(): Promise<unknown> {
    return this.getJson(MODELS_PATH);
  }

  private async getJson(path: string, signal?: AbortSignal, timeoutMs?: number): Promise<unknown> {
    const scope = new CallScope(timeoutMs ?? this.options.config.timeoutMs, signal);
    try {
      const res = await this.http.send({ method: 'GET', path, auth: 'bearer' }, scope, this.apiKey);
      const { text, truncated } = await readCapped(res.body, MAX_JSON_BYTES, scope, { lenient: false }).catch((error: unknown) => {
        throw this.classify(error, scope, path).with({ status: res.status, requestId: res.requestId });
      });
      if (truncated) {
        throw new EzrouterError({
          code: 'bad_response',
          message: `ezrouter answered GET ${path} with more than ${MAX_JSON_BYTES / 1024 / 1024} MiB of JSON, more than this server reads.`,
          status: res.status,
          requestId: res.requestId,
        });
      }
      if (!res.contentType.toLowerCase().includes('json') && !text.trimStart().startsWith('{')) {
        throw new EzrouterError({
          code: 'bad_response',
          message: `ezrouter answered GET ${path} with "${res.contentType || 'no content type'}" instead of JSON: check EZROUTER_BASE_URL points at the gateway itself.`,
          status: res.status,
          requestId: res.requestId,
        });
      }
      if (exceedsJsonDepth(text)) {
        throw new EzrouterError({
          code: 'bad_response',
          message: `ezrouter answered GET ${path} with JSON nested deeper than ${MAX_JSON_DEPTH} levels, which no real answer has: this server does not read it.`,
          status: res.status,
          requestId: res.requestId,
        });
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new EzrouterError({
          code: 'bad_response',
          message: `ezrouter answered GET ${path} with JSON that does not parse.`,
          status: res.status,
          requestId: res.requestId,
        });
      }
    } finally {
      scope.dispose();
    }
  }

  private async withSuggestions(error: EzrouterError, model: string, scope: CallScope): Promise<EzrouterError> {
    // No catalog, no suggestions: the error itself still stands.
    const models = (await this.catalogWithin(scope).catch(() => undefined))?.models ?? this.catalog.peek() ?? [];
    const suggestions = suggestModels(model, models);
    const hint = suggestions.length > 0 ? ` Closest catalog ids: ${suggestions.join(', ')}.` : '';
    return error.with({
      message: `ezrouter cannot serve model "${excerpt(model, 80)}" for this key.${hint} Call list_models to see every available model.`,
    });
  }
}
