/**
 * The `get_balance` result within the caller's budget. The raw body ezrouter returned (up to
 * 8 MiB of JSON) is the only part that can be large: when the result does not fit, `raw` is left
 * out, the whole body is kept in the answer store and linked, and a note says so.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AnswerStore } from '../store/answer-store.js';
import { answerUri, messageBytes, withNotes } from './fit-result.js';

export interface BalanceParts {
  text: string;
  balance: number | null;
  currency: string | null;
  /** The raw body as JSON text (already redacted). */
  raw: string;
}

export async function fitBalance(parts: BalanceParts, budgetBytes: number, store: AnswerStore): Promise<CallToolResult> {
  const whole: CallToolResult = {
    content: [{ type: 'text', text: parts.text }],
    structuredContent: { balance: parts.balance, currency: parts.currency, raw: JSON.parse(parts.raw) as unknown },
  };
  if (messageBytes(whole) <= budgetBytes) return whole;
  const size = `${parts.raw.length.toLocaleString('en-US')} characters`;
  let uri: string | undefined;
  try {
    uri = answerUri(await store.put({ text: parts.raw, model: 'ezrouter balance response' }));
  } catch {
    // Without a store the amount still stands; the note says the raw body is not kept.
  }
  const note =
    uri === undefined
      ? `ezrouter's balance response is ${size} of JSON, more than this client accepts in one result, so structuredContent.raw is left out (and could not be stored).`
      : `ezrouter's balance response is ${size} of JSON, more than this client accepts in one result, so structuredContent.raw is left out: read it with resources/read of ${uri}?offset=0.`;
  const content: CallToolResult['content'] = [{ type: 'text', text: withNotes(parts.text, [note]) }];
  if (uri !== undefined) content.push({ type: 'resource_link', uri, name: 'the raw balance response', mimeType: 'text/plain', description: `ezrouter's whole balance response (${size} of JSON).` });
  return { content, structuredContent: { balance: parts.balance, currency: parts.currency, notes: [note] } };
}
