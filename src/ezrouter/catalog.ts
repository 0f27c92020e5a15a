/**
 * The model catalog (`GET /v1/models`): cached for a TTL, one shared in-flight request for
 * concurrent callers, the stale copy served when a refresh fails, a change callback when a
 * refresh finds a different catalog. Also the `auto` surface rule and "did you mean" ranking.
 */
import { excerpt } from '../redact.js';
import { EzrouterError } from './errors.js';
import { isRecord } from './json.js';
import { SURFACES, type Surface } from './types.js';

export interface ModelEntry {
  id: string;
  /** Surfaces this server can call for the model (subset of `supported_endpoint_types`). */
  surfaces: Surface[];
  /** Every endpoint type the gateway lists, e.g. `["gemini","openai"]`. */
  endpointTypes: string[];
  owned_by?: string;
}

export interface CatalogSnapshot {
  models: readonly ModelEntry[];
  fetchedAt: Date;
  /** Served from the cache rather than fetched for this call. */
  cached: boolean;
  /** A refresh failed and this is the last good copy. */
  stale: boolean;
  /** Why the refresh failed, when stale. */
  staleReason?: EzrouterError;
}

export type ModelsFetcher = () => Promise<unknown>;

/** After a failed refresh, callers get its outcome again (stale copy or error) for this long. */
export const CATALOG_FAILURE_BACKOFF_MS = 10_000;

export class Catalog {
  private snapshot: { models: ModelEntry[]; fetchedAt: Date } | undefined;
  private inflight: Promise<CatalogSnapshot> | undefined;
  /** The last refresh failed: when, and with what. */
  private failure: { at: number; error: unknown } | undefined;

  constructor(
    private readonly fetchModels: ModelsFetcher,
    private readonly ttlMs: number,
    private readonly onChange: () => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The catalog, from the cache while it is fresh (unless `refresh`). Concurrent callers share
   * one upstream request. A failed refresh serves the stale copy if there is one, else throws;
   * for a short while after a failure, that outcome is repeated instead of asking again.
   */
  get(options: { refresh?: boolean } = {}): Promise<CatalogSnapshot> {
    const current = this.snapshot;
    if (!options.refresh && current && this.now() - current.fetchedAt.getTime() < this.ttlMs) {
      return Promise.resolve({ ...current, cached: true, stale: false });
    }
    const failure = this.failure;
    if (!options.refresh && failure && this.now() - failure.at < Math.min(this.ttlMs, CATALOG_FAILURE_BACKOFF_MS)) {
      return current ? Promise.resolve(this.stale(current, failure.error)) : Promise.reject(failure.error);
    }
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The last good catalog, without any network call (undefined before the first fetch). */
  peek(): readonly ModelEntry[] | undefined {
    return this.snapshot?.models;
  }

  private async refresh(): Promise<CatalogSnapshot> {
    let models: ModelEntry[];
    try {
      models = parseCatalog(await this.fetchModels());
    } catch (error) {
      // A missing key is not a gateway failure: nothing to back off from.
      if (!(error instanceof EzrouterError && error.code === 'missing_api_key')) this.failure = { at: this.now(), error };
      const previous = this.snapshot;
      if (previous && error instanceof EzrouterError && error.code !== 'missing_api_key') return this.stale(previous, error);
      throw error;
    }
    this.failure = undefined;
    const previous = this.snapshot;
    this.snapshot = { models, fetchedAt: new Date(this.now()) };
    if (previous && !sameCatalog(previous.models, models)) this.onChange();
    return { ...this.snapshot, cached: false, stale: false };
  }

  private stale(copy: { models: ModelEntry[]; fetchedAt: Date }, reason: unknown): CatalogSnapshot {
    const snapshot: CatalogSnapshot = { ...copy, cached: true, stale: true };
    if (reason instanceof EzrouterError) snapshot.staleReason = reason;
    return snapshot;
  }
}

/** Reads `{data:[{id, owned_by, supported_endpoint_types}]}`, skipping entries without an id. */
export function parseCatalog(body: unknown): ModelEntry[] {
  const data = isRecord(body) ? body['data'] : undefined;
  if (!Array.isArray(data)) {
    throw new EzrouterError({
      code: 'bad_response',
      message: 'ezrouter\'s model list (GET /v1/models) has no "data" array: check EZROUTER_BASE_URL points at the gateway.',
    });
  }
  const models: ModelEntry[] = [];
  const seen = new Set<string>();
  for (const entry of data) {
    if (!isRecord(entry) || typeof entry['id'] !== 'string' || entry['id'] === '' || seen.has(entry['id'])) continue;
    seen.add(entry['id']);
    const types = Array.isArray(entry['supported_endpoint_types'])
      ? entry['supported_endpoint_types'].filter((t): t is string => typeof t === 'string')
      : [];
    // Without the extension field, assume the OpenAI surface (it covers the whole catalog).
    const endpointTypes = types.length > 0 ? types : ['openai'];
    const model: ModelEntry = {
      id: entry['id'],
      surfaces: SURFACES.filter((s) => endpointTypes.includes(s)),
      endpointTypes,
    };
    if (typeof entry['owned_by'] === 'string' && entry['owned_by'] !== '') model.owned_by = entry['owned_by'];
    models.push(model);
  }
  models.sort((a, b) => a.id.localeCompare(b.id));
  return models;
}

/**
 * `auto`: the Anthropic surface for a claude model the catalog lists with `anthropic`;
 * otherwise (or without a catalog) the OpenAI surface, which covers every model.
 */
export function chooseSurface(modelId: string, models: readonly ModelEntry[] | undefined): Surface {
  if (!isClaudeModel(modelId)) return 'openai';
  const entry = models?.find((m) => m.id === modelId);
  return entry?.surfaces.includes('anthropic') ? 'anthropic' : 'openai';
}

/** Only claude models go to the Anthropic surface with `auto`: others need no catalog to decide. */
export function isClaudeModel(modelId: string): boolean {
  return modelId.toLowerCase().startsWith('claude');
}

/**
 * Up to `limit` catalog ids closest to `wanted`: shared substrings first, then edit distance.
 * Bounded work whatever the caller or the gateway sent: only the first SUGGESTION_COMPARED_CHARS
 * characters of the request and of each id are compared (real ids are tens of characters), the
 * edit distance is computed for at most SUGGESTION_SCORED entries (the cheap substring and
 * family checks pick them first), and each suggestion is quoted as a short excerpt.
 */
export function suggestModels(wanted: string, models: readonly ModelEntry[], limit = 5): string[] {
  const longest = models.reduce((n, m) => Math.max(n, Math.min(m.id.length, SUGGESTION_COMPARED_CHARS)), 0);
  const target = wanted.slice(0, longest + SUGGESTION_SLACK).toLowerCase();
  const family = target.split(/[-.]/)[0];
  const cheap = models.map((m) => {
    const id = m.id.slice(0, SUGGESTION_COMPARED_CHARS).toLowerCase();
    const bonus = id.includes(target) || target.includes(id) ? -100 : id.split(/[-.]/)[0] === family ? -50 : 0;
    return { model: m, id, bonus };
  });
  // Stable: within a bonus the catalog order is kept.
  const candidates = cheap.sort((a, b) => a.bonus - b.bonus).slice(0, SUGGESTION_SCORED);
  const scored = candidates.map(({ model, id, bonus }) => ({ id: model.id, score: levenshtein(target, id) + bonus }));
  scored.sort((a, b) => a.score - b.score || a.id.localeCompare(b.id));
  return scored.slice(0, limit).map((s) => excerpt(s.id, SUGGESTION_SHOWN_CHARS));
}

/** Characters of the request compared past the longest (compared part of a) catalog id. */
const SUGGESTION_SLACK = 8;
/** Characters of a request or an id the suggestions look at. */
const SUGGESTION_COMPARED_CHARS = 96;
/** Catalog entries whose edit distance is computed, at most. */
const SUGGESTION_SCORED = 2_000;
/** Longest suggestion quoted. */
const SUGGESTION_SHOWN_CHARS = 64;

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function sameCatalog(a: readonly ModelEntry[], b: readonly ModelEntry[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((m, i) => {
    const other = b[i];
    return other !== undefined && m.id === other.id && m.owned_by === other.owned_by && m.endpointTypes.join() === other.endpointTypes.join();
  });
}
