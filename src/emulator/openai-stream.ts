/** OpenAI chat.completion.chunk frames, as the gateway streams them on /v1/chat/completions. */
import type { Completion } from './completion.js';
import { withId } from './errors.js';
import { dataFrame, type SseFormat } from './sse.js';

/** finish_reason: the script override, else length / stop. */
export function openaiFinishReason(c: Completion): string {
  return c.finishOverride ?? (c.end === 'max_tokens' ? 'length' : 'stop');
}

/** The final usage object. output_tokens is deliberately 0, as the real gateway sends it. */
export function openaiUsage(c: Completion): Record<string, unknown> {
  return {
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    total_tokens: c.promptTokens + c.completionTokens,
    prompt_tokens_details: { cached_tokens: c.cachedTokens ?? 0 },
    input_tokens: c.promptTokens,
    output_tokens: 0,
    usage_semantic: 'openai',
    ...c.usageOverride,
  };
}

/**
 * Every frame of the stream except the `[DONE]` terminator, generated lazily:
 * role chunk, reasoning chunks, content chunks, finish chunk, usage chunk.
 * Chunks are built from pre-serialised prefixes so 100k-frame streams stay cheap.
 */
export function* openaiFrames(c: Completion, f: SseFormat): Generator<string> {
  const head = `{"id":${JSON.stringify(c.id)},"object":"chat.completion.chunk","created":${c.created},"model":${JSON.stringify(c.model)},"choices":`;
  const choice = (delta: string, finish: string): string =>
    `${head}[{"index":0,"delta":${delta},"finish_reason":${finish}}]}`;

  yield dataFrame(choice('{"role":"assistant","content":""}', 'null'), f);
  for (const r of c.reasoningDeltas) {
    const s = JSON.stringify(r);
    yield dataFrame(choice(`{"reasoning_content":${s},"reasoning":${s}}`, 'null'), f);
  }
  for (const d of c.deltas) yield dataFrame(choice(`{"content":${JSON.stringify(d)}}`, 'null'), f);
  yield dataFrame(choice('{}', JSON.stringify(openaiFinishReason(c))), f);
  yield dataFrame(`${head}[],"usage":${JSON.stringify(openaiUsage(c))}}`, f);
}

export const openaiTerminator = (f: SseFormat): string => dataFrame('[DONE]', f);

/** The in-stream error frame (status is already 200, so the failure shows in a data frame). */
export function openaiErrorFrame(f: SseFormat, requestId: string): string {
  const body = {
    error: { code: 'do_request_failed', message: withId('upstream stream error', requestId), type: 'upstream_error' },
  };
  return dataFrame(JSON.stringify(body), f);
}

/** A plain (non-SSE) chat.completion body, for `json: true` scripts. */
export function openaiJsonBody(c: Completion): object {
  const message: Record<string, unknown> = { role: 'assistant', content: c.text };
  if (c.reasoning) message.reasoning_content = c.reasoning;
  return {
    id: c.id,
    object: 'chat.completion',
    created: c.created,
    model: c.model,
    choices: [{ index: 0, message, finish_reason: openaiFinishReason(c) }],
    usage: openaiUsage(c),
  };
}
