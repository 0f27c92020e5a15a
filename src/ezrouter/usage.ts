/**
 * Token usage, the one place it is computed. Surfaces report the counts a frame carries as a
 * UsagePart (named for what they count, not for the surface's field names); the accumulator
 * folds the parts with `addUsage`; `totalUsage` turns the result into the reported Usage. The
 * two surfaces count differently, and both ways are written here:
 * - OpenAI sends the whole usage in one chunk (`prompt_tokens` with cached tokens included,
 *   `completion_tokens`, `total_tokens`): a later usage chunk replaces an earlier one.
 * - Anthropic sends updates (`message_start`: input and cache counts, `message_delta`: output):
 *   each count keeps its latest value, and the prompt is uncached + cache reads + cache writes.
 * The total is prompt + completion when the gateway sent none; a count it did not send (or sent
 * as something other than a safe non-negative integer) stays absent.
 */
import type { Usage } from './types.js';

/** The whole usage, replacing any before it (OpenAI). */
export interface WholeUsage {
  kind: 'whole';
  /** Prompt tokens, cached ones included. */
  prompt: number | undefined;
  /** Of the prompt tokens, those read from the cache. */
  cacheRead: number | undefined;
  completion: number | undefined;
  total: number | undefined;
}

/** Counts that update the usage so far; undefined ones keep their earlier value (Anthropic). */
export interface UsageUpdate {
  kind: 'update';
  /** Prompt tokens outside the cache. */
  uncachedPrompt: number | undefined;
  /** Prompt tokens read from the cache. */
  cacheRead: number | undefined;
  /** Prompt tokens written to the cache. */
  cacheWrite: number | undefined;
  completion: number | undefined;
}

export type UsagePart = WholeUsage | UsageUpdate;

/** A token count worth reporting: a finite, non-negative, safe integer; anything else is dropped. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The usage so far with one more frame's part applied. */
export function addUsage(sofar: UsagePart | undefined, part: UsagePart): UsagePart {
  if (part.kind === 'whole' || sofar?.kind !== 'update') return part;
  return {
    kind: 'update',
    uncachedPrompt: part.uncachedPrompt ?? sofar.uncachedPrompt,
    cacheRead: part.cacheRead ?? sofar.cacheRead,
    cacheWrite: part.cacheWrite ?? sofar.cacheWrite,
    completion: part.completion ?? sofar.completion,
  };
}

/** The usage to report for the folded parts (see the file comment). */
export function totalUsage(counts: UsagePart | undefined): Usage {
  if (counts === undefined) return {};
  let prompt: number | undefined;
  let total: number | undefined;
  if (counts.kind === 'whole') {
    prompt = counts.prompt;
    total = counts.total;
  } else {
    const { uncachedPrompt, cacheRead, cacheWrite } = counts;
    if (uncachedPrompt !== undefined || cacheRead !== undefined || cacheWrite !== undefined) {
      prompt = tokenCount((uncachedPrompt ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0));
    }
  }
  const { completion, cacheRead } = counts;
  const usage: Usage = {};
  if (prompt !== undefined) usage.prompt_tokens = prompt;
  if (completion !== undefined) usage.completion_tokens = completion;
  if (total !== undefined) usage.total_tokens = total;
  if (cacheRead !== undefined) usage.cached_tokens = cacheRead;
  // A computed total comes last, as it always has in the results' JSON.
  if (total === undefined && prompt !== undefined && completion !== undefined) {
    const sum = tokenCount(prompt + completion);
    if (sum !== undefined) usage.total_tokens = sum;
  }
  return usage;
}
