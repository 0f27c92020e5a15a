/**
 * What a surface is to the rest of the client: how to build its request, and how to read what it
 * answers. Reading is pure: a frame (one server-sent event's JSON) or a whole JSON answer goes
 * in, its effect on the answer comes out; the accumulator applies effects and owns everything
 * stateful (the text so far, "finished", usage folding, the fast path). A third surface is one
 * more SurfaceReader.
 */
import type { ErrorEnvelope } from './errors.js';
import type { UpstreamRequest } from './http.js';
import type { CompletionRequest, FinishReason } from './types.js';
import type { UsagePart } from './usage.js';

/** Request settings that come from the configuration, not from the caller. */
export interface RequestDefaults {
  /** `max_tokens` for a surface that requires one when the request sets none. */
  maxTokens: number;
}

/**
 * What one frame does to the answer; a field that is undefined has no effect. Applied in this
 * order: `error` (the call fails: nothing else is applied), `text`, `reasoning`, `finish`,
 * `model`, `usage`, `done`.
 */
export interface FrameEffect {
  /** An error frame from the gateway. */
  error?: ErrorEnvelope | undefined;
  /** Answer text to append. */
  text?: string | undefined;
  /** Reasoning ("thinking") text to append: a second channel, never part of the answer text. */
  reasoning?: string | undefined;
  /** The finish reason in OpenAI's words; null sets it back to unknown. */
  finish?: FinishReason | undefined;
  /** The model the gateway says answers. */
  model?: string | undefined;
  usage?: UsagePart | undefined;
  /** The surface's own end marker: the answer is complete. */
  done?: boolean | undefined;
}

export interface SurfaceReader {
  buildRequest(req: CompletionRequest, defaults: RequestDefaults): UpstreamRequest;
  /** Whether an event's raw data is the stream's terminator that is not JSON (`[DONE]`). */
  isTerminator(data: string): boolean;
  /**
   * The effect of one frame: `name` is the event's `event:` field (undefined when it had none),
   * `frame` its data parsed as a JSON object. Pure and total: never throws, keeps no state.
   */
  readFrame(name: string | undefined, frame: Record<string, unknown>): FrameEffect;
  /**
   * The effects of a whole, non-streamed JSON answer, in order; undefined when the JSON is not
   * an answer of this surface. The answer is complete after them.
   */
  readBody(body: unknown): FrameEffect[] | undefined;
}
