/**
 * The OpenAI-compatible surface: `POST {base}/v1/chat/completions` with Bearer auth. ezrouter
 * always answers it with an SSE stream of `chat.completion.chunk`s ending in `data: [DONE]`;
 * a plain `chat.completion` JSON body is accepted too.
 */
import { AnswerBuilder, tokenCount } from './answer.js';
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
import type { CompletionRequest, Usage } from './types.js';

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
  return { method: 'POST', path: OPENAI_CHAT_PATH, auth: 'bearer', body };
}

/** Usage from the final chunk: `prompt_tokens`/`completion_tokens`/`total_tokens`, never `output_tokens`. */
export function openAIUsage(raw: unknown): Usage {
  if (!isRecord(raw)) return {};
  const details = raw['prompt_tokens_details'];
  return {
    prompt_tokens: tokenCount(raw['prompt_tokens']),
    completion_tokens: tokenCount(raw['completion_tokens']),
    total_tokens: tokenCount(raw['total_tokens']),
    cached_tokens: isRecord(details) ? tokenCount(details['cached_tokens']) : undefined,
  };
}

/**
 * A chunk whose only effect is answer text (and the model name): a content delta without finish
 * reason, usage or error. What the fast path learns its shape from (see FrameShape).
 */
export function openAITextFrame(name: string | undefined, chunk: unknown): TextFrame | undefined {
  if (name === 'error' || !isRecord(chunk) || (chunk['error'] !== undefined && chunk['error'] !== null)) return undefined;
  const choices = chunk['choices'];
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const choice: unknown = choices[0];
  if (!isRecord(choice)) return undefined;
  const delta = choice['delta'];
  if (!isRecord(delta) || typeof delta['content'] !== 'string') return undefined;
  const finish = choice['finish_reason'];
  if ((typeof finish === 'string' && finish !== '') || isRecord(chunk['usage'])) return undefined;
  const model = chunk['model'];
  return { text: delta['content'], model: typeof model === 'string' && model !== '' ? model : undefined };
}

export class OpenAIStream implements StreamProtocol {
  finished = false;
  readonly shape: FrameShape | undefined;
  /** takeShaped, bound once (it runs for every fast-path frame). */
  private readonly takeText = (text: string): void => this.takeShaped(text);

  constructor(
    private readonly answer: AnswerBuilder,
    private readonly requestId: string | undefined,
    options: StreamProtocolOptions = {},
  ) {
    this.shape = options.fastPath === false ? undefined : new FrameShape(openAITextFrame, this.takeText);
  }

  onEvent(name: string | undefined, data: string): void {
    if (this.finished) return;
    if (data === '[DONE]') {
      this.finished = true;
      return;
    }
    const shape = this.shape;
    const chunk = decodeFrame(shape, name, data, this.requestId, this.takeText);
    if (chunk === undefined) return;
    if (chunk['error'] !== undefined && chunk['error'] !== null || name === 'error') {
      throw streamErrorFrame(envelopeFrom(chunk), this.answer.length > 0, this.requestId);
    }
    this.onChunk(chunk);
    if (shape !== undefined) {
      const frame = openAITextFrame(name, chunk);
      if (frame !== undefined) shape.learn(name, data, frame);
    }
  }

  /** A frame of the learned shape: exactly what the full path does for it (see FrameShape). */
  private takeShaped(text: string): void {
    if (this.finished) return;
    this.answer.appendText(text);
    const model = this.shape?.model;
    if (model !== undefined) this.answer.model = model;
  }

  onJsonBody(body: unknown): void {
    if (!isRecord(body) || !Array.isArray(body['choices'])) {
      throw malformedFrame(JSON.stringify(body) ?? '', this.requestId);
    }
    const choice = body['choices'][0];
    if (isRecord(choice)) {
      const message = choice['message'];
      if (isRecord(message) && typeof message['content'] === 'string') this.answer.appendText(message['content']);
      this.takeFinishReason(choice['finish_reason']);
    }
    this.takeModelAndUsage(body);
    this.finished = true;
  }

  private onChunk(chunk: Record<string, unknown>): void {
    const choices = chunk['choices'];
    // The usage chunk has an empty `choices`; role-only deltas have no content;
    // `reasoning_content` / `reasoning` are thinking, never answer text.
    if (Array.isArray(choices) && choices.length > 0) {
      const choice: unknown = choices[0];
      if (isRecord(choice)) {
        const delta = choice['delta'];
        if (isRecord(delta)) {
          const content = delta['content'];
          if (typeof content === 'string') this.answer.appendText(content);
        }
        this.takeFinishReason(choice['finish_reason']);
      }
    }
    this.takeModelAndUsage(chunk);
  }

  private takeFinishReason(value: unknown): void {
    if (typeof value === 'string' && value !== '') this.answer.finishReason = value;
  }

  private takeModelAndUsage(chunk: Record<string, unknown>): void {
    const model = chunk['model'];
    if (typeof model === 'string' && model !== '') this.answer.model = model;
    const usage = chunk['usage'];
    if (isRecord(usage)) this.answer.usage = openAIUsage(usage);
  }
}
