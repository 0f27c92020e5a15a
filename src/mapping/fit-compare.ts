/**
 * The `compare` result within the caller's budget: every answer's text travels twice (the
 * side-by-side rendering in `content`, and `structuredContent.answers[].text`). The room left
 * after everything else is split fairly: answers smaller than an equal share are returned whole
 * and leave the rest of their share to the others; each answer that still does not fit is kept
 * whole in the answer store and returned as its exact head, with `truncated` and a
 * `resource_link`. `isError` only when every model failed.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Usage } from '../ezrouter/types.js';
import type { AnswerStore } from '../store/answer-store.js';
import { answerUri, messageBytes, prefixWithin } from './fit-result.js';

export interface ComparedAnswer {
  model: string;
  surface?: string;
  text?: string;
  finish_reason?: string | null;
  usage?: Usage;
  request_id?: string;
  notes?: string[];
  reasoning?: string;
  truncated?: { total_chars: number; returned_chars: number; uri: string };
  error?: { code: string; message: string };
}

/** Placeholder as long as an answer URI, to measure the result before the ids exist. */
const URI_PLACEHOLDER = answerUri('x'.repeat(22));

export async function fitAnswers(answers: ComparedAnswer[], usage: Usage, budgetBytes: number, store: AnswerStore): Promise<CallToolResult> {
  const whole = build(answers, usage);
  if (messageBytes(whole) <= budgetBytes) return whole;

  // Measure with every text empty and every answer marked truncated: what is left is for text.
  const shells = answers.map((a) => (a.text === undefined ? a : { ...a, text: '', truncated: { total_chars: a.text.length, returned_chars: a.text.length, uri: URI_PLACEHOLDER } }));
  let room = Math.floor((budgetBytes - messageBytes(build(shells, usage))) / 2);
  const withText = answers.map((a, i) => ({ a, i, bytes: a.text === undefined ? 0 : Buffer.byteLength(JSON.stringify(a.text)) })).filter((x) => x.a.text !== undefined);
  withText.sort((x, y) => x.bytes - y.bytes);
  const fitted = [...answers];
  for (let k = 0; k < withText.length; k++) {
    const { a, i, bytes } = withText[k]!;
    const share = Math.max(0, Math.floor(room / (withText.length - k)));
    const text = a.text ?? '';
    if (bytes <= share) {
      room -= bytes;
      continue;
    }
    const head = prefixWithin(text, share);
    room -= Buffer.byteLength(JSON.stringify(head));
    const uri = answerUri(await store.put({ text, model: a.model }));
    fitted[i] = { ...a, text: head, truncated: { total_chars: text.length, returned_chars: head.length, uri } };
  }
  return build(fitted, usage);
}

function build(answers: readonly ComparedAnswer[], usage: Usage): CallToolResult {
  const sections = answers.map((a) => {
    if (a.error) return `## ${a.model}\n\nFAILED: ${a.error.message}`;
    const facts = [a.surface, `finish: ${a.finish_reason ?? 'unknown'}`, a.usage?.completion_tokens === undefined ? undefined : `${a.usage.completion_tokens} tokens out`].filter(Boolean).join(', ');
    const notes = [...(a.notes ?? [])];
    if (a.truncated) {
      notes.push(`${a.truncated.total_chars - a.truncated.returned_chars} more characters of this answer did not fit: read them with resources/read of ${a.truncated.uri}?offset=${a.truncated.returned_chars}.`);
    }
    return `## ${a.model} (${facts})\n\n${a.text ?? ''}${notes.map((n) => `\n[ezrouter-mcp: ${n}]`).join('')}`;
  });
  const content: CallToolResult['content'] = [{ type: 'text', text: sections.join('\n\n---\n\n') }];
  for (const a of answers) {
    if (a.truncated) content.push({ type: 'resource_link', uri: a.truncated.uri, name: `the whole answer of ${a.model}`, mimeType: 'text/plain' });
  }
  const result: CallToolResult = { content, structuredContent: { answers: answers.map((a) => ({ ...a })), usage } };
  if (answers.every((a) => a.error !== undefined)) result.isError = true;
  return result;
}
