/**
 * Reasoning within a result's budget: the answer text has priority, so the reasoning gets the
 * room the text leaves. Reasoning that does not fit is kept whole in the answer store and
 * returned as its exact head, with `reasoning_truncated = { total_chars, returned_chars, uri }`,
 * a note saying how to read the rest, and a `resource_link`: nothing is lost, nothing is silent.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AnswerStore } from '../store/answer-store.js';
import { answerUri, prefixWithin } from './fit-result.js';

export interface ReasoningCut {
  total_chars: number;
  returned_chars: number;
  uri: string;
}

/** Bytes a cut costs besides its head: the `reasoning_truncated` object, its note and its link. */
export const REASONING_CUT_BYTES = 900;

/** Placeholder as long as an answer URI, to measure a result before the store gave an id. */
export const URI_PLACEHOLDER = answerUri('x'.repeat(22));

/**
 * The head of `reasoning` that takes at most `maxBytes` of JSON, and the cut when it is not the
 * whole (the whole reasoning then goes to `store`; `uri` reuses an earlier put of it).
 */
export async function cutReasoning(
  reasoning: string,
  maxBytes: number,
  store: AnswerStore,
  model: string,
  uri?: string,
): Promise<{ reasoning: string; cut?: ReasoningCut }> {
  const head = prefixWithin(reasoning, Math.max(0, maxBytes));
  if (head.length === reasoning.length) return { reasoning };
  const stored = uri ?? answerUri(await store.put({ text: reasoning, model: `${model} (reasoning)` }));
  return { reasoning: head, cut: { total_chars: reasoning.length, returned_chars: head.length, uri: stored } };
}

/** The marker line for a cut (shown in content, and in notes where a result has them). */
export function reasoningNote(cut: ReasoningCut, whose = 'The reasoning'): string {
  return `${whose} has ${cut.total_chars.toLocaleString('en-US')} characters; ${(cut.total_chars - cut.returned_chars).toLocaleString('en-US')} of them did not fit in this result: read them with resources/read of ${cut.uri}?offset=${cut.returned_chars}.`;
}

/** The resource_link block for a cut. */
export function reasoningLink(cut: ReasoningCut, name = 'the whole reasoning'): CallToolResult['content'][number] {
  return { type: 'resource_link', uri: cut.uri, name, mimeType: 'text/plain', description: `The whole reasoning (${cut.total_chars} characters); read it with ?offset=N to page through it.` };
}
