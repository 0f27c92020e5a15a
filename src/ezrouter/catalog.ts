/**
 * The model catalog (`GET /v1/models`): cached for a TTL, one shared in-flight request for
 * concurrent callers, the stale copy served when a refresh fails, a change callback when a
 * refresh finds a different catalog. Also the `auto` surface rule and "did you mean" ranking.
 */
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
 * Bounded work whatever the caller sent: only a prefix of `wanted` a little longer than the
 * longest catalog id is compared (a longer request cannot be closer to any id anyway).
 */
export function suggestModels(wanted: string, models: readonly ModelEntry[], limit = 5): string[] {
  const longest = models.reduce((n, m) => Math.max(n, m.id.length), 0);
  const target = wanted.slice(0, longest + SUGGESTION_SLACK).toLowerCase();
  const scored = models.map((m) => {
    const id = m.id.toLowerCase();
    let score = levenshtein(target, id);
    if (id.includes(target) || target.includes(id)) score -= 100;
    else if (id.split(/[-.]/)[0] === target.split(/[-.]/)[0]) score -= 50;
    return { id: m.id, score };
  });
  scored.sort((a, b) => a.score - b.score || a.id.localeCompare(b.id));
  return scored.slice(0, limit).map((s) => s.id);
}

/** Characters of the request compared past the longest catalog id. */
const SUGGESTION_SLACK = 8;

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
