/**
 * The Anthropic-compatible surface: `POST {base}/anthropic/v1/messages` with `x-api-key` and
 * `anthropic-version`, always `stream: true`. Text comes from `text_delta`s, usage from
 * `message_start` + `message_delta`, the stop reason is mapped to OpenAI's words, and the
 * stream is complete only at `message_stop`.
 */
import { tokenCount, type AnswerBuilder } from './answer.js';
import { envelopeFrom, streamErrorFrame } from './errors.js';
import type { UpstreamRequest } from './http.js';
import { isRecord } from './json.js';
import {
  decodeFrame,
  FrameShape,
  malformedFrame,
  type StreamProtocol,
  type StreamProtocolOptions,
  type TextFrame,
} from './stream-protocol.js';
import type { CompletionRequest, FinishReason } from './types.js';

export const ANTHROPIC_MESSAGES_PATH = '/anthropic/v1/messages';
export const ANTHROPIC_VERSION = '2023-06-01';

const STOP_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
  pause_turn: 'stop',
};

export function mapStopReason(reason: unknown): FinishReason {
  if (typeof reason !== 'string' || reason === '') return null;
  // Own properties only: an upstream "constructor" or "__proto__" is just an unknown reason.
  return Object.hasOwn(STOP_REASONS, reason) ? (STOP_REASONS[reason] ?? reason) : reason;
}

export function buildAnthropicRequest(req: CompletionRequest, defaultMaxTokens: number): UpstreamRequest {
  // `system` messages and the `system` argument become the top-level `system`.
  const systemParts = [req.system, ...req.messages.filter((m) => m.role === 'system').map((m) => m.content)]
    .filter((s): s is string => typeof s === 'string' && s !== '');
  const body: Record<string, unknown> = {
    model: req.model,
    max_tokens: req.maxTokens ?? defaultMaxTokens,
    messages: req.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
    stream: true,
  };
  if (systemParts.length > 0) body['system'] = systemParts.join('\n\n');
  if (req.temperature !== undefined) body['temperature'] = req.temperature;
  if (req.topP !== undefined) body['top_p'] = req.topP;
  if (req.stop !== undefined && req.stop.length > 0) body['stop_sequences'] = req.stop;
  if (req.userId !== undefined) body['metadata'] = { user_id: req.userId };
  return {
    method: 'POST',
    path: ANTHROPIC_MESSAGES_PATH,
    auth: 'x-api-key',
    headers: { 'anthropic-version': ANTHROPIC_VERSION },
    body,
  };
}

/**
 * An event whose only effect is answer text: a `content_block_delta` with a `text_delta`. What
 * the fast path learns its shape from (see FrameShape).
 */
export function anthropicTextFrame(name: string | undefined, event: unknown): TextFrame | undefined {
  if (!isRecord(event)) return undefined;
  const type = typeof event['type'] === 'string' ? event['type'] : name;
  if (type !== 'content_block_delta') return undefined;
  const delta = event['delta'];
  if (!isRecord(delta) || delta['type'] !== 'text_delta' || typeof delta['text'] !== 'string') return undefined;
  return { text: delta['text'], model: undefined };
}

export class AnthropicStream implements StreamProtocol {
  finished = false;
  private inputTokens: number | undefined;
  private cacheRead: number | undefined;
  private cacheCreation: number | undefined;
  private outputTokens: number | undefined;
  readonly shape: FrameShape | undefined;
  /** takeShaped, bound once (it runs for every fast-path frame). */
  private readonly takeText = (text: string): void => this.takeShaped(text);

  constructor(
    private readonly answer: AnswerBuilder,
    private readonly requestId: string | undefined,
    options: StreamProtocolOptions = {},
  ) {
    this.shape = options.fastPath === false ? undefined : new FrameShape(anthropicTextFrame, this.takeText);
  }

  onEvent(name: string | undefined, data: string): void {
    if (this.finished) return;
    const shape = this.shape;
    const event = decodeFrame(shape, name, data, this.requestId, this.takeText);
    if (event === undefined) return;
    const type = typeof event['type'] === 'string' ? event['type'] : name;
    switch (type) {
      case 'message_start': {
        const message = event['message'];
        if (isRecord(message)) {
          if (typeof message['model'] === 'string') this.answer.model = message['model'];
          this.takeUsage(message['usage']);
        }
        break;
      }
      case 'content_block_start': {
        const block = event['content_block'];
        if (isRecord(block) && block['type'] === 'text' && typeof block['text'] === 'string') {
          this.answer.appendText(block['text']);
        }
        break;
      }
      case 'content_block_delta': {
        const delta = event['delta'];
        // thinking_delta, signature_delta and input_json_delta are not answer text.
        if (isRecord(delta) && delta['type'] === 'text_delta' && typeof delta['text'] === 'string') {
          this.answer.appendText(delta['text']);
          shape?.learn(name, data, { text: delta['text'], model: undefined });
        }
        break;
      }
      case 'message_delta': {
        const delta = event['delta'];
        if (isRecord(delta) && delta['stop_reason'] !== undefined) {
          this.answer.finishReason = mapStopReason(delta['stop_reason']);
        }
        this.takeUsage(event['usage']);
        break;
      }
      case 'message_stop':
        this.finished = true;
        break;
      case 'error':
        throw streamErrorFrame(envelopeFrom(event), this.answer.length > 0, this.requestId);
      default:
        // ping, content_block_stop and future event types carry nothing we need.
        break;
    }
  }

  /** An event of the learned shape: exactly what the full path does for it (see FrameShape). */
  private takeShaped(text: string): void {
    if (this.finished) return;
    this.answer.appendText(text);
  }

  onJsonBody(body: unknown): void {
    if (!isRecord(body) || !Array.isArray(body['content'])) {
      throw malformedFrame(JSON.stringify(body) ?? '', this.requestId);
    }
    if (body['type'] === 'error') {
      throw streamErrorFrame(envelopeFrom(body), false, this.requestId);
    }
    for (const block of body['content']) {
      if (isRecord(block) && block['type'] === 'text' && typeof block['text'] === 'string') {
        this.answer.appendText(block['text']);
      }
    }
    if (typeof body['model'] === 'string') this.answer.model = body['model'];
    this.answer.finishReason = mapStopReason(body['stop_reason']);
    this.takeUsage(body['usage']);
    this.finished = true;
  }

  /** `message_start` carries input (and cache) counts, `message_delta` the output count. */
  private takeUsage(raw: unknown): void {
    if (!isRecord(raw)) return;
    this.inputTokens = tokenCount(raw['input_tokens']) ?? this.inputTokens;
    this.cacheRead = tokenCount(raw['cache_read_input_tokens']) ?? this.cacheRead;
    this.cacheCreation = tokenCount(raw['cache_creation_input_tokens']) ?? this.cacheCreation;
    this.outputTokens = tokenCount(raw['output_tokens']) ?? this.outputTokens;
    this.publishUsage();
  }

  private publishUsage(): void {
    const hasPrompt = this.inputTokens !== undefined || this.cacheRead !== undefined || this.cacheCreation !== undefined;
    this.answer.usage = {
      prompt_tokens: hasPrompt ? tokenCount((this.inputTokens ?? 0) + (this.cacheRead ?? 0) + (this.cacheCreation ?? 0)) : undefined,
      completion_tokens: this.outputTokens,
      cached_tokens: this.cacheRead,
    };
  }
}
