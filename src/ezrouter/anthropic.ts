/**
 * The Anthropic-compatible surface: `POST {base}/anthropic/v1/messages` with `x-api-key` and
 * `anthropic-version`, always `stream: true`. Text comes from `text` blocks and `text_delta`s,
 * thinking from `thinking` blocks and `thinking_delta`s, usage from `message_start` +
 * `message_delta`, the stop reason is mapped to OpenAI's words, and the stream is complete only
 * at `message_stop`.
 */
import { anthropicThinking, checkThinkingSampling } from './reasoning.js';
import { envelopeFrom } from './errors.js';
import type { UpstreamRequest } from './http.js';
import { isRecord } from './json.js';
import type { FrameEffect, RequestDefaults, SurfaceReader } from './surface-reader.js';
import type { CompletionRequest, FinishReason } from './types.js';
import { tokenCount, type UsageUpdate } from './usage.js';

export const ANTHROPIC_MESSAGES_PATH = '/anthropic/v1/messages';
export const ANTHROPIC_VERSION = '2023-06-01';

/** A Map, so that a stop reason such as `constructor` or `__proto__` is just an unknown one. */
const STOP_REASONS: ReadonlyMap<string, FinishReason> = new Map([
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['max_tokens', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
  ['pause_turn', 'stop'],
]);

/** Anthropic's stop reason in OpenAI's words; one this table does not know is passed through. */
export function mapStopReason(reason: unknown): FinishReason {
  if (typeof reason !== 'string' || reason === '') return null;
  return STOP_REASONS.get(reason) ?? reason;
}

export function buildAnthropicRequest(req: CompletionRequest, defaults: RequestDefaults): UpstreamRequest {
  // `system` messages and the `system` argument become the top-level `system`.
  const systemParts = [req.system, ...req.messages.filter((m) => m.role === 'system').map((m) => m.content)]
    .filter((s): s is string => typeof s === 'string' && s !== '');
  const thinking = req.reasoningEffort === undefined ? undefined : anthropicThinking(req.reasoningEffort, req.maxTokens);
  if (thinking) checkThinkingSampling(req.temperature, req.topP);
  const body: Record<string, unknown> = {
    model: req.model,
    max_tokens: thinking?.maxTokens ?? req.maxTokens ?? defaults.maxTokens,
    messages: req.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
    stream: true,
  };
  if (systemParts.length > 0) body['system'] = systemParts.join('\n\n');
  if (req.temperature !== undefined) body['temperature'] = req.temperature;
  if (req.topP !== undefined) body['top_p'] = req.topP;
  if (req.stop !== undefined && req.stop.length > 0) body['stop_sequences'] = req.stop;
  if (req.userId !== undefined) body['metadata'] = { user_id: req.userId };
  if (thinking) body['thinking'] = { type: 'enabled', budget_tokens: thinking.budgetTokens };
  return {
    method: 'POST',
    path: ANTHROPIC_MESSAGES_PATH,
    auth: 'x-api-key',
    headers: { 'anthropic-version': ANTHROPIC_VERSION },
    body,
  };
}

/** `message_start` carries input (and cache) counts, `message_delta` the output count. */
function usageOf(raw: unknown): UsageUpdate | undefined {
  if (!isRecord(raw)) return undefined;
  return {
    kind: 'update',
    uncachedPrompt: tokenCount(raw['input_tokens']),
    cacheRead: tokenCount(raw['cache_read_input_tokens']),
    cacheWrite: tokenCount(raw['cache_creation_input_tokens']),
    completion: tokenCount(raw['output_tokens']),
  };
}

/** The text of a content block (`content_block_start`, or a block of a JSON answer). */
function blockEffect(block: unknown): FrameEffect {
  if (!isRecord(block)) return {};
  if (block['type'] === 'text' && typeof block['text'] === 'string') return { text: block['text'] };
  if (block['type'] === 'thinking' && typeof block['thinking'] === 'string' && block['thinking'] !== '') {
    return { reasoning: block['thinking'] };
  }
  return {};
}

/** One event; its type is the JSON's `type`, or the event name when the JSON has none. */
function readFrame(name: string | undefined, event: Record<string, unknown>): FrameEffect {
  const type = typeof event['type'] === 'string' ? event['type'] : name;
  switch (type) {
    case 'message_start': {
      const message = event['message'];
      if (!isRecord(message)) return {};
      return { model: typeof message['model'] === 'string' ? message['model'] : undefined, usage: usageOf(message['usage']) };
    }
    case 'content_block_start':
      return blockEffect(event['content_block']);
    case 'content_block_delta': {
      const delta = event['delta'];
      // signature_delta and input_json_delta are neither answer text nor thinking.
      if (!isRecord(delta)) return {};
      if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string') return { text: delta['text'] };
      if (delta['type'] === 'thinking_delta' && typeof delta['thinking'] === 'string' && delta['thinking'] !== '') {
        return { reasoning: delta['thinking'] };
      }
      return {};
    }
    case 'message_delta': {
      const delta = event['delta'];
      const stop = isRecord(delta) && delta['stop_reason'] !== undefined ? mapStopReason(delta['stop_reason']) : undefined;
      return { finish: stop, usage: usageOf(event['usage']) };
    }
    case 'message_stop':
      return { done: true };
    case 'error':
      return { error: envelopeFrom(event) };
    default:
      // ping, content_block_stop and future event types carry nothing we need.
      return {};
  }
}

function readBody(body: unknown): FrameEffect[] | undefined {
  if (!isRecord(body) || !Array.isArray(body['content'])) return undefined;
  if (body['type'] === 'error') return [{ error: envelopeFrom(body) }];
  const effects = body['content'].map(blockEffect);
  effects.push({
    model: typeof body['model'] === 'string' ? body['model'] : undefined,
    finish: mapStopReason(body['stop_reason']),
    usage: usageOf(body['usage']),
  });
  return effects;
}

export const anthropicReader: SurfaceReader = {
  buildRequest: buildAnthropicRequest,
  isTerminator: () => false,
  readFrame,
  readBody,
};
