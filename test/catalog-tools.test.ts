/** list_models, get_balance and the catalog resources through the SDK Client. */
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS } from '../src/emulator/index.js';
import { errorMeta, readStored, startHarness, textOf, type Harness } from './harness.js';

/** The bytes of the last tools/call response the client received. */
const lastResponseBytes = (t: Harness): number => Buffer.byteLength(t.received.filter((m) => m.includes('"result"') && m.includes('"content"')).at(-1) ?? '');

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('tool listing', () => {
  it('lists four tools with titles, descriptions, schemas and annotations', async () => {
    h = await startHarness();
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['compare', 'complete', 'get_balance', 'list_models']);
    for (const tool of tools) {
      expect(tool.title).toBeTruthy();
      expect(tool.description!.length).toBeGreaterThan(60);
      expect(tool.outputSchema).toBeTruthy();
      expect(tool.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: true });
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName['list_models']!.annotations?.idempotentHint).toBe(true);
    expect(byName['get_balance']!.annotations?.idempotentHint).toBe(true);
    const props = byName['complete']!.inputSchema.properties as Record<string, { description?: string }>;
    for (const name of ['prompt', 'messages', 'model', 'system', 'max_tokens', 'temperature', 'top_p', 'stop', 'surface']) {
      expect(props[name]?.description, name).toBeTruthy();
    }
    expect(h.client.getInstructions()).toMatch(/list_models/);
  });
});

describe('list_models', () => {
  it('returns the live catalog, cached across calls, with filters', async () => {
    h = await startHarness();
    const first = await h.call('list_models');
    const sc = first.structuredContent as { models: { id: string; surfaces: string[]; owned_by?: string }[]; count: number; fetched_at: string; cached: boolean };
    expect(sc.count).toBe(DEFAULT_MODELS.length);
    expect(sc.cached).toBe(false);
    expect(new Date(sc.fetched_at).toISOString()).toBe(sc.fetched_at);
    expect(sc.models.find((m) => m.id === 'claude-sonnet-4-6')).toEqual({ id: 'claude-sonnet-4-6', surfaces: ['openai', 'anthropic'], owned_by: 'vertex-ai' });
    expect(textOf(first)).toMatch(/^claude-sonnet-4-6 {2}\(openai, anthropic\)$/m);

    const claude = await h.call('list_models', { query: 'CLAUDE' });
    expect((claude.structuredContent as { cached: boolean; models: { id: string }[] }).cached).toBe(true);
    expect((claude.structuredContent as { models: { id: string }[] }).models.every((m) => m.id.startsWith('claude'))).toBe(true);
    const anthropic = await h.call('list_models', { surface: 'anthropic' });
    expect((anthropic.structuredContent as { count: number }).count).toBe(DEFAULT_MODELS.filter((m) => m.supported_endpoint_types.includes('anthropic')).length);
    expect(h.emulator.count('/v1/models')).toBe(1);

    await h.call('list_models', { refresh: true });
    expect(h.emulator.count('/v1/models')).toBe(2);
  });

  it('concurrent callers share one upstream request', async () => {
    h = await startHarness();
    await Promise.all(Array.from({ length: 8 }, () => h.call('list_models')));
    expect(h.emulator.count('/v1/models')).toBe(1);
  });

  it('serves the stale copy, marked, when a refresh fails', async () => {
    h = await startHarness({ env: { EZROUTER_MAX_RETRIES: '0' } });
    await h.call('list_models');
    h.emulator.script({ kind: 'error', status: 503 }, { path: '/v1/models' });
    const stale = await h.call('list_models', { refresh: true });
    expect(stale.isError).toBeFalsy();
    expect((stale.structuredContent as { stale?: boolean }).stale).toBe(true);
    expect(textOf(stale)).toMatch(/refreshing the catalog failed/);
  });

  it('a catalog body that stalls is a timeout (retryable), not an unparseable response', async () => {
    h = await startHarness({ env: { EZROUTER_IDLE_TIMEOUT_MS: '200', EZROUTER_MAX_RETRIES: '0' } });
    h.emulator.script({ kind: 'stream', stallAfterFrames: 1, contentType: 'application/json' }, { path: '/v1/models' });
    const result = await h.call('list_models');
    expect(errorMeta(result)).toMatchObject({ code: 'timeout', retryable: true, status: 200 });
    expect(textOf(result)).toMatch(/EZROUTER_IDLE_TIMEOUT_MS/);
  });

  it('is an error result when there is no catalog at all', async () => {
    h = await startHarness({ env: { EZROUTER_MAX_RETRIES: '0' } });
    h.emulator.script({ kind: 'error', status: 401 }, { path: '/v1/models' });
    const result = await h.call('list_models');
    expect(errorMeta(result)?.code).toBe('invalid_api_key');
  });

  it('sends resources/list_changed when a refresh finds the catalog changed', async () => {
    h = await startHarness();
    let changed = 0;
    h.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      changed++;
    });
    await h.call('list_models');
    await h.call('list_models', { refresh: true });
    expect(changed).toBe(0);
    h.emulator.setModels([...DEFAULT_MODELS, { id: 'new-model-1', owned_by: 'custom', supported_endpoint_types: ['openai'] }]);
    await h.call('list_models', { refresh: true });
    await new Promise((r) => setImmediate(r));
    expect(changed).toBe(1);
  });
});

describe("the client's time budget", () => {
  // The client gives up after 3 s, so the effective deadline is 1 s; the upstream idle timeout
  // and EZROUTER_TIMEOUT_MS (20 s) are far longer, and the test's own timeout is the hang guard.
  const env = { EZROUTER_TIMEOUT_MS: '20000', EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_MAX_RETRIES: '0', EZROUTER_CLIENT_TIMEOUT_MS: '3000' };

  it('a stalled catalog: list_models answers timeout within the deadline', { timeout: 10_000 }, async () => {
    h = await startHarness({ env });
    h.emulator.script({ kind: 'stall' }, { path: '/v1/models' });
    const result = await h.call('list_models');
    expect(errorMeta(result)).toMatchObject({ code: 'timeout', retryable: true });
    expect(textOf(result)).toMatch(/did not answer \/v1\/models within 1000 ms \(the call deadline.*slow or unreachable/);
  });

  it('a stalled catalog: resources/read of the catalog fails with timeout within the deadline', { timeout: 10_000 }, async () => {
    h = await startHarness({ env });
    h.emulator.script({ kind: 'stall' }, { path: '/v1/models' });
    const error = await h.client.readResource({ uri: 'ezrouter://models' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.InternalError, data: { code: 'timeout', retryable: true } });
  });

  it('a stalled balance endpoint: get_balance answers timeout within the deadline', { timeout: 10_000 }, async () => {
    h = await startHarness({ env });
    h.emulator.script({ kind: 'stall' }, { path: '/v1/user/balance' });
    const result = await h.call('get_balance');
    expect(errorMeta(result)).toMatchObject({ code: 'timeout', retryable: true });
    expect(textOf(result)).toMatch(/did not answer \/v1\/user\/balance within 1000 ms/);
  });
});

describe('get_balance', () => {
  it('states the balance as ezrouter reported it', async () => {
    h = await startHarness({ emulator: { balance: { object: 'balance', data: { total_balance: '17.25', currency: 'CNY' } } } });
    const result = await h.call('get_balance');
    expect(result.structuredContent).toEqual({ balance: 17.25, currency: 'CNY', raw: { object: 'balance', data: { total_balance: '17.25', currency: 'CNY' } } });
    expect(textOf(result)).toBe('ezrouter balance: 17.25 CNY.');
  });

  it.each([
    [{ balance: 3 }, 3, null],
    [{ balance_infos: [{ currency: 'USD', total_balance: '8.50' }] }, 8.5, 'USD'],
    [{ data: { available_balance: 1.5 } }, 1.5, null],
    [{ remaining: 0 }, 0, null],
    [{ credits: 'lots' }, null, null],
  ])('parses %j defensively', async (body, balance, currency) => {
    h = await startHarness({ emulator: { balance: body } });
    const result = await h.call('get_balance');
    expect(result.structuredContent).toEqual({ balance, currency, raw: body });
    if (balance === null) expect(textOf(result)).toMatch(/does not recognise/);
  });

  it("a balance body too large for the client's result: raw is left out with a note, and the whole body is linked", async () => {
    const body = { balance: 5, currency: 'USD', history: Array.from({ length: 20_000 }, (_, i) => ({ at: i, note: 'spent "some" credit' })) };
    h = await startHarness({ clientName: 'codex-mcp-client', emulator: { balance: body } });
    const result = await h.call('get_balance');
    expect(lastResponseBytes(h)).toBeLessThanOrEqual(20_480);
    const s = result.structuredContent as { balance: number; currency: string; raw?: unknown; notes?: string[] };
    expect(s).toMatchObject({ balance: 5, currency: 'USD' });
    expect(s.raw).toBeUndefined();
    expect(s.notes).toEqual([expect.stringMatching(/^ezrouter's balance response is [\d,]+ characters of JSON, more than this client accepts in one result, so structuredContent.raw is left out: read it with resources\/read of ezrouter:\/\/answers\//)]);
    expect(textOf(result)).toMatch(/^ezrouter balance: 5 USD\.\n\n\[ezrouter-mcp: ezrouter's balance response is/);
    const link = result.content.find((c) => c.type === 'resource_link') as { uri: string } | undefined;
    expect(JSON.parse(await readStored(h.client, link!.uri))).toEqual(body);
  });

  it('a 404 is not_supported, not a made-up number', async () => {
    h = await startHarness({ emulator: { balance: null } });
    const result = await h.call('get_balance');
    expect(errorMeta(result)).toMatchObject({ code: 'not_supported', status: 404, retryable: false });
    expect(textOf(result)).toMatch(/does not offer a balance endpoint/);
  });
});

describe('resources', () => {
  it('lists the catalog resource and one resource per model', async () => {
    h = await startHarness();
    const { resources } = await h.client.listResources();
    expect(resources.find((r) => r.uri === 'ezrouter://models')).toMatchObject({ mimeType: 'application/json' });
    expect(resources.filter((r) => r.uri.startsWith('ezrouter://models/'))).toHaveLength(DEFAULT_MODELS.length);
    const { resourceTemplates } = await h.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('ezrouter://models/{id}');
  });

  it('reads the catalog and one model with its recommended surface', async () => {
    h = await startHarness();
    const all = await h.client.readResource({ uri: 'ezrouter://models' });
    const catalog = JSON.parse((all.contents[0] as { text: string }).text) as { count: number; models: unknown[] };
    expect(all.contents[0]!.mimeType).toBe('application/json');
    expect(catalog.count).toBe(DEFAULT_MODELS.length);
    const one = await h.client.readResource({ uri: 'ezrouter://models/claude-opus-4-7' });
    expect(JSON.parse((one.contents[0] as { text: string }).text)).toEqual({
      id: 'claude-opus-4-7',
      surfaces: ['openai', 'anthropic'],
      owned_by: 'vertex-ai',
      recommended_surface: 'anthropic',
    });
    const gemini = await h.client.readResource({ uri: 'ezrouter://models/gemini-3-pro' });
    expect(JSON.parse((gemini.contents[0] as { text: string }).text)).toMatchObject({ surfaces: ['openai'], recommended_surface: 'openai' });
    expect(h.emulator.count('/v1/models')).toBe(1);
  });

  it('an unknown id is a -32602 JSON-RPC error', async () => {
    h = await startHarness();
    await expect(h.client.readResource({ uri: 'ezrouter://models/no-such-model' })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
  });

  it('completes model ids by prefix', async () => {
    h = await startHarness();
    const result = await h.client.complete({ ref: { type: 'ref/resource', uri: 'ezrouter://models/{id}' }, argument: { name: 'id', value: 'deep' } });
    expect(result.completion.values.sort()).toEqual(['deepseek-v4-flash', 'deepseek-v4-pro']);
    const none = await h.client.complete({ ref: { type: 'ref/resource', uri: 'ezrouter://models/{id}' }, argument: { name: 'id', value: 'zzz' } });
    expect(none.completion.values).toEqual([]);
  });
});
