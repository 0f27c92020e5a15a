/**
 * Makes a `complete` result fit the calling client's budget (bytes of the whole JSON-RPC
 * response: both copies of the text, the summary, the notes, JSON escaping). An answer that
 * fits is returned whole. One that does not is kept whole in the answer store and the result
 * carries its head: `content[0].text` = the head + the notes as marker lines (one says how many
 * characters are missing and how to read them), `structuredContent.text` = exactly the head,
 * `structuredContent.truncated = { total_chars, returned_chars, uri }`, and a `resource_link`
 * to `ezrouter://answers/{id}`. Nothing is lost, and the truncation is never silent.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AnswerStore } from '../store/answer-store.js';

export const ANSWERS_URI = 'ezrouter://answers';

/** Room for the JSON-RPC envelope around a result (`{"jsonrpc":"2.0","id":…,"result":…}`). */
const ENVELOPE_BYTES = 96;

export interface AnswerParts {
  /** The answer text, as streamed (already redacted). */
  text: string;
  /** The rest of structuredContent (model, surface, usage, …), without text and notes. */
  fields: Record<string, unknown>;
  /** What the caller must know, one sentence each (shown as marker lines, and in structuredContent.notes). */
  notes: string[];
  /** The one-line summary shown as a last content block. */
  summary?: string;
  /** The model, for the stored answer. */
  model: string;
  /** More content blocks, after the answer's own link (e.g. the link to the whole reasoning). */
  links?: CallToolResult['content'];
}

export function answerUri(id: string): string {
  return `${ANSWERS_URI}/${id}`;
}

/** Bytes of a JSON-RPC response carrying `result`. */
export function messageBytes(result: unknown): number {
  return Buffer.byteLength(JSON.stringify(result)) + ENVELOPE_BYTES;
}

/** Bytes of the response when the answer is returned whole. */
export function wholeBytes(parts: AnswerParts): number {
  return messageBytes(build(parts, parts.text, parts.notes, undefined));
}

/** The result for an answer, within `budgetBytes`; the whole answer goes to `store` when it does not fit. */
export async function fitAnswer(parts: AnswerParts, budgetBytes: number, store: AnswerStore): Promise<CallToolResult> {
  const whole = build(parts, parts.text, parts.notes, undefined);
  if (messageBytes(whole) <= budgetBytes) return whole;

  const id = await store.put({ text: parts.text, model: parts.model });
  const uri = answerUri(id);
  let room = budgetBytes - messageBytes(build(parts, '', [...parts.notes, budgetNote(parts.text.length, 0, uri)], { uri, returned: 0 }));
  for (;;) {
    const head = prefixWithin(parts.text, Math.max(0, Math.floor(room / 2)));
    const notes = [...parts.notes, budgetNote(parts.text.length, head.length, uri)];
    const result = build(parts, head, notes, { uri, returned: head.length });
    const over = messageBytes(result) - budgetBytes;
    if (over <= 0 || head.length === 0) return result;
    room -= Math.max(over, 16);
  }
}

function budgetNote(total: number, returned: number, uri: string): string {
  return `This answer has ${total.toLocaleString('en-US')} characters, more than this client accepts in one result: ${(total - returned).toLocaleString('en-US')} characters are missing here. Read the rest with resources/read of ${uri}?offset=${returned} (each page says where the next one starts).`;
}

function build(parts: AnswerParts, text: string, notes: string[], truncated: { uri: string; returned: number } | undefined): CallToolResult {
  const structured: Record<string, unknown> = { text, ...parts.fields };
  if (notes.length > 0) structured['notes'] = notes;
  const content: CallToolResult['content'] = [{ type: 'text', text: withNotes(text, notes) }];
  if (truncated) {
    structured['truncated'] = { total_chars: parts.text.length, returned_chars: truncated.returned, uri: truncated.uri };
    content.push({
      type: 'resource_link',
      uri: truncated.uri,
      name: 'the whole answer',
      mimeType: 'text/plain',
      description: `The whole answer (${parts.text.length} characters); read it with ?offset=N to page through it.`,
    });
  }
  if (parts.links) content.push(...parts.links);
  if (parts.summary) content.push({ type: 'text', text: parts.summary });
  return { content, structuredContent: structured };
}

/** The answer followed by its notes as marker lines, so clients that show only content see them too. */
export function withNotes(text: string, notes: readonly string[]): string {
  if (notes.length === 0) return text;
  return `${text}${text === '' ? '' : '\n\n'}${notes.map((n) => `[ezrouter-mcp: ${n}]`).join('\n')}`;
}

/**
 * The longest prefix of `text` whose JSON string encoding (without the quotes) takes at most
 * `maxBytes` of UTF-8; never splits a surrogate pair.
 */
export function prefixWithin(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    let cost: number;
    let units = 1;
    if (c === 0x22 || c === 0x5c || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x08 || c === 0x0c) cost = 2;
    else if (c < 0x20) cost = 6;
    else if (c < 0x80) cost = 1;
    else if (c < 0x800) cost = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      cost = 4;
      units = 2;
    } else if (c >= 0xd800 && c <= 0xdfff) cost = 6; // a lone surrogate is escaped as \uXXXX
    else cost = 3;
    if (bytes + cost > maxBytes) break;
    bytes += cost;
    i += units;
  }
  return text.slice(0, i);
}
