/** The catalog cache, surface choice and suggestions, on an injected fetcher and clock. */
import { describe, expect, it } from 'vitest';
import { Catalog, CATALOG_FAILURE_BACKOFF_MS, chooseSurface, parseCatalog, suggestModels } from '../src/ezrouter/catalog.js';
import { EzrouterError } from '../src/ezrouter/errors.js';

const body = (ids: [string, string[]][]) => ({
  object: 'list',
  success: true,
  data: ids.map(([id, types]) => ({ id, object: 'model', created: 1626777600, owned_by: 'custom', supported_endpoint_types: types })),
});

const CATALOG = body([
  ['claude-sonnet-4-6', ['anthropic', 'openai']],
  ['claude-haiku-4-5', ['anthropic', 'openai']],
  ['deepseek-v4-flash', ['openai']],
  ['deepseek-v4-pro', ['openai']],
  ['gemini-3-pro', ['gemini', 'openai']],
  ['gpt-5.2', ['openai']],
  ['glm-5.1', ['openai']],
  ['kimi-k2.6', ['openai']],
  ['notclaude-anthropic', ['anthropic']],
]);

describe('Catalog', () => {
  it('caches for the TTL and shares one in-flight request', async () => {
    let calls = 0;
    let now = 1_000;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const catalog = new Catalog(async () => {
      calls++;
      await gate;
      return CATALOG;
    }, 5_000, undefined, () => now);
    const concurrent = Promise.all([catalog.get(), catalog.get(), catalog.get()]);
    release();
    const [a, b, c] = await concurrent;
    expect(calls).toBe(1);
    expect(a).toBe(b);
    expect(c.cached).toBe(false);
    expect((await catalog.get()).cached).toBe(true);
    now += 4_999;
    await catalog.get();
    expect(calls).toBe(1);
    now += 1;
    await catalog.get();
    expect(calls).toBe(2);
    await catalog.get({ refresh: true });
    expect(calls).toBe(3);
  });

  it('serves the stale copy when a refresh fails, and throws without one', async () => {
    let fail = true;
    const catalog = new Catalog(async () => {
      if (fail) throw new EzrouterError({ code: 'upstream_error', message: 'down' });
      return CATALOG;
    }, 0);
    await expect(catalog.get()).rejects.toMatchObject({ code: 'upstream_error' });
    fail = false;
    expect((await catalog.get()).stale).toBe(false);
    fail = true;
    const stale = await catalog.get();
    expect(stale.stale).toBe(true);
    expect(stale.staleReason?.code).toBe('upstream_error');
    expect(stale.models).toHaveLength(9);
  });

  it('after a failed refresh, repeats its outcome for a while instead of asking again', async () => {
    let calls = 0;
    let fail = false;
    let now = 0;
    const catalog = new Catalog(async () => {
      calls++;
      if (fail) throw new EzrouterError({ code: 'upstream_error', message: 'down' });
      return CATALOG;
    }, 60_000, undefined, () => now);
    await catalog.get();
    fail = true;
    now = 60_000;
    expect((await catalog.get()).stale).toBe(true);
    expect(calls).toBe(2);
    now += CATALOG_FAILURE_BACKOFF_MS - 1;
    expect((await catalog.get()).stale).toBe(true);
    expect(calls).toBe(2);
    await catalog.get({ refresh: true });
    expect(calls).toBe(3);
    now += CATALOG_FAILURE_BACKOFF_MS;
    fail = false;
    expect((await catalog.get()).stale).toBe(false);
    expect(calls).toBe(4);
  });

  it('calls onChange only when a refresh finds a different catalog', async () => {
    let current: unknown = CATALOG;
    let changes = 0;
    const catalog = new Catalog(async () => current, 0, () => changes++);
    await catalog.get();
    await catalog.get();
    expect(changes).toBe(0);
    current = body([['gpt-5.2', ['openai']]]);
    await catalog.get();
    expect(changes).toBe(1);
  });
});

describe('parseCatalog', () => {
  it('keeps ids, owners and the surfaces this server can call', () => {
    const models = parseCatalog(CATALOG);
    expect(models.find((m) => m.id === 'gemini-3-pro')).toEqual({
      id: 'gemini-3-pro',
      surfaces: ['openai'],
      endpointTypes: ['gemini', 'openai'],
      owned_by: 'custom',
    });
  });

  it('skips junk entries and rejects a body without data', () => {
    expect(parseCatalog({ data: [null, { id: '' }, { id: 'x' }, { id: 'x' }] }).map((m) => m.id)).toEqual(['x']);
    expect(() => parseCatalog({ nope: true })).toThrow(expect.objectContaining({ code: 'bad_response' }));
  });
});

describe('surface choice for auto', () => {
  const models = parseCatalog(CATALOG);
  it.each([
    ['claude-sonnet-4-6', 'anthropic'],
    ['deepseek-v4-flash', 'openai'],
    ['notclaude-anthropic', 'openai'],
    ['claude-unknown', 'openai'],
  ] as const)('%s → %s', (id, surface) => {
    expect(chooseSurface(id, models)).toBe(surface);
  });
  it('without a catalog is openai', () => {
    expect(chooseSurface('claude-sonnet-4-6', undefined)).toBe('openai');
  });
});

describe('suggestions', () => {
  const models = parseCatalog(CATALOG);
  it('ranks the closest ids first, at most 5', () => {
    const s = suggestModels('claude-sonet-4.6', models);
    expect(s[0]).toBe('claude-sonnet-4-6');
    expect(s.length).toBeLessThanOrEqual(5);
    expect(suggestModels('deepseek', models).slice(0, 2).sort()).toEqual(['deepseek-v4-flash', 'deepseek-v4-pro']);
  });
});
