/**
 * SSE decoding and aggregation, through the stream path's one seam (decodeStream): the same
 * bytes, however the network splits them, give the same answer, with every fast path setting.
 * Covers CRLF / CR line ends, comments, `data:` without a space, multi-byte UTF-8 split across
 * chunks, reasoning kept out of the text (and collected on its own channel), usage from the
 * final chunk, upstream strings that name Object.prototype members.
 */
import { describe, expect, it } from 'vitest';
import { Accumulator } from '../src/ezrouter/accumulator.js';
import { decodeBody, decodeStream, type DecodeStreamOptions } from '../src/ezrouter/decode-stream.js';
import { EzrouterError } from '../src/ezrouter/errors.js';
import { surfaceReader } from '../src/ezrouter/surfaces.js';
import type { Surface } from '../src/ezrouter/types.js';
import { seededRandom } from './random.js';

const ANSWER = 'Héllo, 世界! 🎉 Ça va? — naïve café.';

function openAIStream(lineEnd = '\n', space = ' '): string {
  const frame = (json: unknown) => `data:${space}${JSON.stringify(json)}${lineEnd}${lineEnd}`;
  const pieces = ['Héllo, ', '世界! ', '🎉 Ça', ' va? — ', 'naïve café.'];
  return [
    `: PING${lineEnd}${lineEnd}`,
    frame({ id: 'msg_01abc', object: 'chat.completion.chunk', model: 'gpt-5.2', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    frame({ id: 'msg_01abc', choices: [{ index: 0, delta: { reasoning_content: 'thinking…', reasoning: 'thinking…' } }] }),
    ...pieces.map((p) => frame({ id: 'msg_01abc', choices: [{ index: 0, delta: { content: p } }] })),
    `: PING${lineEnd}`,
    frame({ id: 'msg_01abc', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    frame({
      id: 'msg_01abc',
      choices: [],
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, prompt_tokens_details: { cached_tokens: 3 }, input_tokens: 11, output_tokens: 0 },
    }),
    `data:${space}[DONE]${lineEnd}${lineEnd}`,
  ].join('');
}

function anthropicStream(lineEnd = '\n'): string {
  const ev = (name: string, json: unknown) => `event: ${name}${lineEnd}data: ${JSON.stringify(json)}${lineEnd}${lineEnd}`;
  return [
    ev('message_start', { type: 'message_start', message: { id: 'msg_1', model: 'claude-sonnet-4-6', usage: { input_tokens: 20, cache_read_input_tokens: 5, output_tokens: 1 } } }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
    ev('ping', { type: 'ping' }),
    ...['Héllo, 世界! ', '🎉 Ça va? — ', 'naïve café.'].map((t) =>
      ev('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: t } }),
    ),
    ev('content_block_stop', { type: 'content_block_stop', index: 1 }),
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }),
    ev('message_stop', { type: 'message_stop' }),
  ].join('');
}

const FAST_PATHS = ['bytes', 'strings', 'off'] as const;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Decodes with every fast path setting, checks they agree, and returns the shipped one's answer. */
async function decode(chunks: Uint8Array[], surface: Surface) {
  const [shipped, ...others] = await Promise.all(
    FAST_PATHS.map(async (fastPath) => {
      const { parsedEvents: _events, ...answer } = await decodeStream(chunks, surface, { requestId: 'rid', fastPath } satisfies DecodeStreamOptions);
      return answer;
    }),
  );
  for (const other of others) expect(other).toEqual(shipped);
  const result = shipped!;
  return { text: result.text, finished: result.complete, finish: result.finishReason, usage: result.usage, reasoning: result.reasoning, failure: result.failure };
}

function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const o of [...offsets].sort((a, b) => a - b)) {
    out.push(bytes.subarray(start, o));
    start = o;
  }
  out.push(bytes.subarray(start));
  return out;
}


const cases: { name: string; body: string; surface: Surface; usage: object; finish: string }[] = [
  { name: 'openai, LF', body: openAIStream('\n'), surface: 'openai', usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, cached_tokens: 3 }, finish: 'stop' },
  { name: 'openai, CRLF', body: openAIStream('\r\n'), surface: 'openai', usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, cached_tokens: 3 }, finish: 'stop' },
  { name: 'openai, CR, data: without space', body: openAIStream('\r', ''), surface: 'openai', usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, cached_tokens: 3 }, finish: 'stop' },
  { name: 'anthropic, LF', body: anthropicStream('\n'), surface: 'anthropic', usage: { prompt_tokens: 25, completion_tokens: 9, cached_tokens: 5 }, finish: 'stop' },
  { name: 'anthropic, CRLF', body: anthropicStream('\r\n'), surface: 'anthropic', usage: { prompt_tokens: 25, completion_tokens: 9, cached_tokens: 5 }, finish: 'stop' },
];

describe.each(cases)('$name', ({ body, surface, usage, finish }) => {
  const bytes = new TextEncoder().encode(body);

  it('decodes the whole stream in one chunk', async () => {
    const result = await decode([bytes], surface);
    expect(result.text).toBe(ANSWER);
    expect(result.finished).toBe(true);
    expect(result.finish).toBe(finish);
    expect(result.usage).toMatchObject(usage);
    expect(result.usage).not.toHaveProperty('output_tokens');
  });

  it('gives the same answer split at every byte offset', async () => {
    for (let offset = 1; offset < bytes.length; offset++) {
      const result = await decode(splitAt(bytes, [offset]), surface);
      expect(result.text, `split at ${offset}`).toBe(ANSWER);
      expect(result.finished, `split at ${offset}`).toBe(true);
    }
  });

  it('gives the same answer for 300 random multi-way splits, and byte by byte', async () => {
    const random = seededRandom(0xe2);
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => 1 + Math.floor(random() * (bytes.length - 1)));
      const result = await decode(splitAt(bytes, cuts), surface);
      expect(result.text, `round ${round}, cuts ${cuts.join(',')}`).toBe(ANSWER);
      expect(result.usage).toMatchObject(usage);
    }
    const oneByOne = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    expect((await decode(oneByOne, surface)).text).toBe(ANSWER);
  });
});

describe('property: random keep-alive comments and random chunking never change the answer', () => {
  it.each(cases)('$name', async ({ body, surface, usage, finish }) => {
    const random = seededRandom(0x5eed);
    const lineEnd = body.includes('\r\n') ? '\r\n' : body.includes('\r') ? '\r' : '\n';
    const blank = lineEnd + lineEnd;
    const frames = body.split(blank).filter((f) => f !== '');
    for (let round = 0; round < 200; round++) {
      // Insert 0–3 comment lines (with and without a blank line after them) between frames.
      const withPings = frames
        .map((f) => {
          let pings = '';
          for (let k = Math.floor(random() * 4); k > 0; k--) pings += random() < 0.5 ? `: PING${blank}` : `:keep-alive${lineEnd}`;
          return pings + f + blank;
        })
        .join('');
      const bytes = new TextEncoder().encode(withPings);
      const cuts = Array.from({ length: Math.floor(random() * 20) }, () => 1 + Math.floor(random() * (bytes.length - 1)));
      const result = await decode(splitAt(bytes, cuts), surface);
      expect(result.text, `round ${round}`).toBe(ANSWER);
      expect(result.finished).toBe(true);
      expect(result.finish).toBe(finish);
      expect(result.usage).toMatchObject(usage);
    }
  });
});

describe('stream edge cases', () => {
  it('a stream cut before [DONE] is not finished, and keeps the text so far', async () => {
    const body = openAIStream();
    const cut = body.slice(0, body.indexOf('"finish_reason":"stop"') - 40);
    const result = await decode([enc(cut)], 'openai');
    expect(result.finished).toBe(false);
    expect(ANSWER.startsWith(result.text)).toBe(true);
    expect(result.text.length).toBeGreaterThan(0);
  });

  it('a final frame without its blank line is discarded, not half-read', async () => {
    const result = await decode([enc('data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: [DONE]')], 'openai');
    expect(result.text).toBe('a');
    expect(result.finished).toBe(false);
  });

  it('invalid UTF-8 bytes become U+FFFD instead of failing', async () => {
    const head = enc('data: {"choices":[{"delta":{"content":"a');
    const tail = enc('b"}}]}\n\ndata: [DONE]\n\n');
    const bytes = new Uint8Array([...head, 0xff, 0xfe, ...tail]);
    expect((await decode([bytes], 'openai')).text).toBe('a\uFFFD\uFFFDb');
  });

  it('an OpenAI error frame after text is stream_interrupted with the upstream code', async () => {
    const body =
      'data: {"choices":[{"delta":{"content":"partial"}}]}\n\n' +
      'data: {"error":{"code":"do_request_failed","message":"upstream broke (request id: X)","type":"upstream_error"}}\n\n';
    const caught = (await decode([enc(body)], 'openai')).failure;
    expect(caught).toBeInstanceOf(EzrouterError);
    expect((caught as EzrouterError).code).toBe('stream_interrupted');
    expect((caught as EzrouterError).upstreamCode).toBe('do_request_failed');
  });

  it('an Anthropic error event before any text maps by its type', async () => {
    const body = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const { failure } = await decode([enc(body)], 'anthropic');
    expect(failure).toBeInstanceOf(EzrouterError);
    expect(failure).toEqual(expect.objectContaining({ code: 'upstream_error' }));
  });

  it('malformed JSON in a frame is bad_response', async () => {
    const { failure } = await decode([enc('data: {not json\n\n')], 'openai');
    expect(failure).toBeInstanceOf(EzrouterError);
    expect(failure).toEqual(expect.objectContaining({ code: 'bad_response' }));
  });

  it('maps every Anthropic stop reason to the OpenAI word', async () => {
    const { mapStopReason } = await import('../src/ezrouter/anthropic.js');
    expect(mapStopReason('end_turn')).toBe('stop');
    expect(mapStopReason('stop_sequence')).toBe('stop');
    expect(mapStopReason('max_tokens')).toBe('length');
    expect(mapStopReason('tool_use')).toBe('tool_calls');
    expect(mapStopReason('refusal')).toBe('content_filter');
    expect(mapStopReason(null)).toBeNull();
  });

  it('absurd usage numbers are dropped, not reported', async () => {
    const body =
      'data: {"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}\n\n' +
      'data: {"choices":[],"usage":{"prompt_tokens":-5,"completion_tokens":1e300,"total_tokens":"12","prompt_tokens_details":{"cached_tokens":2}}}\n\n' +
      'data: [DONE]\n\n';
    const result = await decode([enc(body)], 'openai');
    expect(result.usage).toEqual({ prompt_tokens: undefined, completion_tokens: undefined, total_tokens: undefined, cached_tokens: 2 });
  });
});

describe('reasoning is a second channel, never part of the answer text', () => {
  it.each(cases)('$name: the thinking text is collected on its own, once', async ({ body, surface }) => {
    const result = await decode([enc(body)], surface);
    expect(result.text).toBe(ANSWER);
    // OpenAI sends `reasoning_content` and `reasoning` with the same text: counted once.
    expect(result.reasoning).toBe(surface === 'openai' ? 'thinking…' : 'hmm');
  });

  it('openai: `reasoning` is taken when it is the only copy', async () => {
    const body =
      'data: {"choices":[{"delta":{"reasoning":"only here"}}]}\n\n' +
      'data: {"choices":[{"delta":{"reasoning_content":"first","reasoning":"first"}}]}\n\n' +
      'data: {"choices":[{"delta":{"content":"answer"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';
    const result = await decode([enc(body)], 'openai');
    expect(result.reasoning).toBe('only herefirst');
    expect(result.text).toBe('answer');
  });

  it('reasoning past the answer cap is cut, not an error: the answer is unchanged', async () => {
    const frames = Array.from({ length: 10 }, (_, i) => `data: {"choices":[{"delta":{"reasoning_content":"r${i}-"}}]}\n\n`).join('');
    const body = `${frames}data: {"choices":[{"delta":{"content":"short"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`;
    const seen: string[] = [];
    const result = await decodeStream([enc(body)], 'openai', { maxAnswerChars: 10, onReasoning: (piece) => seen.push(piece) });
    expect(result.failure).toBeUndefined();
    expect(result.complete).toBe(true);
    expect(result.text).toBe('short');
    expect(result.reasoning).toBe('r0-r1-r2-');
    expect(result.reasoningTruncated).toBe(true);
    expect(seen).toEqual(['r0-', 'r1-', 'r2-']);
  });

  it('the answer cap still fails the call with the text kept so far', async () => {
    const body = 'data: {"choices":[{"delta":{"content":"12345"}}]}\n\ndata: {"choices":[{"delta":{"content":"67890!"}}]}\n\ndata: [DONE]\n\n';
    const result = await decodeStream([enc(body)], 'openai', { maxAnswerChars: 10 });
    expect(result.failure).toEqual(expect.objectContaining({ code: 'bad_response' }));
    expect(result.text).toBe('12345');
    expect(result.complete).toBe(false);
  });

  it('a plain JSON answer keeps its reasoning apart too, on both surfaces', () => {
    const openai = new Accumulator(surfaceReader('openai'));
    openai.body(JSON.stringify({ model: 'gpt-5.2', choices: [{ message: { content: 'The answer.', reasoning_content: 'Because.' }, finish_reason: 'stop' }] }));
    expect(openai.result()).toMatchObject({ text: 'The answer.', reasoning: 'Because.', finishReason: 'stop', complete: true });
    const anthropic = new Accumulator(surfaceReader('anthropic'));
    anthropic.body(JSON.stringify({ model: 'claude-sonnet-4-6', content: [{ type: 'thinking', thinking: 'Hmm.', signature: 's' }, { type: 'text', text: 'The answer.' }], stop_reason: 'end_turn' }));
    expect(anthropic.result()).toMatchObject({ text: 'The answer.', reasoning: 'Hmm.', finishReason: 'stop', complete: true });
  });

  it('decodeBody (the seam for plain JSON answers): chunks split anywhere, even inside a character, give the same answer; junk is a failure, not a throw', async () => {
    const json = JSON.stringify({ model: 'gpt-5.2', choices: [{ message: { content: 'Réponse 世界 🎉' }, finish_reason: 'stop' }], usage: { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 } });
    const bytes = enc(json);
    for (const at of [1, 30, bytes.length - 3]) {
      const result = await decodeBody([bytes.subarray(0, at), bytes.subarray(at)], 'openai');
      expect(result).toMatchObject({ text: 'Réponse 世界 🎉', model: 'gpt-5.2', finishReason: 'stop', complete: true, failure: undefined });
      expect(result.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    }
    const junk = await decodeBody([enc('{"choices": [')], 'openai');
    expect(junk.failure).toEqual(expect.objectContaining({ code: 'bad_response' }));
    expect(junk.complete).toBe(false);
  });
});

describe('upstream strings that name Object.prototype members are plain unknown values', () => {
  const HOSTILE = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];

  it.each(HOSTILE)('anthropic stop_reason %j is passed through as the finish reason, answer kept', async (reason) => {
    const ev = (name: string, json: unknown) => `event: ${name}\ndata: ${JSON.stringify(json)}\n\n`;
    const body = [
      ev('message_start', { type: 'message_start', message: { model: 'claude-sonnet-4-6', usage: { input_tokens: 3, output_tokens: 1 } } }),
      ev(reason, { type: reason }),
      ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'kept' } }),
      ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: reason, text: 'not text' } }),
      ev('message_delta', { type: 'message_delta', delta: { stop_reason: reason }, usage: { output_tokens: 2 } }),
      ev('message_stop', { type: 'message_stop' }),
    ].join('');
    const result = await decode([enc(body)], 'anthropic');
    expect(result.failure).toBeUndefined();
    expect(result.finish).toBe(reason);
    expect(typeof result.finish).toBe('string');
    expect(result.text).toBe('kept');
    expect(result.finished).toBe(true);
    const json = new Accumulator(surfaceReader('anthropic'));
    json.body(JSON.stringify({ model: 'm', content: [{ type: 'text', text: 'kept' }, { type: reason, text: 'x' }], stop_reason: reason }));
    expect(json.result().finishReason).toBe(reason);
  });

  it.each(HOSTILE)('openai finish_reason %j is passed through, answer kept', async (reason) => {
    const body =
      `event: ${reason}\ndata: {"choices":[{"delta":{"content":"ke"}}]}\n\n` +
      `data: {"choices":[{"delta":{"content":"pt"},"finish_reason":${JSON.stringify(reason)}}]}\n\ndata: [DONE]\n\n`;
    const result = await decode([enc(body)], 'openai');
    expect(result.failure).toBeUndefined();
    expect(result.finish).toBe(reason);
    expect(result.text).toBe('kept');
    const json = new Accumulator(surfaceReader('openai'));
    json.body(JSON.stringify({ choices: [{ message: { content: 'kept' }, finish_reason: reason }] }));
    expect(json.result().finishReason).toBe(reason);
  });
});

describe('upstream JSON nested too deep is refused before JSON.parse', () => {
  const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it.each(['openai', 'anthropic'] as const)('%s: a deep stream frame is bad_response, the text so far kept', async (surface) => {
    const text =
      surface === 'openai'
        ? 'data: {"choices":[{"delta":{"content":"kept"}}]}\n\n'
        : 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"kept"}}\n\n';
    const body = `${text}data: {"choices":[],"x":${nested(100_000)}}\n\n${text}`;
    const result = await decode([enc(body)], surface);
    expect(result.failure).toBeInstanceOf(EzrouterError);
    expect(result.failure).toEqual(expect.objectContaining({ code: 'bad_response', message: expect.stringContaining('nested deeper than 64 levels') }));
    expect(result.text).toBe('kept');
  });

  it('a frame as deep as a real one is read as usual', async () => {
    const body = `data: {"choices":[{"delta":{"content":"ok"}}],"x":${nested(40)}}\n\ndata: [DONE]\n\n`;
    const result = await decode([enc(body)], 'openai');
    expect(result.failure).toBeUndefined();
    expect(result.text).toBe('ok');
  });

  it.each(['openai', 'anthropic'] as const)('%s: a deep JSON answer is bad_response', (surface) => {
    const accumulator = new Accumulator(surfaceReader(surface));
    expect(() => accumulator.body(`{"choices":[],"content":[],"x":${nested(100_000)}}`)).toThrow(
      expect.objectContaining({ code: 'bad_response', message: expect.stringContaining('nested deeper than 64 levels') }),
    );
  });
});
