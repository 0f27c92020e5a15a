/**
 * The stream fast paths (FrameShape: frames of a learned shape decoded without JSON.parse; the
 * byte-level matcher taking such frames before the SSE decoder) must never change a result. All
 * through the stream path's one seam, decodeStream, with its `fastPath` setting. Property tests: random
 * streams of both surfaces — escapes (\" \\ \n \uXXXX, surrogate pairs, lone surrogates, upper
 * and lower case hex), unicode, empty and null content, extra and duplicate keys, key orders,
 * whitespace, reasoning, finish and usage chunks, error frames, malformed frames, comments, other
 * SSE fields, CR / CRLF line ends, multi-line data, invalid UTF-8 — cut at random byte offsets,
 * decoded once by the plain path (eventsource-parser + JSON.parse of every frame) and once with
 * both fast paths. Everything observable must be identical: every text piece in order, finish
 * reason, usage, model, reasoning, completeness, and the error (code, message) at the same point.
 */
import { describe, expect, it } from 'vitest';
import { decodeStream } from '../src/ezrouter/decode-stream.js';
import { EzrouterError } from '../src/ezrouter/errors.js';
import { readJsonString } from '../src/ezrouter/fast-path/json-string.js';
import { seededRandom } from './random.js';


class Gen {
  constructor(readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

/** Stands for an invalid UTF-8 sequence, put in place at the byte level (see toBytes). */
const BAD_BYTES = '\uE000';
const ATOMS = [
  'a', 'Hello', ' world', 'x', '1234', ' ', '.', 'tokens', 'naïve', 'café', 'é', '世界', '你', '🎉', '👍🏽', '—', '→',
  '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u0001', '\u001f', '\u007f', '\u2028', '\u2029', '\uFEFF', '\uFFFD',
  '\uD800', '\uDFFF', '\uD83D', '\uDE00', 'data: x', '\n\ndata: [DONE]\n\n', '{"a":1}', '[DONE]', ': PING', 'event: error',
  '"content":"', '\\u0041', BAD_BYTES,
];

function text(g: Gen): string {
  if (g.chance(0.05)) return '';
  let out = '';
  const n = 1 + g.int(g.chance(0.2) ? 30 : 4);
  for (let i = 0; i < n; i++) out += g.chance(0.6) ? g.pick(ATOMS.slice(0, 8)) : g.pick(ATOMS);
  return out;
}

interface Style {
  /** Whitespace after `:` and `,` in JSON. */
  ws: string;
  /** Probability of writing a character as \uXXXX (or `/` as `\/`). */
  escapeRate: number;
  upperHex: boolean;
  eol: '\n' | '\r\n' | '\r';
  space: boolean;
}

function randomStyle(g: Gen): Style {
  return {
    ws: g.chance(0.8) ? '' : g.pick([' ', '  ', '\t']),
    escapeRate: g.chance(0.7) ? 0 : g.pick([0.05, 0.3, 1]),
    upperHex: g.chance(0.5),
    eol: g.chance(0.7) ? '\n' : g.pick(['\r\n', '\r'] as const),
    space: g.chance(0.85),
  };
}

/** A JSON string token for `s`: canonical, or with random (valid) escapes. */
function encodeString(s: string, style: Style, g: Gen): string {
  if (style.escapeRate === 0) return JSON.stringify(s);
  let out = '"';
  for (const ch of s) {
    for (let k = 0; k < ch.length; k++) {
      const c = ch.charCodeAt(k);
      if (c === BAD_BYTES.charCodeAt(0)) out += BAD_BYTES;
      else if (g.chance(style.escapeRate)) {
        if (c === 0x2f && g.chance(0.5)) out += '\\/';
        else {
          const hex = c.toString(16).padStart(4, '0');
          out += `\\u${style.upperHex ? hex.toUpperCase() : hex}`;
        }
      } else out += JSON.stringify(String.fromCharCode(c)).slice(1, -1);
    }
  }
  return `${out}"`;
}

/** A JSON value: objects as ordered entries (duplicates allowed), raw text passed through. */
type Json = null | boolean | number | string | Json[] | { entries: [string, Json][] } | { raw: string };
const obj = (...entries: [string, Json][]): Json => ({ entries });

function ser(v: Json, style: Style, g: Gen): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v);
  if (typeof v === 'string') return encodeString(v, style, g);
  if (Array.isArray(v)) return `[${v.map((x) => ser(x, style, g)).join(`,${style.ws}`)}]`;
  if ('raw' in v) return v.raw;
  return `{${v.entries.map(([k, x]) => `${encodeString(k, style, g)}:${style.ws}${ser(x, style, g)}`).join(`,${style.ws}`)}}`;
}

interface Frame {
  name?: string;
  data: string;
  /** Extra SSE lines before the data (comments, id:, retry:, unknown fields). */
  before?: string[];
  /** Split the data over this many `data:` lines. */
  lines?: number;
}

/** Renders frames as SSE text in the stream's style. */
function sse(frames: (Frame | string)[], style: Style, g: Gen): string {
  const e = style.eol;
  const field = (name: string, value: string): string => `${name}:${style.space ? ' ' : ''}${value}${e}`;
  let out = g.chance(0.1) ? `: first comment${e}${e}` : '';
  for (const f of frames) {
    if (typeof f === 'string') {
      out += f.replaceAll('\n', e);
      continue;
    }
    for (const line of f.before ?? []) out += `${line}${e}`;
    if (f.name !== undefined) out += field('event', f.name);
    const lines = f.lines ?? 1;
    if (lines === 1) out += field('data', f.data);
    else {
      const cuts = Array.from({ length: lines - 1 }, () => g.int(f.data.length + 1)).sort((a, b) => a - b);
      let start = 0;
      for (const cut of [...cuts, f.data.length]) {
        out += field('data', f.data.slice(start, cut));
        start = cut;
      }
    }
    out += e;
  }
  return out;
}

const INVALID_SEQUENCES = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe4, 0xb8], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xf0, 0x9f, 0x8e]];

/** UTF-8 bytes of the stream, each BAD_BYTES replaced by an invalid sequence. */
function toBytes(body: string, g: Gen): Uint8Array {
  const parts = body.split(BAD_BYTES);
  const out: number[] = [];
  const enc = new TextEncoder();
  parts.forEach((part, i) => {
    for (const byte of enc.encode(part)) out.push(byte);
    if (i < parts.length - 1) out.push(...g.pick(INVALID_SEQUENCES));
  });
  return new Uint8Array(out);
}

function splitRandomly(bytes: Uint8Array, g: Gen): Uint8Array[] {
  const mode = g.int(4);
  if (mode === 0) return [bytes];
  const out: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    const size = mode === 1 ? 1 + g.int(8) : mode === 2 ? 1 + g.int(400) : 1 + g.int(5000);
    out.push(bytes.subarray(start, start + size));
    start += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// OpenAI-style streams.

function openAIStream(g: Gen): { frames: (Frame | string)[]; style: Style } {
  const style = randomStyle(g);
  const id = g.pick(['chatcmpl-abc', 'msg_01XyZ', 'id-"quoted"', '']);
  const model = g.pick(['gpt-5.2', 'deepseek-v4-flash', '', 'm\u00e9']);
  const created = 1700000000 + g.int(1000);
  const extraTop: [string, Json][] = g.chance(0.3) ? [['system_fingerprint', 'fp_1'], ['usage', null]] : g.chance(0.2) ? [['obfuscation', 'pad']] : [];
  const order = g.shuffle(['id', 'object', 'created', 'model', 'choices', ...extraTop.map(([k]) => k)]);
  const chunk = (choices: Json, extra: [string, Json][] = [], keyOrder = order): Json => {
    const fields: Record<string, Json> = { id, object: 'chat.completion.chunk', created, model, choices, ...Object.fromEntries(extraTop) };
    const entries: [string, Json][] = keyOrder.filter((k) => k in fields).map((k) => [k, fields[k] as Json]);
    return { entries: [...entries, ...extra] };
  };
  const choice = (delta: Json, finish: Json = null, more: [string, Json][] = []): Json =>
    obj(['index', 0], ['delta', delta], ['finish_reason', finish], ...more);
  const frames: (Frame | string)[] = [];
  const data = (v: Json, name?: string, extra: Partial<Frame> = {}): void => {
    frames.push({ data: ser(v, style, g), ...(name !== undefined ? { name } : {}), ...extra });
  };

  if (g.chance(0.9)) data(chunk([choice(obj(['role', 'assistant'], ['content', '']))]));
  const n = 5 + g.int(60);
  const common = g.chance(0.8);
  for (let i = 0; i < n; i++) {
    const r = g.random();
    if (r < 0.62 || common) {
      if (!common || r < 0.9) {
        // The common content delta (sometimes with a per-frame variation).
        const v = g.random();
        const content = text(g);
        if (v < 0.85) data(chunk([choice(obj(['content', content]))]));
        else if (v < 0.88) data(chunk([choice(obj(['content', content], ['reasoning_content', null]))]));
        else if (v < 0.9) data(chunk([choice(obj(['content', 'dup'], ['content', content]))]));
        else if (v < 0.92) data(chunk([choice(obj(['content', content]))], [['created', created + 1]]));
        else if (v < 0.94) data(chunk([choice(obj(['content', content]), 'stop')]));
        else if (v < 0.95) data(chunk([choice(obj(['content', content]))]), 'error');
        else if (v < 0.96) data(chunk([choice(obj(['content', content]))]), 'message');
        else if (v < 0.97) data(chunk([choice(obj(['content', content]))]), undefined, { before: [': PING'] });
        else if (v < 0.98) data(chunk([choice(obj(['content', content]))]), undefined, { before: ['id: 7', 'retry: 100', 'foo: bar'] });
        else if (v < 0.99) data(chunk([choice(obj(['content', content]))]), undefined, { lines: 2 });
        else frames.push({ data: `${ser(chunk([choice(obj(['content', content]))]), style, g)} ` });
        continue;
      }
    }
    const k = g.int(14);
    if (k === 0) data(chunk([choice(obj(['reasoning_content', text(g)], ['reasoning', text(g)]))]));
    else if (k === 1) data(chunk([choice(obj(['content', null], ['reasoning_content', text(g)]))]));
    else if (k === 2) data(chunk([choice(obj(), g.pick(['stop', 'length', '', null]))]));
    else if (k === 3) {
      const usage = obj(['prompt_tokens', g.int(50)], ['completion_tokens', g.int(500)], ['total_tokens', g.int(550)], ['prompt_tokens_details', obj(['cached_tokens', g.int(5)])], ['output_tokens', 0]);
      data(chunk([], [['usage', usage]]));
    } else if (k === 4) data(obj(['error', obj(['code', 'do_request_failed'], ['message', text(g)], ['type', 'upstream_error'])]));
    else if (k === 5) data(obj(['error', null], ['choices', [choice(obj(['content', text(g)]))]]));
    else if (k === 6) frames.push({ data: '{not json' });
    else if (k === 7) frames.push(': PING\n\n');
    else if (k === 8) data(chunk([choice(obj(['content', g.int(9)]))]));
    else if (k === 9) data(chunk(['not an object']));
    else if (k === 10) data(chunk([choice(obj(['content', text(g)])), choice(obj(['content', 'second']))]));
    else if (k === 11) frames.push({ data: `${ser(chunk([choice(obj(['content', 'x']))]), style, g)}`.replace('"content":"x"', '"content":"\\x"') });
    else if (k === 12) data(chunk([choice(obj(['content', text(g)]))], [], g.shuffle([...order])));
    else data(chunk([choice(obj(['content', text(g)]))]), undefined, { lines: 1 + g.int(3) });
  }
  if (g.chance(0.8)) data(chunk([choice(obj(), 'stop')]));
  if (g.chance(0.8)) data(chunk([], [['usage', obj(['prompt_tokens', 3], ['completion_tokens', n], ['total_tokens', 3 + n])]]));
  if (g.chance(0.85)) frames.push({ data: '[DONE]' });
  if (g.chance(0.2)) data(chunk([choice(obj(['content', 'after done']))]));
  return { frames, style };
}

// ---------------------------------------------------------------------------------------------
// Anthropic-style streams.

function anthropicStream(g: Gen): { frames: (Frame | string)[]; style: Style } {
  const style = randomStyle(g);
  const frames: (Frame | string)[] = [];
  const event = (name: string | undefined, v: Json, extra: Partial<Frame> = {}): void => {
    frames.push({ data: ser(v, style, g), ...(name !== undefined ? { name } : {}), ...extra });
  };
  const order = g.chance(0.8) ? ['type', 'index', 'delta'] : g.shuffle(['type', 'index', 'delta']);
  const textFirst = g.chance(0.2);
  const blockDelta = (t: string, type = 'text_delta', index = 1, omitType = false): Json => {
    const key = type === 'thinking_delta' ? 'thinking' : type === 'input_json_delta' ? 'partial_json' : 'text';
    const delta = textFirst ? obj([key, t], ['type', type]) : obj(['type', type], [key, t]);
    const fields: Record<string, Json> = { type: 'content_block_delta', index, delta };
    return { entries: order.filter((k) => !(omitType && k === 'type')).map((k): [string, Json] => [k, fields[k] as Json]) };
  };
  const usage = obj(['input_tokens', g.int(40)], ['cache_read_input_tokens', g.int(3)], ['output_tokens', 1]);
  event('message_start', obj(['type', 'message_start'], ['message', obj(['id', 'msg_1'], ['model', g.pick(['claude-sonnet-4-6', ''])], ['usage', usage])]));
  if (g.chance(0.3)) {
    event('content_block_start', obj(['type', 'content_block_start'], ['index', 0], ['content_block', obj(['type', 'thinking'], ['thinking', ''])]));
    for (let i = g.int(6); i > 0; i--) event('content_block_delta', blockDelta(text(g), 'thinking_delta', 0));
    event('content_block_delta', obj(['type', 'content_block_delta'], ['index', 0], ['delta', obj(['type', 'signature_delta'], ['signature', 'sig'])]));
  }
  event('content_block_start', obj(['type', 'content_block_start'], ['index', 1], ['content_block', obj(['type', 'text'], ['text', g.chance(0.2) ? text(g) : ''])]));
  if (g.chance(0.5)) event('ping', obj(['type', 'ping']));
  const n = 5 + g.int(60);
  for (let i = 0; i < n; i++) {
    const v = g.random();
    const t = text(g);
    if (v < 0.8) event('content_block_delta', blockDelta(t));
    else if (v < 0.82) event('content_block_delta', blockDelta(t, 'text_delta', 2));
    else if (v < 0.84) event(undefined, blockDelta(t));
    else if (v < 0.86) event('content_block_delta', blockDelta(t, 'text_delta', 1, true));
    else if (v < 0.87) event('other_name', blockDelta(t));
    else if (v < 0.88) event('content_block_delta', blockDelta(t, 'input_json_delta'));
    else if (v < 0.89) event('content_block_delta', blockDelta(t, 'thinking_delta'));
    else if (v < 0.9) event('ping', obj(['type', 'ping']));
    else if (v < 0.91) frames.push(': keep-alive\n\n');
    else if (v < 0.92) event('content_block_delta', blockDelta(t), { before: ['id: 3'] });
    else if (v < 0.93) event('content_block_delta', blockDelta(t), { lines: 2 });
    else if (v < 0.94) event('error', obj(['type', 'error'], ['error', obj(['type', 'overloaded_error'], ['message', t])]));
    else if (v < 0.95) frames.push({ name: 'content_block_delta', data: '{"type":"content_block_delta","delta":{"type":"text_delta","text":"unterminated}}' });
    else if (v < 0.96) event('content_block_delta', obj(['type', 'content_block_delta'], ['index', 1], ['delta', obj(['type', 'text_delta'], ['text', 'a'], ['text', t])]));
    else if (v < 0.97) event('content_block_delta', obj(['type', 'content_block_delta'], ['index', 1], ['delta', obj(['type', 'text_delta'], ['text', 5])]));
    else event('content_block_delta', blockDelta(t, 'text_delta', 1 + g.int(3)));
  }
  event('content_block_stop', obj(['type', 'content_block_stop'], ['index', 1]));
  if (g.chance(0.9)) {
    event('message_delta', obj(['type', 'message_delta'], ['delta', obj(['stop_reason', g.pick(['end_turn', 'max_tokens', 'tool_use', null])])], ['usage', obj(['output_tokens', n])]));
  }
  if (g.chance(0.85)) event('message_stop', obj(['type', 'message_stop']));
  if (g.chance(0.2)) event('content_block_delta', blockDelta('after stop'));
  return { frames, style };
}

// ---------------------------------------------------------------------------------------------

interface Outcome {
  pieces: string[];
  text: string;
  reasoning: string;
  reasoningTruncated: boolean;
  finished: boolean;
  finish: string | null;
  usage: unknown;
  model: string | undefined;
  error: { code: string; message: string; upstreamCode: string | undefined } | string | undefined;
}

/** Events the SSE decoder dispatched to the accumulator (not part of the outcome: the fast paths skip them). */
let parsedEvents = 0;

type Surface = 'openai' | 'anthropic';

/** plain: no fast path; strings: the accumulator's FrameShape only; bytes: both fast paths. */
type Mode = 'plain' | 'strings' | 'bytes';
const FAST_PATH = { plain: 'off', strings: 'strings', bytes: 'bytes' } as const;

async function run(chunks: Uint8Array[], surface: Surface, mode: Mode, maxChars: number): Promise<Outcome> {
  const pieces: string[] = [];
  const decoded = await decodeStream(chunks, surface, {
    requestId: 'rid',
    maxAnswerChars: maxChars,
    onText: (piece) => pieces.push(piece),
    fastPath: FAST_PATH[mode],
    maxEventChars: 4096,
  });
  parsedEvents += decoded.parsedEvents;
  const e = decoded.failure;
  const error = e === undefined ? undefined : e instanceof EzrouterError ? { code: e.code, message: e.message, upstreamCode: e.upstreamCode } : String(e);
  return {
    pieces,
    text: decoded.text,
    reasoning: decoded.reasoning,
    reasoningTruncated: decoded.reasoningTruncated,
    finished: decoded.complete,
    finish: decoded.finishReason,
    usage: decoded.usage,
    model: decoded.model,
    error,
  };
}

interface Counts {
  /** Events the parser dispatched, per mode. */
  events: Record<Mode, number>;
  /** JSON.parse calls, per mode. */
  parses: Record<Mode, number>;
}

async function check(surface: Surface, seed: number, counts: Counts): Promise<void> {
  const g = new Gen(seededRandom(seed));
  const { frames, style } = surface === 'openai' ? openAIStream(g) : anthropicStream(g);
  const bytes = toBytes(sse(frames, style, g), g);
  const maxChars = g.chance(0.1) ? 1 + g.int(200) : 1_000_000;
  const parse = JSON.parse;
  let parses = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    parses++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    for (let round = 0; round < 3; round++) {
      const chunks = splitRandomly(bytes, g);
      const outcomes = {} as Record<Mode, Outcome>;
      for (const mode of ['plain', 'strings', 'bytes'] as const) {
        parsedEvents = 0;
        parses = 0;
        outcomes[mode] = await run(chunks, surface, mode, maxChars);
        counts.events[mode] += parsedEvents;
        counts.parses[mode] += parses;
      }
      expect(outcomes.strings, `${surface} seed ${seed} round ${round}, string fast path`).toEqual(outcomes.plain);
      expect(outcomes.bytes, `${surface} seed ${seed} round ${round}, byte fast path`).toEqual(outcomes.plain);
    }
  } finally {
    JSON.parse = parse;
  }
}

describe('stream fast paths give exactly the plain path result', () => {
  it.each(['openai', 'anthropic'] as const)('%s: 600 random streams × 3 random splittings', async (surface) => {
    const zero = (): Record<Mode, number> => ({ plain: 0, strings: 0, bytes: 0 });
    const counts: Counts = { events: zero(), parses: zero() };
    for (let seed = 1; seed <= 600; seed++) await check(surface, seed * 7919 + (surface === 'openai' ? 0 : 1), counts);
    // Both fast paths really took part of these streams.
    expect(counts.parses.strings).toBeLessThan(counts.parses.plain * 0.9);
    expect(counts.events.bytes).toBeLessThan(counts.events.plain * 0.95);
  });

  it('the fast paths are really taken on a long regular stream (and agree with the plain path)', async () => {
    const g = new Gen(seededRandom(42));
    const style: Style = { ws: '', escapeRate: 0, upperHex: false, eol: '\n', space: true };
    const head = obj(['id', 'chatcmpl-1'], ['object', 'chat.completion.chunk'], ['created', 1], ['model', 'gpt-5.2']);
    const frames: Frame[] = [];
    const entries = (head as { entries: [string, Json][] }).entries;
    for (let i = 0; i < 3000; i++) {
      const content = text(g).replaceAll(BAD_BYTES, '');
      frames.push({ data: ser({ entries: [...entries, ['choices', [obj(['index', 0], ['delta', obj(['content', content])], ['finish_reason', null])]]] }, style, g) });
    }
    frames.push({ data: '[DONE]' });
    const bytes = toBytes(sse(frames, style, g), g);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
    const plain = await run(chunks, 'openai', 'plain', 1_000_000);
    // The shipped setting: decodeStream's defaults.
    const shipped = await decodeStream(chunks, 'openai');
    expect(shipped.text).toBe(plain.text);
    expect(shipped.complete).toBe(true);
    expect(shipped.parsedEvents).toBeLessThan(100);
  });
});

describe('stream fast paths at every split point of streams built to trip them', () => {
  const head = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-5.2","choices":[{"index":0,"delta":{"content":';
  const content = (text: string, finish = 'null', extra = ''): string => `${head}${JSON.stringify(text)}},"finish_reason":${finish}}]${extra}}`;
  const regular = (n: number): string => Array.from({ length: n }, (_, i) => `data: ${content(`t${i} `)}\n\n`).join('');
  const openAICases: Record<string, string> = {
    'event: error before a frame of the shape': `${regular(4)}event: error\ndata: ${content('boom')}\n\n${regular(2)}data: [DONE]\n\n`,
    'another event name': `${regular(4)}event: message\ndata: ${content('named')}\n\n${regular(2)}data: [DONE]\n\n`,
    'id, retry and unknown fields': `${regular(4)}id: 7\nretry: 10\nfoo: bar\ndata: ${content('ided')}\n\n${regular(2)}data: [DONE]\n\n`,
    'comments between frames and inside one': `${regular(4)}: PING\n\n: x\ndata: ${content('commented')}\n\n${regular(2)}data: [DONE]\n\n`,
    'two data lines in one event': `${regular(4)}data: ${content('one')}\ndata: ${content('two')}\n\n${regular(2)}data: [DONE]\n\n`,
    'data line split inside the JSON': `${regular(4)}data: ${content('split').slice(0, 30)}\ndata: ${content('split').slice(30)}\n\n${regular(2)}data: [DONE]\n\n`,
    'no space after data:': `${regular(4)}data:${content('tight')}\n\n${regular(2)}data: [DONE]\n\n`,
    'CRLF in the middle': `${regular(4)}data: ${content('crlf')}\r\n\r\n${regular(2)}data: [DONE]\n\n`,
    'a lone CR line end': `${regular(4)}data: ${content('cr')}\r\r${regular(2)}data: [DONE]\n\n`,
    'trailing space after the JSON': `${regular(4)}data: ${content('spaced')} \n\n${regular(2)}data: [DONE]\n\n`,
    'finish reasons with text, another finish between': `${regular(3)}data: ${content('a', '"stop"')}\n\ndata: ${head.replace('"content":', '')}},"finish_reason":"length"}]}\n\ndata: ${content('b', '"stop"')}\n\ndata: [DONE]\n\n`,
    'usage with text, other usage between': `${regular(3)}data: ${content('u', 'null', ',"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}')}\n\ndata: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}\n\ndata: ${content('v', 'null', ',"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}')}\n\n${regular(1)}data: [DONE]\n\n`,
    'a shape learned from two-line events, then the same text without the second data:': `${regular(1)}${['a', 'b', 'c', 'd'].map((t) => `data: ${content(t).slice(0, 20)}\ndata: ${content(t).slice(20)}\n\n`).join('')}data: ${content('e').slice(0, 20)}\n${content('e').slice(20)}\n\n${regular(2)}data: [DONE]\n\n`,
    'error field with text': `${regular(4)}data: ${content('e', 'null', ',"error":{"code":"x","message":"m"}')}\n\n${regular(1)}`,
    'the shape changes mid-stream': `${regular(4)}${regular(4).replaceAll('"created":1', '"created":2')}${regular(3)}data: [DONE]\n\n`,
    'frames after [DONE]': `${regular(4)}data: [DONE]\n\n${regular(3)}`,
    'unterminated last frame': `${regular(5)}data: ${content('cut')}\n`,
    'escapes, unicode and invalid escapes': `${regular(4)}data: ${content('a"b\\c\n\u2028é世🎉')}\n\ndata: ${head}"\\ud83c\\udf89\\u00E9\\/"},"finish_reason":null}]}\n\ndata: ${head}"bad \\x escape"},"finish_reason":null}]}\n\n${regular(2)}`,
    'raw control character in the text': `${regular(4)}data: ${head}"tab\there"},"finish_reason":null}]}\n\n${regular(2)}`,
    'blank lines and a BOM mid-stream': `${regular(4)}\n\n\n\ufeffdata: ${content('bom')}\n\n${regular(2)}data: [DONE]\n\n`,
  };

  async function agreeAtEverySplit(body: string | Uint8Array, surface: Surface): Promise<void> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const whole = await run([bytes], surface, 'plain', 1_000_000);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
      const plain = await run(chunks, surface, 'plain', 1_000_000);
      expect(plain, `plain path, split at ${cut}`).toEqual(whole);
      expect(await run(chunks, surface, 'bytes', 1_000_000), `split at ${cut}`).toEqual(plain);
      expect(await run(chunks, surface, 'strings', 1_000_000), `split at ${cut}`).toEqual(plain);
    }
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
      expect(await run(chunks, surface, 'bytes', 1_000_000), `${size}-byte chunks`).toEqual(whole);
    }
  }

  it.each(Object.entries(openAICases))('openai: %s', async (_name, body) => {
    await agreeAtEverySplit(body, 'openai');
  });

  it('openai: invalid UTF-8 inside a frame of the shape', async () => {
    const enc = new TextEncoder();
    for (const bad of INVALID_SEQUENCES) {
      const bytes = new Uint8Array([...enc.encode(`${regular(4)}data: ${head}"x`), ...bad, ...enc.encode(`y"},"finish_reason":null}]}\n\n${regular(2)}data: [DONE]\n\n`)]);
      await agreeAtEverySplit(bytes, 'openai');
    }
  });

  const anthropicDelta = (text: string, index = 0): string =>
    `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}\n\n`;
  const anthropicRegular = (n: number): string => Array.from({ length: n }, (_, i) => anthropicDelta(`w${i} `)).join('');
  const start = 'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-sonnet-4-6","usage":{"input_tokens":3,"output_tokens":1}}}\n\n';
  const stop = 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
  const anthropicCases: Record<string, string> = {
    'another event name, same data': `${start}${anthropicRegular(4)}${anthropicDelta('x').replace('content_block_delta\n', 'other\n')}${anthropicRegular(2)}${stop}`,
    'no event line': `${start}${anthropicRegular(4)}${anthropicDelta('x').replace('event: content_block_delta\n', '')}${anthropicRegular(2)}${stop}`,
    'error event between deltas': `${start}${anthropicRegular(4)}event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n${anthropicRegular(2)}${stop}`,
    'thinking deltas with the same index': `${start}${anthropicRegular(4)}event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}\n\n${anthropicRegular(2)}${stop}`,
    'deltas after message_stop': `${start}${anthropicRegular(4)}${stop}${anthropicRegular(3)}`,
    'index changes': `${start}${anthropicRegular(4)}${anthropicDelta('i1', 1)}${anthropicDelta('i1b', 1)}${anthropicRegular(2)}${stop}`,
  };

  it.each(Object.entries(anthropicCases))('anthropic: %s', async (_name, body) => {
    await agreeAtEverySplit(body, 'anthropic');
  });
});

describe('readJsonString decodes exactly like JSON.parse', () => {
  it('agrees with JSON.parse on random string tokens, valid or not', () => {
    const g = new Gen(seededRandom(7));
    const pieces = ['a', 'é', '世', '🎉', '"', '\\', '\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u0041', '\\u00e9', '\\uD83C\\uDF89', '\\ud800', '\\uDFFF', '\\u12', '\\uZZZZ', '\\x', '\\', '\u0001', '\t', '\u007f', '\u2028'];
    for (let i = 0; i < 20_000; i++) {
      let body = '';
      for (let k = g.int(8); k > 0; k--) body += g.pick(pieces);
      const token = `"${body}"${g.pick(['', ',', '}', ' '])}`;
      const close = findClose(token);
      let expected: string | undefined;
      try {
        expected = close === -1 ? undefined : (JSON.parse(token.slice(0, close + 1)) as string);
      } catch {
        expected = undefined;
      }
      const got = readJsonString(token, 0);
      expect(got?.text, JSON.stringify(token)).toBe(expected);
      if (got !== undefined) expect(got.end).toBe(close + 1);
    }
  });
});

/** Index of the closing quote of the string token at 0 (skipping backslash escapes), or -1. */
function findClose(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}
