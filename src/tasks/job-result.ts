/**
 * What a finished MCP task or background job keeps, and how a background job's result is
 * handed to the caller who collects it. A task holds a small result only (at most
 * JOB_RESULT_BYTES: the head of the answer and a link); an answer longer than that lives in the
 * answer store, which EZROUTER_ANSWER_STORE_CHARS bounds. Collecting a job re-fits the whole
 * answer from the answer store to the collecting client's budget, reusing the stored link.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Redactor } from '../redact.js';
import { ANSWERS_URI, fitAnswer } from '../mapping/fit-result.js';
import { invalidRequest } from '../mapping/tool-result.js';
import type { AnswerStore } from '../store/answer-store.js';

/** The largest result a task keeps (bytes of its JSON-RPC response); a longer answer goes to the answer store. */
export const JOB_RESULT_BYTES = 16_384;

/** The stored job result, with the whole answer (read back from the answer store) fitted to `budgetBytes`. */
export async function collectedResult(stored: CallToolResult, answers: AnswerStore, budgetBytes: number, redact: Redactor): Promise<CallToolResult> {
  const structured = stored.structuredContent;
  const truncated = structured?.['truncated'] as { uri?: unknown } | undefined;
  const prefix = `${ANSWERS_URI}/`;
  if (stored.isError === true || !structured || typeof truncated?.uri !== 'string' || !truncated.uri.startsWith(prefix)) return stored;
  const uri = truncated.uri;
  const id = uri.slice(prefix.length);
  const answer = await answers.get(id);
  if (!answer) {
    return invalidRequest(
      'This job finished, but its answer is no longer kept: it was evicted from the answer store (EZROUTER_ANSWER_STORE_CHARS) or expired (EZROUTER_ANSWER_TTL_MS). Start the call again.',
      redact,
    );
  }
  const { text: _head, notes, truncated: _link, ...fields } = structured;
  // fitAnswer appends the budget note last: the notes before it are the answer's own.
  const ownNotes = Array.isArray(notes) ? (notes as string[]).slice(0, -1) : [];
  const last = stored.content.at(-1);
  const summary = stored.content.length > 2 && last?.type === 'text' ? last.text : undefined;
  // The answer is stored already: a result that still does not fit links to that same copy.
  const sameCopy: AnswerStore = { put: () => Promise.resolve(id), get: (other) => answers.get(other) };
  return fitAnswer({ text: answer.text, fields, notes: ownNotes, model: answer.model, ...(summary !== undefined ? { summary } : {}) }, budgetBytes, sameCopy);
}
