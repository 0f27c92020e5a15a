/** `complete` through the SDK Client against createServer + the emulator over loopback HTTP. */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultReply, promptTokens } from '../src/emulator/index.js';
import { errorMeta, startHarness, textOf, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('complete: success', () => {
  it('OpenAI surface: exact text, usage, finish reason, request id, request shape', async () => {
    h = await startHarness({ env: { EZROUTER_USER_ID: 'end-user-42' } });
    const result = await h.call('complete', { prompt: 'What is 2+2?', model: 'deepseek-v4-flash', max_tokens: 500, temperature: 0.2, stop: ['NEVER'] });
    expect(result.isError).toBeFalsy();
    const expected = defaultReply('deepseek-v4-flash', 'What is 2+2?');
    expect(textOf(result)).toBe(expected);
    const req = h.emulator.requests.find((r) => r.path === '/v1/chat/completions')!;
    expect(req.headers['authorization']).toBe(`Bearer ${h.emulator.apiKey}`);
    expect(req.body).toMatchObject({
      model: 'deepseek-v4-flash',
      messages: [{ role: 'user', content: 'What is 2+2?' }],
      max_tokens: 500,
      temperature: 0.2,
      stop: ['NEVER'],
      user_id: 'end-user-42',
    });
    const deltas = Math.ceil(expected.length / 4);
    expect(result.structuredContent).toEqual({
      text: expected,
      model: 'deepseek-v4-flash',
      surface: 'openai',
      finish_reason: 'stop',
      usage: {
        prompt_tokens: promptTokens('What is 2+2?'.length),
        completion_tokens: deltas,
        total_tokens: promptTokens('What is 2+2?'.length) + deltas,
        cached_tokens: 0,
      },
      request_id: req.id,
    });
  });

  it('auto picks the Anthropic surface for claude models, with its request shape', async () => {
    h = await startHarness({ env: { EZROUTER_USER_ID: 'end-user-42' } });
    const result = await h.call('complete', {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi there' },
      ],
      system: 'You are helpful.',
      model: 'claude-sonnet-4-6',
      stop: 'STOP',
    });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe(defaultReply('claude-sonnet-4-6', 'Hi there'));
    const sc = result.structuredContent as Record<string, unknown>;
    expect(sc['surface']).toBe('anthropic');
    expect(sc['finish_reason']).toBe('stop');
    const req = h.emulator.requests.find((r) => r.path === '/anthropic/v1/messages')!;
    expect(req.headers['x-api-key']).toBe(h.emulator.apiKey);
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.body).toMatchObject({
      model: 'claude-sonnet-4-6',
      stream: true,
      max_tokens: 4096,
      system: 'You are helpful.\n\nBe brief.',
      messages: [{ role: 'user', content: 'Hi there' }],
      stop_sequences: ['STOP'],
      metadata: { user_id: 'end-user-42' },
    });
    expect(sc['request_id']).toBe(req.id);
    const usage = sc['usage'] as Record<string, number>;
    expect(usage['completion_tokens']).toBe(Math.ceil(defaultReply('claude-sonnet-4-6', 'Hi there').length / 4));
    expect(usage['total_tokens']).toBe(usage['prompt_tokens']! + usage['completion_tokens']!);
  });

  it('an explicit surface is honoured, and auto uses OpenAI for non-claude models', async () => {
    h = await startHarness();
    const viaOpenAI = await h.call('complete', { prompt: 'x', model: 'claude-haiku-4-5', surface: 'openai' });
    expect((viaOpenAI.structuredContent as { surface: string }).surface).toBe('openai');
    const auto = await h.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect((auto.structuredContent as { surface: string }).surface).toBe('openai');
    expect(h.emulator.count('/anthropic')).toBe(0);
  });

  it('maps max_tokens truncation to finish_reason "length" on both surfaces', async () => {
    h = await startHarness();
    for (const model of ['gpt-5.2', 'claude-opus-4-7']) {
      const result = await h.call('complete', { prompt: 'a long question', model, max_tokens: 2 });
      const sc = result.structuredContent as { finish_reason: string; usage: { completion_tokens: number }; text: string };
      expect(sc.finish_reason).toBe('length');
      expect(sc.usage.completion_tokens).toBe(2);
      expect(sc.text).toBe(defaultReply(model, 'a long question').slice(0, 8));
    }
  });

  it('keeps reasoning text out of the answer and accepts a plain JSON body', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', text: 'The answer.', reasoning: 'Let me think step by step.' });
    const reasoned = await h.call('complete', { prompt: 'q', model: 'deepseek-v4-pro' });
    expect(textOf(reasoned)).toBe('The answer.');
    h.emulator.script({ kind: 'stream', text: 'The answer.', reasoning: 'Thinking…' });
    const claude = await h.call('complete', { prompt: 'q', model: 'claude-opus-4-7' });
    expect(textOf(claude)).toBe('The answer.');
    h.emulator.script({ kind: 'stream', text: 'Plain JSON answer.', json: true });
    const json = await h.call('complete', { prompt: 'q', model: 'gpt-5.2' });
    expect(json.isError).toBeFalsy();
    expect(textOf(json)).toBe('Plain JSON answer.');
  });

  it('survives pings, awkward chunk boundaries, CRLF and data: without a space', async () => {
    h = await startHarness();
    const text = 'Grüße aus 東京 🎌 — fin.';
    h.emulator.script({ kind: 'stream', text, pingsBefore: 3, byteSplits: 'random', lineEnding: '\r\n', noSpace: true });
    expect(textOf(await h.call('complete', { prompt: 'q', model: 'glm-5.1' }))).toBe(text);
    h.emulator.script({ kind: 'stream', text, pingsBefore: 2, byteSplits: [1, 2, 3] });
    expect(textOf(await h.call('complete', { prompt: 'q', model: 'claude-haiku-4-5' }))).toBe(text);
  });

  it('auto falls back to the OpenAI surface when the catalog cannot be fetched', async () => {
    h = await startHarness({ env: { EZROUTER_MAX_RETRIES: '0' } });
    h.emulator.script({ kind: 'error', status: 500 }, { path: '/v1/models' });
    const result = await h.call('complete', { prompt: 'hi', model: 'claude-sonnet-4-6' });
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { surface: string }).surface).toBe('openai');
    expect(h.emulator.count('/v1/models')).toBe(1);
    expect(h.emulator.count('/anthropic')).toBe(0);
  });

  it('finish_reason is null when the stream never says', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', text: 'no reason given', finishReason: '' });
    const result = await h.call('complete', { prompt: 'q', model: 'gpt-5.2' });
    expect((result.structuredContent as { finish_reason: unknown }).finish_reason).toBeNull();
  });

  it('uses EZROUTER_DEFAULT_MODEL when no model is given', async () => {
    h = await startHarness({ env: { EZROUTER_DEFAULT_MODEL: 'kimi-k2.6' } });
    const result = await h.call('complete', { prompt: 'hello' });
    expect(textOf(result)).toBe(defaultReply('kimi-k2.6', 'hello'));
  });
});

describe('complete: argument checks made by the handler', () => {
  it.each([
    [{ prompt: 'a', messages: [{ role: 'user', content: 'b' }], model: 'gpt-5.2' }, /either `prompt` or `messages`/],
    [{ model: 'gpt-5.2' }, /`prompt`.*`messages`/],
    [{ prompt: 'a' }, /No model given/],
    [{ messages: [{ role: 'system', content: 'only system' }], model: 'gpt-5.2' }, /only system messages/],
  ])('%j → invalid_request without any upstream call', async (args, message) => {
    h = await startHarness();
    const result = await h.call('complete', args);
    expect(result.isError).toBe(true);
    expect(errorMeta(result)).toEqual({ code: 'invalid_request', retryable: false });
    expect(textOf(result)).toMatch(message);
    expect(textOf(result)).toMatch(/\(ezrouter error: invalid_request\)$/);
    expect(h.emulator.count()).toBe(0);
  });

  it('schema violations are rejected by the SDK input validation', async () => {
    h = await startHarness();
    const result = await h.call('complete', { prompt: 'a', model: 'gpt-5.2', temperature: 5 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/temperature/);
    expect(h.emulator.count()).toBe(0);
  });
});
