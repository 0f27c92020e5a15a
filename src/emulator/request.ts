/** Reading an inference request body (both surfaces) into what the answer depends on. */
import type { Surface } from './types.js';

/** The parts of a chat request that shape the emulated answer. */
export interface InferenceInput {
  surface: Surface;
  model: string;
  /** anthropic: body.stream === true; openai: always streams (SSE). */
  stream: boolean;
  lastUserText: string;
  /** UTF-16 length of all system and message text. */
  promptChars: number;
  /** Answer delta limit, or null. */
  maxTokens: number | null;
  /** Stop strings (openai `stop`, anthropic `stop_sequences`). */
  stops: string[];
  /** The request asks the model to think (see thinkingOf), or null. */
  thinking: { effort?: 'high' | 'max'; budgetTokens?: number | null } | null;
}

type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Text of a message content: a string, or the `text` of each text part/block. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (isObject(part) && typeof part.text === 'string') out += part.text;
  }
  return out;
}

const nonNegativeInt = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : null;

function stopList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** Extracts the inference input; tolerant of any body shape (validation happens elsewhere). */
export function readInference(surface: Surface, body: unknown): InferenceInput {
  const b = isObject(body) ? body : {};
  const messages = Array.isArray(b.messages) ? b.messages : [];
  let promptChars = surface === 'anthropic' ? contentText(b.system).length : 0;
  let lastUserText = '';
  for (const m of messages) {
    if (!isObject(m)) continue;
    const text = contentText(m.content);
    promptChars += text.length;
    if (m.role === 'user') lastUserText = text;
  }
  const maxTokens =
    surface === 'openai' ? nonNegativeInt(b.max_tokens) ?? nonNegativeInt(b.max_completion_tokens) : nonNegativeInt(b.max_tokens);
  return {
    surface,
    model: typeof b.model === 'string' ? b.model : '',
    stream: surface === 'openai' ? true : b.stream === true,
    lastUserText,
    promptChars,
    maxTokens,
    stops: surface === 'openai' ? stopList(b.stop) : stopList(b.stop_sequences),
    thinking: thinkingOf(surface, b),
  };
}

/**
 * Whether the request asks for thinking, and how much: OpenAI surface `reasoning_effort` with
 * `thinking: {type: "enabled"}` (ezrouter's documented fields; low/medium count as high, xhigh as
 * max), Anthropic `thinking: {type: "enabled", budget_tokens}`.
 */
function thinkingOf(surface: Surface, b: Record<string, unknown>): InferenceInput['thinking'] {
  const thinking = isObject(b.thinking) ? b.thinking : undefined;
  if (thinking?.type !== 'enabled') return null;
  if (surface === 'anthropic') return { budgetTokens: nonNegativeInt(thinking.budget_tokens) };
  const effort = b.reasoning_effort;
  return { effort: effort === 'max' || effort === 'xhigh' ? 'max' : 'high' };
}

/** Why a chat request is malformed, or null. The messages follow each surface's wording. */
export function validationError(surface: Surface, body: unknown): string | null {
  if (surface === 'anthropic' && isObject(body) && isObject(body.thinking) && body.thinking.type === 'enabled') {
    const budget = nonNegativeInt(body.thinking.budget_tokens);
    const max = nonNegativeInt(body.max_tokens);
    if (budget === null || budget < 1024) return 'thinking.budget_tokens: Input should be greater than or equal to 1024';
    if (max !== null && budget >= max) return '`max_tokens` must be greater than `thinking.budget_tokens`';
    // Anthropic's extended-thinking rules: temperature only 1, top_p 0.95–1.
    if (typeof body.temperature === 'number' && body.temperature !== 1) return '`temperature` may only be set to 1 when thinking is enabled.';
    if (typeof body.top_p === 'number' && body.top_p < 0.95) return '`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.';
  }
  if (!isObject(body)) return surface === 'openai' ? 'request body must be a JSON object' : 'body: Input should be an object';
  if (typeof body.model !== 'string' || body.model === '') {
    return surface === 'openai' ? 'field model is required' : 'model: Field required';
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return surface === 'openai' ? 'field messages is required and must not be empty' : 'messages: Field required';
  }
  if (surface === 'anthropic' && nonNegativeInt(body.max_tokens) === null) return 'max_tokens: Field required';
  return null;
}
