/**
 * The `compare` result within the caller's budget (the whole response, every answer's reasoning
 * included): every answer's text travels twice (the side-by-side rendering in `content`, and
 * `structuredContent.answers[].text`), its reasoning once (structuredContent only). The texts
 * have priority: the room left after everything else is split fairly between them (answers
 * smaller than an equal share are returned whole and leave the rest of their share to the
 * others); the room the texts leave is split the same way between the reasonings. A text or a
 * reasoning that does not fit is kept whole in the answer store and returned as its exact head,
 * with `truncated` (or `reasoning_truncated`) and a `resource_link`. `isError` only when every
 * model failed.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Usage } from '../ezrouter/types.js';
import type { AnswerStore } from '../store/answer-store.js';
import { answerUri, messageBytes, prefixWithin } from './fit-result.js';
import { reasoningLink, reasoningNote, URI_PLACEHOLDER, type ReasoningCut } from './fit-reasoning.js';

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
  reasoning_truncated?: ReasoningCut;
  error?: { code: string; message: string };
}

export async function fitAnswers(answers: ComparedAnswer[], usage: Usage, budgetBytes: number, store: AnswerStore): Promise<CallToolResult> {
  const whole = build(answers, usage);
  if (messageBytes(whole) <= budgetBytes) return whole;

  // Measure with every text and reasoning empty and marked cut: what is left is for them.
  const shells = answers.map((a) => ({
    ...a,
    ...(a.text === undefined ? {} : { text: '', truncated: { total_chars: a.text.length, returned_chars: a.text.length, uri: URI_PLACEHOLDER } }),
    ...(a.reasoning === undefined ? {} : { reasoning: '', reasoning_truncated: { total_chars: a.reasoning.length, returned_chars: a.reasoning.length, uri: URI_PLACEHOLDER } }),
  }));
  const base = messageBytes(build(shells, usage));
  // Each whole text or reasoning is stored once, however many times the room is recomputed.
  const uris = new Map<string, Promise<string>>();
  const stored = (key: string, text: string, model: string): Promise<string> => {
    let uri = uris.get(key);
    if (!uri) uris.set(key, (uri = store.put({ text, model }).then(answerUri)));
    return uri;
  };
  let slack = 0;
  for (;;) {
    let room = budgetBytes - base - slack;
    const fitted = [...answers];
    // Texts first, at two bytes of room per byte (they travel twice).
    const texts = shareRoom(answers, (a) => a.text, Math.floor(room / 2));
    for (const [i, head] of texts) {
      const a = answers[i]!;
      const text = a.text ?? '';
      room -= 2 * jsonBytes(head);
      if (head.length === text.length) continue;
      fitted[i] = { ...a, text: head, truncated: { total_chars: text.length, returned_chars: head.length, uri: await stored(`text:${i}`, text, a.model) } };
    }
    // The reasonings share what the texts left.
    const reasonings = shareRoom(answers, (a) => a.reasoning, room);
    for (const [i, head] of reasonings) {
      const a = answers[i]!;
      const reasoning = a.reasoning ?? '';
      if (head.length === reasoning.length) continue;
      const uri = await stored(`reasoning:${i}`, reasoning, `${a.model} (reasoning)`);
      fitted[i] = { ...fitted[i]!, reasoning: head, reasoning_truncated: { total_chars: reasoning.length, returned_chars: head.length, uri } };
    }
    const result = build(fitted, usage);
    const over = messageBytes(result) - budgetBytes;
    const anyLeft = fitted.some((a) => (a.text ?? '') !== '' || (a.reasoning ?? '') !== '');
    if (over <= 0 || !anyLeft) return result;
    slack += Math.max(over, 64);
  }
}

/**
 * Splits `room` bytes of JSON fairly between the answers' texts (or reasonings): the smallest
 * first, each whole when it is within an equal share of what is left, otherwise its head.
 * Returns the head (or whole) per answer index that has one.
 */
function shareRoom(answers: readonly ComparedAnswer[], pick: (a: ComparedAnswer) => string | undefined, room: number): Map<number, string> {
  const items = answers.flatMap((a, i) => {
    const text = pick(a);
    return text === undefined ? [] : [{ i, text, bytes: jsonBytes(text) }];
  });
  items.sort((x, y) => x.bytes - y.bytes);
  const heads = new Map<number, string>();
  let left = room;
  for (let k = 0; k < items.length; k++) {
    const { i, text, bytes } = items[k]!;
    const share = Math.max(0, Math.floor(left / (items.length - k)));
    const head = bytes <= share ? text : prefixWithin(text, share);
    heads.set(i, head);
    left -= jsonBytes(head);
  }
  return heads;
}

function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

function build(answers: readonly ComparedAnswer[], usage: Usage): CallToolResult {
  const sections = answers.map((a) => {
    if (a.error) return `## ${a.model}\n\nFAILED: ${a.error.message}`;
    const facts = [a.surface, `finish: ${a.finish_reason ?? 'unknown'}`, a.usage?.completion_tokens === undefined ? undefined : `${a.usage.completion_tokens} tokens out`].filter(Boolean).join(', ');
    const notes = [...(a.notes ?? [])];
    if (a.truncated) {
      notes.push(`${a.truncated.total_chars - a.truncated.returned_chars} more characters of this answer did not fit: read them with resources/read of ${a.truncated.uri}?offset=${a.truncated.returned_chars}.`);
    }
    if (a.reasoning_truncated) notes.push(reasoningNote(a.reasoning_truncated, `The reasoning of ${a.model}`));
    return `## ${a.model} (${facts})\n\n${a.text ?? ''}${notes.map((n) => `\n[ezrouter-mcp: ${n}]`).join('')}`;
  });
  const content: CallToolResult['content'] = [{ type: 'text', text: sections.join('\n\n---\n\n') }];
  for (const a of answers) {
    if (a.truncated) content.push({ type: 'resource_link', uri: a.truncated.uri, name: `the whole answer of ${a.model}`, mimeType: 'text/plain' });
    if (a.reasoning_truncated) content.push(reasoningLink(a.reasoning_truncated, `the whole reasoning of ${a.model}`));
  }
  const result: CallToolResult = { content, structuredContent: { answers: answers.map((a) => ({ ...a })), usage } };
  if (answers.every((a) => a.error !== undefined)) result.isError = true;
  return result;
}
