/**
 * Reasoning ("thinking") control, as ezrouter documents it (ezrouter-api.md §2.1, §5): the
 * efforts it accepts are `high` and `max`; `low` and `medium` are mapped to `high`, `xhigh` to
 * `max` — the same mapping the gateway applies. On the OpenAI surface the effort goes as
 * `reasoning_effort` plus `thinking: {"type": "enabled"}`; on the Anthropic surface as the
 * Messages API's native `thinking: {"type": "enabled", "budget_tokens": N}`, with N derived from
 * the effort and `max_tokens` (see anthropicThinking).
 */
import { EzrouterError } from './errors.js';

/** What callers may ask for. */
export const REASONING_EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export type RequestedEffort = (typeof REASONING_EFFORTS)[number];
/** What ezrouter takes. */
export type ReasoningEffort = 'high' | 'max';

export function gatewayEffort(requested: RequestedEffort): ReasoningEffort {
  return requested === 'xhigh' || requested === 'max' ? 'max' : 'high';
}

/** The Anthropic API's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;
/** Share of max_tokens given to thinking, by effort. */
const BUDGET_SHARE: Readonly<Record<ReasoningEffort, number>> = { high: 0.5, max: 0.75 };
/** max_tokens sent with thinking when the call gives none (the default 4,096 leaves no room to think). */
export const THINKING_DEFAULT_MAX_TOKENS: Readonly<Record<ReasoningEffort, number>> = { high: 16_384, max: 32_768 };

/**
 * `max_tokens` and `budget_tokens` for a thinking call on the Anthropic surface: the caller's
 * max_tokens (else THINKING_DEFAULT_MAX_TOKENS for the effort), and half (high) or three
 * quarters (max) of it for thinking, at least MIN_THINKING_BUDGET and always below max_tokens.
 */
export function anthropicThinking(effort: ReasoningEffort, maxTokens: number | undefined): { maxTokens: number; budgetTokens: number } {
  const max = maxTokens ?? THINKING_DEFAULT_MAX_TOKENS[effort];
  if (max <= MIN_THINKING_BUDGET) {
    throw new EzrouterError({
      code: 'invalid_request',
      message: `Reasoning on the Anthropic surface needs max_tokens above ${MIN_THINKING_BUDGET} (the smallest thinking budget that API takes); this call gives ${max}: raise max_tokens, or leave out reasoning_effort.`,
    });
  }
  return { maxTokens: max, budgetTokens: Math.max(MIN_THINKING_BUDGET, Math.min(max - 1, Math.floor(max * BUDGET_SHARE[effort]))) };
}

/** The lowest top_p the Messages API takes with thinking enabled. */
export const MIN_THINKING_TOP_P = 0.95;

/**
 * The Messages API refuses thinking with a changed temperature (only 1, its default, is
 * allowed) or a top_p below 0.95 (Anthropic's extended-thinking documentation): refused here,
 * before anything is sent, instead of an upstream 400.
 */
export function checkThinkingSampling(temperature: number | undefined, topP: number | undefined): void {
  const clash: string[] = [];
  if (temperature !== undefined && temperature !== 1) clash.push(`temperature ${temperature} (only 1 is allowed)`);
  if (topP !== undefined && topP < MIN_THINKING_TOP_P) clash.push(`top_p ${topP} (it must be ${MIN_THINKING_TOP_P}–1)`);
  if (clash.length === 0) return;
  throw new EzrouterError({
    code: 'invalid_request',
    message: `Reasoning on the Anthropic surface does not mix with ${clash.join(' or ')}: the Messages API refuses it with thinking enabled. Leave out ${clash.length === 2 ? 'temperature and top_p' : clash[0]!.split(' ')[0]}, or reasoning_effort.`,
  });
}
