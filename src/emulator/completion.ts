/** The surface-neutral answer: deltas, end reason and token counts. */
import { randomBytes } from 'node:crypto';
import { cutAtStop, promptTokens, splitDeltas } from './reply.js';
import type { InferenceInput } from './request.js';
import type { StreamScript } from './types.js';

/** Why the answer ended, before mapping to a surface's vocabulary. */
export type EndReason = 'end' | 'max_tokens' | 'stop_sequence';

export interface Completion {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  reasoning: string;
  reasoningDeltas: string[];
  /** The answer actually sent (after stop / max_tokens cuts). */
  text: string;
  deltas: string[];
  end: EndReason;
  /** The stop string that ended the answer, if any. */
  stopSequence: string | null;
  /** Script override of the surface-native finish value. */
  finishOverride: string | undefined;
  usageOverride: Record<string, unknown> | undefined;
  promptTokens: number;
  /** Reasoning deltas + answer deltas. */
  completionTokens: number;
  cachedTokens: number | undefined;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An Anthropic-style id, `msg_01` + 22 alphanumerics (sent on both surfaces, as the gateway does). */
export function newMessageId(): string {
  let out = 'msg_01';
  for (const byte of randomBytes(22)) out += ALNUM[byte % ALNUM.length];
  return out;
}

/** Reasoning deltas (tokens) a thinking request gets when the script gives no reasoning. */
export const THINKING_TOKENS = { high: 24, max: 48 } as const;

/**
 * Builds the answer. `answer` is the full text before cuts (script text or the reply function).
 * A request that asks for thinking gets reasoning first (the script's, else a generated one).
 * Stop strings cut first; then max_tokens counts reasoning deltas, then answer deltas, and drops
 * what goes past it (reasoning can use it all up: then there is no answer text).
 */
export function buildCompletion(input: InferenceInput, answer: string, script: StreamScript, chunkChars: number): Completion {
  const size = script.chunkChars ?? chunkChars;
  const cut = cutAtStop(answer, input.stops);
  let reasoningDeltas = splitDeltas(script.reasoning ?? generatedReasoning(input, size), size);
  let deltas = splitDeltas(cut.text, size);
  let end: EndReason = cut.stop === null ? 'end' : 'stop_sequence';
  if (input.maxTokens !== null && reasoningDeltas.length + deltas.length > input.maxTokens) {
    reasoningDeltas = reasoningDeltas.slice(0, input.maxTokens);
    deltas = deltas.slice(0, Math.max(0, input.maxTokens - reasoningDeltas.length));
    end = 'max_tokens';
  }
  const reasoning = reasoningDeltas.join('');
  return {
    id: newMessageId(),
    model: script.model ?? input.model,
    created: Math.floor(Date.now() / 1000),
    reasoning,
    reasoningDeltas,
    text: end === 'max_tokens' ? deltas.join('') : cut.text,
    deltas,
    end,
    stopSequence: end === 'stop_sequence' ? cut.stop : null,
    finishOverride: script.finishReason,
    usageOverride: script.usage,
    promptTokens: promptTokens(input.promptChars),
    completionTokens: reasoningDeltas.length + deltas.length,
    cachedTokens: script.cachedTokens,
  };
}

/** What a model "thinks" when asked to and the script says nothing: THINKING_TOKENS deltas about the question. */
function generatedReasoning(input: InferenceInput, size: number): string {
  if (input.thinking === null) return '';
  const tokens = input.thinking.effort === 'max' ? THINKING_TOKENS.max : THINKING_TOKENS.high;
  const about = `Thinking about "${input.lastUserText.slice(0, 40)}". `;
  return about.repeat(Math.ceil((tokens * size) / about.length)).slice(0, tokens * size);
}
