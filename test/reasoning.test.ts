/**
 * Reasoning control (issue 11): the exact upstream bodies per effort and surface, reasoning
 * returned only when asked (never in the text), a reasoning-only answer cut at the limit as
 * reasoning_exhausted, and "thinking" in progress messages. The emulator thinks when asked.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { errorMeta, readStored, startHarness, textOf, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const structured = (r: CallToolResult): Record<string, unknown> => (r.structuredContent ?? {}) as Record<string, unknown>;
const lastBody = (t: Harness): Record<string, unknown> => t.emulator.requests.filter((r) => r.method === 'POST').at(-1)!.body as Record<string, unknown>;

describe('reasoning_effort: the bodies ezrouter documents', () => {
  const mapped: [string, 'high' | 'max'][] = [['low', 'high'], ['medium', 'high'], ['high', 'high'], ['xhigh', 'max'], ['max', 'max']];

  it('OpenAI surface: reasoning_effort (mapped) at the top level plus thinking: {type: enabled}', async () => {
    const t = (h = await startHarness());
    for (const [asked, sent] of mapped) {
      await t.call('complete', { prompt: 'think', model: 'gpt-5.2', reasoning_effort: asked });
      const body = lastBody(t);
      expect(body['reasoning_effort'], asked).toBe(sent);
      expect(body['thinking'], asked).toEqual({ type: 'enabled' });
    }
  });

  it('Anthropic surface: native thinking with a budget from the effort and max_tokens', async () => {
    const t = (h = await startHarness());
    const cases: { effort: string; max_tokens?: number; sent: { max_tokens: number; budget_tokens: number } }[] = [
      { effort: 'high', sent: { max_tokens: 16_384, budget_tokens: 8_192 } },
      { effort: 'low', sent: { max_tokens: 16_384, budget_tokens: 8_192 } },
      { effort: 'max', sent: { max_tokens: 32_768, budget_tokens: 24_576 } },
      { effort: 'xhigh', max_tokens: 10_000, sent: { max_tokens: 10_000, budget_tokens: 7_500 } },
      { effort: 'medium', max_tokens: 10_000, sent: { max_tokens: 10_000, budget_tokens: 5_000 } },
      { effort: 'high', max_tokens: 1_500, sent: { max_tokens: 1_500, budget_tokens: 1_024 } },
    ];
    for (const c of cases) {
      const r = await t.call('complete', { prompt: 'think', model: 'claude-sonnet-4-6', surface: 'anthropic', reasoning_effort: c.effort, ...(c.max_tokens ? { max_tokens: c.max_tokens } : {}) });
      expect(r.isError, JSON.stringify(c)).toBeFalsy();
      const body = lastBody(t);
      expect(body['max_tokens']).toBe(c.sent.max_tokens);
      expect(body['thinking']).toEqual({ type: 'enabled', budget_tokens: c.sent.budget_tokens });
      expect(body['reasoning_effort']).toBeUndefined();
    }
    const before = t.emulator.count('/anthropic');
    const small = await t.call('complete', { prompt: 'think', model: 'claude-sonnet-4-6', surface: 'anthropic', reasoning_effort: 'high', max_tokens: 1000 });
    expect(errorMeta(small)?.code).toBe('invalid_request');
    expect(textOf(small)).toMatch(/needs max_tokens above 1024/);
    expect(t.emulator.count('/anthropic')).toBe(before);
  });

  it('Anthropic surface: thinking with a changed temperature or a low top_p is refused before anything is sent', async () => {
    const t = (h = await startHarness());
    const before = t.emulator.count('/anthropic');
    const cases: { args: Record<string, unknown>; says: RegExp }[] = [
      { args: { temperature: 0.2 }, says: /does not mix with temperature 0\.2 \(only 1 is allowed\).*Leave out temperature, or reasoning_effort/ },
      { args: { top_p: 0.5 }, says: /does not mix with top_p 0\.5 \(it must be 0\.95–1\).*Leave out top_p, or reasoning_effort/ },
      { args: { temperature: 0, top_p: 0.9 }, says: /temperature 0 \(only 1 is allowed\) or top_p 0\.9.*Leave out temperature and top_p/ },
    ];
    for (const c of cases) {
      const r = await t.call('complete', { prompt: 'think', model: 'claude-sonnet-4-6', surface: 'anthropic', reasoning_effort: 'high', ...c.args });
      expect(errorMeta(r)?.code, JSON.stringify(c.args)).toBe('invalid_request');
      expect(textOf(r)).toMatch(c.says);
    }
    expect(t.emulator.count('/anthropic')).toBe(before);
    // What the API allows with thinking still goes: temperature 1, top_p 0.95.
    const allowed = await t.call('complete', { prompt: 'think', model: 'claude-sonnet-4-6', surface: 'anthropic', reasoning_effort: 'high', temperature: 1, top_p: 0.95 });
    expect(allowed.isError).toBeFalsy();
    expect(lastBody(t)).toMatchObject({ temperature: 1, top_p: 0.95, thinking: { type: 'enabled' } });
    // Without thinking, a temperature is sent as before.
    await t.call('complete', { prompt: 'x', model: 'claude-sonnet-4-6', surface: 'anthropic', temperature: 0.2 });
    expect(lastBody(t)['temperature']).toBe(0.2);
  });

  it('without reasoning_effort nothing changes', async () => {
    const t = (h = await startHarness());
    await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(Object.keys(lastBody(t))).not.toContain('thinking');
    expect(Object.keys(lastBody(t))).not.toContain('reasoning_effort');
    await t.call('complete', { prompt: 'x', model: 'claude-sonnet-4-6', surface: 'anthropic' });
    expect(lastBody(t)['thinking']).toBeUndefined();
    expect(lastBody(t)['max_tokens']).toBe(4096);
  });
});

describe('include_reasoning', () => {
  for (const surface of ['openai', 'anthropic'] as const) {
    it(`${surface}: the reasoning only when asked, never in the text`, async () => {
      const t = (h = await startHarness());
      const model = surface === 'anthropic' ? 'claude-sonnet-4-6' : 'gpt-5.2';
      const args = { prompt: 'why', model, surface, reasoning_effort: 'high' };
      const without = await t.call('complete', args);
      expect(structured(without)['reasoning']).toBeUndefined();
      expect(textOf(without)).not.toMatch(/Thinking about/);
      const withIt = await t.call('complete', { ...args, include_reasoning: true });
      expect(structured(withIt)['reasoning']).toMatch(/^Thinking about "why"/);
      expect(structured(withIt)['text']).toBe(structured(without)['text']);
      expect(structured(withIt)['text']).not.toMatch(/Thinking about/);
    });
  }

  it('compare returns each model\'s reasoning when asked', async () => {
    const t = (h = await startHarness());
    const r = await t.call('compare', { prompt: 'why', models: ['gpt-5.2', 'claude-sonnet-4-6'], reasoning_effort: 'max', include_reasoning: true });
    const answers = structured(r)['answers'] as { reasoning?: string; text?: string }[];
    for (const a of answers) {
      expect(a.reasoning).toMatch(/^Thinking about "why"/);
      expect(a.text).not.toMatch(/Thinking about/);
    }
  });
});

type Cut = { total_chars: number; returned_chars: number; uri: string };
type ComparedShape = { model: string; text?: string; reasoning?: string; truncated?: Cut; reasoning_truncated?: Cut };

/** The bytes of the last tools/call response the client received. */
const lastResponseBytes = (t: Harness): number => Buffer.byteLength(t.received.filter((m) => m.includes('"result"') && m.includes('"content"')).at(-1) ?? '');

describe('reasoning within the size budget', () => {
  it('compare: two models with 50,000 characters of reasoning each stay within Codex\'s budget; the answers come back whole, each reasoning as a head with a link to all of it', async () => {
    const t = (h = await startHarness({ clientName: 'codex-mcp-client' }));
    const reasoning: Record<string, string> = { 'gpt-5.2': 'thinking "hard"\n'.repeat(3_125), 'gpt-5.1': 'r'.repeat(50_000) };
    for (const [model, r] of Object.entries(reasoning)) t.emulator.script({ kind: 'stream', text: 'short', reasoning: r, chunkChars: 2_000 }, { model });
    const r = await t.call('compare', { prompt: 'x', models: Object.keys(reasoning), include_reasoning: true });
    expect(lastResponseBytes(t)).toBeLessThanOrEqual(20_480);
    const answers = structured(r)['answers'] as ComparedShape[];
    for (const a of answers) {
      expect(a.text).toBe('short');
      expect(a.truncated).toBeUndefined();
      const whole = reasoning[a.model]!;
      expect(a.reasoning_truncated).toMatchObject({ total_chars: 50_000, returned_chars: a.reasoning!.length });
      expect(a.reasoning!.length).toBeGreaterThan(2_000);
      expect(whole.startsWith(a.reasoning!)).toBe(true);
      expect(a.reasoning! + (await readStored(t.client, a.reasoning_truncated!.uri, a.reasoning!.length))).toBe(whole);
      expect(textOf(r)).toContain(`The reasoning of ${a.model} has 50,000 characters`);
    }
    expect(r.content.filter((c) => c.type === 'resource_link')).toHaveLength(2);
  });

  it('compare: long answers and long reasoning both fit; the texts have priority', async () => {
    const t = (h = await startHarness({ clientName: 'codex-mcp-client' }));
    for (const model of ['gpt-5.2', 'gpt-5.1']) t.emulator.script({ kind: 'stream', text: 'a'.repeat(30_000), reasoning: 'r'.repeat(30_000), chunkChars: 2_000 }, { model });
    const r = await t.call('compare', { prompt: 'x', models: ['gpt-5.2', 'gpt-5.1'], include_reasoning: true });
    expect(lastResponseBytes(t)).toBeLessThanOrEqual(20_480);
    for (const a of structured(r)['answers'] as ComparedShape[]) {
      expect(a.truncated?.total_chars).toBe(30_000);
      expect(a.reasoning_truncated?.total_chars).toBe(30_000);
      expect(a.text!.length).toBeGreaterThan(2_000);
      expect(a.text!.length).toBeGreaterThan(a.reasoning!.length);
    }
    expect(r.content.filter((c) => c.type === 'resource_link')).toHaveLength(4);
  });

  it('complete: reasoning that does not fit is a head, with the whole of it stored and linked, and a note', async () => {
    const t = (h = await startHarness({ clientName: 'codex-mcp-client' }));
    const whole = 'step by step, "carefully"\n'.repeat(2_000);
    t.emulator.script({ kind: 'stream', text: 'short', reasoning: whole, chunkChars: 2_000 });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', include_reasoning: true });
    expect(lastResponseBytes(t)).toBeLessThanOrEqual(20_480);
    const s = structured(r);
    expect(s['text']).toBe('short');
    const head = s['reasoning'] as string;
    const cut = s['reasoning_truncated'] as Cut;
    expect(cut).toMatchObject({ total_chars: whole.length, returned_chars: head.length });
    // More than the old quarter of the budget: the reasoning gets what the short text leaves.
    expect(head.length).toBeGreaterThan(20_480 / 4);
    expect(head + (await readStored(t.client, cut.uri, head.length))).toBe(whole);
    expect(s['notes']).toEqual([expect.stringMatching(/^The reasoning has 52,000 characters; [\d,]+ of them did not fit in this result: read them with resources\/read of ezrouter:\/\/answers\//)]);
    expect(textOf(r)).toMatch(/\[ezrouter-mcp: The reasoning has 52,000 characters/);
    expect(r.content).toContainEqual(expect.objectContaining({ type: 'resource_link', uri: cut.uri }));
  });

  it('complete: reasoning that fits is returned whole, with no note and no link', async () => {
    const t = (h = await startHarness({ clientName: 'codex-mcp-client' }));
    t.emulator.script({ kind: 'stream', text: 'short', reasoning: 'r'.repeat(12_000) });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', include_reasoning: true });
    expect(structured(r)['reasoning']).toBe('r'.repeat(12_000));
    expect(structured(r)['notes']).toBeUndefined();
    expect(r.content.some((c) => c.type === 'resource_link')).toBe(false);
  });

  it('reasoning cut at EZROUTER_MAX_ANSWER_CHARS is never silent', async () => {
    const t = (h = await startHarness({ env: { EZROUTER_MAX_ANSWER_CHARS: '1000' } }));
    t.emulator.script({ kind: 'stream', text: 'short', reasoning: 'r'.repeat(5_000), chunkChars: 500 });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', include_reasoning: true });
    expect(structured(r)['reasoning']).toBe('r'.repeat(1_000));
    expect(structured(r)['notes']).toEqual([expect.stringMatching(/reasoning went past EZROUTER_MAX_ANSWER_CHARS \(1,000 characters\)/)]);
    expect(textOf(r)).toMatch(/\[ezrouter-mcp: The model's reasoning went past EZROUTER_MAX_ANSWER_CHARS/);
    t.emulator.script({ kind: 'stream', text: 'short', reasoning: 'r'.repeat(5_000), chunkChars: 500 }, { model: 'gpt-5.1' });
    t.emulator.script({ kind: 'stream', text: 'short', reasoning: 'r'.repeat(5_000), chunkChars: 500 }, { model: 'gpt-5.2' });
    const c = await t.call('compare', { prompt: 'x', models: ['gpt-5.2', 'gpt-5.1'], include_reasoning: true });
    for (const a of structured(c)['answers'] as (ComparedShape & { notes?: string[] })[]) expect(a.notes).toEqual([expect.stringMatching(/EZROUTER_MAX_ANSWER_CHARS/)]);
  });
});

describe('reasoning cut-off detection', () => {
  it('OpenAI: all of max_tokens spent thinking is reasoning_exhausted, not an empty success', async () => {
    const t = (h = await startHarness());
    const r = await t.call('complete', { prompt: 'hard question', model: 'gpt-5.2', reasoning_effort: 'high', max_tokens: 5 });
    expect(errorMeta(r)).toMatchObject({ code: 'reasoning_exhausted', retryable: false });
    expect(textOf(r)).toMatch(/max_tokens 5\) on reasoning and wrote no answer: raise max_tokens, or lower reasoning_effort/);
  });

  it('Anthropic: the same when the thinking block uses up max_tokens', async () => {
    const t = (h = await startHarness());
    t.emulator.script({ kind: 'stream', reasoning: 'r'.repeat(6_000), chunkChars: 4 });
    const r = await t.call('complete', { prompt: 'hard', model: 'claude-sonnet-4-6', surface: 'anthropic', reasoning_effort: 'high', max_tokens: 1_100 });
    expect(errorMeta(r)?.code).toBe('reasoning_exhausted');
  });

  it('an answer cut at max_tokens after some text is a normal (noted) success', async () => {
    const t = (h = await startHarness());
    const r = await t.call('complete', { prompt: 'hard question', model: 'gpt-5.2', reasoning_effort: 'high', max_tokens: 26 });
    expect(r.isError).toBeFalsy();
    expect(structured(r)['finish_reason']).toBe('length');
    expect(structured(r)['notes']).toEqual([expect.stringMatching(/max_tokens limit \(26 tokens\)/)]);
  });
});

describe('progress while thinking', () => {
  it('says "thinking" while only reasoning arrives, then the answer', async () => {
    const t = (h = await startHarness());
    t.emulator.script({ kind: 'stream', reasoning: 'pondering deeply '.repeat(10), text: 'the answer is 42 '.repeat(6), chunkChars: 8, frameDelayMs: 15 });
    const messages: { progress: number; message: string }[] = [];
    await t.call('complete', { prompt: 'x', model: 'gpt-5.2', reasoning_effort: 'high' }, { onprogress: (p) => messages.push({ progress: p.progress, message: p.message ?? '' }) });
    expect(messages.some((m) => /^gpt-5\.2 · \d+ s · thinking \([\d,]+ characters of reasoning\)$/.test(m.message))).toBe(true);
    expect(messages.at(-1)?.message).toMatch(/characters received · ".*the answer is 42/);
    for (let i = 1; i < messages.length; i++) expect(messages[i]!.progress).toBeGreaterThan(messages[i - 1]!.progress);
  });
});
