/**
 * The OpenAI-compatible surface: `POST {base}/v1/chat/completions` with Bearer auth. ezrouter
 * always answers it with an SSE stream of `chat.completion.chunk`s ending in `data: [DONE]`;
 * a plain `chat.completion` JSON body is accepted too.
 */
import { envelopeFrom } from './errors.js';
import type { UpstreamRequest } from './http.js';
import { isRecord } from './json.js';
import type { FrameEffect, SurfaceReader } from './surface-reader.js';
import type { CompletionRequest, FinishReason } from './types.js';
import { tokenCount, type WholeUsage } from './usage.js';

export const OPENAI_CHAT_PATH = '/v1/chat/completions';

export function buildOpenAIRequest(req: CompletionRequest): UpstreamRequest {
  const messages: { role: string; content: string }[] = [];
  if (req.system) messages.push({ role: 'system', content: req.system });
  for (const m of req.messages) messages.push({ role: m.role, content: m.content });
  const body: Record<string, unknown> = {
    model: req.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (req.maxTokens !== undefined) body['max_tokens'] = req.maxTokens;
  if (req.temperature !== undefined) body['temperature'] = req.temperature;
  if (req.topP !== undefined) body['top_p'] = req.topP;
  if (req.stop !== undefined && req.stop.length > 0) body['stop'] = req.stop;
  if (req.userId !== undefined) body['user_id'] = req.userId;
  if (req.reasoningEffort !== undefined) {
    // ezrouter's documented thinking fields for this surface.
    body['reasoning_effort'] = req.reasoningEffort;
    body['thinking'] = { type: 'enabled' };
  }
  return { method: 'POST', path: OPENAI_CHAT_PATH, auth: 'bearer', body };
}

/** Usage from the final chunk: `prompt_tokens`/`completion_tokens`/`total_tokens`, never `output_tokens`. */
function usageOf(raw: unknown): WholeUsage | undefined {
  if (!isRecord(raw)) return undefined;
  const details = raw['prompt_tokens_details'];
  return {
    kind: 'whole',
    prompt: tokenCount(raw['prompt_tokens']),
    cacheRead: isRecord(details) ? tokenCount(details['cached_tokens']) : undefined,
    completion: tokenCount(raw['completion_tokens']),
    total: tokenCount(raw['total_tokens']),
  };
}

/** A finish reason passed through as the gateway wrote it (any non-empty string). */
function finishOf(value: unknown): FinishReason | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function modelOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Thinking text: `reasoning_content`, or `reasoning` when that is the only copy (gateways send
 * both with the same text; it is counted once).
 */
function reasoningOf(holder: Record<string, unknown>): string | undefined {
  const content = holder['reasoning_content'];
  if (typeof content === 'string' && content !== '') return content;
  const reasoning = holder['reasoning'];
  return typeof reasoning === 'string' && reasoning !== '' ? reasoning : undefined;
}

/**
 * One chunk: the first choice's content delta (answer text) and reasoning, its finish reason,
 * the chunk's model and usage. The usage chunk has an empty `choices`; role-only deltas have no
 * content; a chunk with an `error` (or an `error` event) is an error frame.
 */
function readFrame(name: string | undefined, chunk: Record<string, unknown>): FrameEffect {
  const error = chunk['error'];
  if (name === 'error' || (error !== undefined && error !== null)) return { error: envelopeFrom(chunk) };
  let text: string | undefined;
  let reasoning: string | undefined;
  let finish: FinishReason | undefined;
  const choices = chunk['choices'];
  if (Array.isArray(choices) && choices.length > 0) {
    const choice: unknown = choices[0];
    if (isRecord(choice)) {
      const delta = choice['delta'];
      if (isRecord(delta)) {
        const content = delta['content'];
        if (typeof content === 'string') text = content;
        reasoning = reasoningOf(delta);
      }
      finish = finishOf(choice['finish_reason']);
    }
  }
  return { text, reasoning, finish, model: modelOf(chunk['model']), usage: usageOf(chunk['usage']) };
}

function readBody(body: unknown): FrameEffect[] | undefined {
  if (!isRecord(body) || !Array.isArray(body['choices'])) return undefined;
  let text: string | undefined;
  let reasoning: string | undefined;
  let finish: FinishReason | undefined;
  const choice: unknown = body['choices'][0];
  if (isRecord(choice)) {
    const message = choice['message'];
    if (isRecord(message)) {
      if (typeof message['content'] === 'string') text = message['content'];
      reasoning = reasoningOf(message);
    }
    finish = finishOf(choice['finish_reason']);
  }
  return [{ text, reasoning, finish, model: modelOf(body['model']), usage: usageOf(body['usage']) }];
}

export const openAIReader: SurfaceReader = {
  buildRequest: buildOpenAIRequest,
  isTerminator: (data) => data === '[DONE]',
  readFrame,
  readBody,
};
