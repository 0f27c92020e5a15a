/** Anthropic Messages events, as served on /anthropic/v1/messages. */
import { createHash } from 'node:crypto';
import type { Completion } from './completion.js';
import { eventFrame, type SseFormat } from './sse.js';

/** stop_reason: the script override, else end_turn / max_tokens / stop_sequence. */
export function anthropicStopReason(c: Completion): string {
  if (c.finishOverride !== undefined) return c.finishOverride;
  return c.end === 'end' ? 'end_turn' : c.end;
}

/** A deterministic stand-in for the thinking block signature. */
const signature = (c: Completion): string => createHash('sha256').update(c.reasoning).digest('base64');

function startUsage(c: Completion): Record<string, unknown> {
  const usage: Record<string, unknown> = { input_tokens: c.promptTokens, output_tokens: 1 };
  if (c.cachedTokens !== undefined) usage.cache_read_input_tokens = c.cachedTokens;
  return usage;
}

const frame = (name: string, data: object, f: SseFormat): string => eventFrame(name, JSON.stringify(data), f);

/** The `event: ping` frame (also used as the surface's keep-alive). */
export const anthropicPing = (f: SseFormat): string => eventFrame('ping', '{"type":"ping"}', f);

/**
 * Every event except the `message_stop` terminator, generated lazily:
 * message_start, [thinking block], text block (ping after the first block start), message_delta.
 */
export function* anthropicFrames(c: Completion, f: SseFormat): Generator<string> {
  yield frame(
    'message_start',
    {
      type: 'message_start',
      message: {
        id: c.id,
        type: 'message',
        role: 'assistant',
        model: c.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: startUsage(c),
      },
    },
    f,
  );
  let index = 0;
  if (c.reasoning) {
    yield frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }, f);
    yield anthropicPing(f);
    const pre = `{"type":"content_block_delta","index":${index},"delta":{"type":"thinking_delta","thinking":`;
    for (const r of c.reasoningDeltas) yield eventFrame('content_block_delta', `${pre}${JSON.stringify(r)}}}`, f);
    yield frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: signature(c) } }, f);
    yield frame('content_block_stop', { type: 'content_block_stop', index }, f);
    index++;
  }
  yield frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, f);
  if (index === 0) yield anthropicPing(f);
  const pre = `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":`;
  for (const d of c.deltas) yield eventFrame('content_block_delta', `${pre}${JSON.stringify(d)}}}`, f);
  yield frame('content_block_stop', { type: 'content_block_stop', index }, f);
  yield frame(
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: anthropicStopReason(c), stop_sequence: c.stopSequence },
      usage: { output_tokens: c.completionTokens, ...c.usageOverride },
    },
    f,
  );
}

export const anthropicTerminator = (f: SseFormat): string => frame('message_stop', { type: 'message_stop' }, f);

/** The in-stream `event: error` frame. */
export const anthropicErrorFrame = (f: SseFormat): string =>
  frame('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, f);

/** The non-streaming `message` body. */
export function anthropicMessageBody(c: Completion): object {
  const content: object[] = [];
  if (c.reasoning) content.push({ type: 'thinking', thinking: c.reasoning, signature: signature(c) });
  content.push({ type: 'text', text: c.text });
  const usage: Record<string, unknown> = { input_tokens: c.promptTokens, output_tokens: c.completionTokens };
  if (c.cachedTokens !== undefined) usage.cache_read_input_tokens = c.cachedTokens;
  return {
    id: c.id,
    type: 'message',
    role: 'assistant',
    model: c.model,
    content,
    stop_reason: anthropicStopReason(c),
    stop_sequence: c.stopSequence,
    usage: { ...usage, ...c.usageOverride },
  };
}
