/**
 * The answer being assembled from a stream (or a whole JSON answer): the one place effects are
 * applied. It parses each frame, asks the surface's reader for the frame's effect and applies
 * it: answer text and reasoning (two channels, each capped), finish reason, model, usage, the
 * end marker, error frames. Once the answer is complete, later frames are ignored.
 *
 * It alone owns the frame-level fast path: whenever the reader's effect for a frame is text only
 * (text, and at most the model), that frame teaches the FrameShape; a later frame of that shape
 * is applied as its text without being parsed. The rule comes from the same reader's effects, so
 * the fast path and the full path can never disagree about what a text frame is.
 */
import { EzrouterError, streamErrorFrame } from './errors.js';
import { FrameShape, type TextFrame } from './fast-path/frame-shape.js';
import { isRecord } from './json.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth.js';
import type { FrameEffect, SurfaceReader } from './surface-reader.js';
import { TextChannel } from './text-channel.js';
import type { FinishReason, TextListener, Usage } from './types.js';
import { addUsage, totalUsage, type UsagePart } from './usage.js';

export interface AccumulatorOptions {
  /** The response's request id, for the errors raised while reading it. */
  requestId?: string | undefined;
  /**
   * The longest answer kept (EZROUTER_MAX_ANSWER_CHARS): past it the call fails with what was
   * kept so far, instead of growing without bound. The reasoning is kept up to the same length,
   * then cut (see Answer.reasoningTruncated).
   */
  maxAnswerChars?: number | undefined;
  /** Told of every piece of answer text. */
  onText?: TextListener | undefined;
  /** Told of every piece of reasoning text. */
  onReasoning?: TextListener | undefined;
  /** Learn text frames' shape and apply frames of it without JSON.parse (default true). */
  fastPath?: boolean | undefined;
}

/** What the stream said, as far as it was read. */
export interface Answer {
  text: string;
  /** The reasoning ("thinking") text, never part of `text`. */
  reasoning: string;
  /** The reasoning went past the cap: `reasoning` is its beginning. */
  reasoningTruncated: boolean;
  /** The model the gateway says answered (may differ from the one asked for). */
  model: string | undefined;
  finishReason: FinishReason;
  usage: Usage;
  /** The stream's end marker was seen (or a whole JSON answer was read): nothing is missing. */
  complete: boolean;
}

/** A frame whose effect is text only, as the fast path needs it; undefined for any other. */
function textFrameOf(effect: FrameEffect): TextFrame | undefined {
  if (effect.text === undefined) return undefined;
  if (effect.error !== undefined || effect.reasoning !== undefined || effect.finish !== undefined) return undefined;
  if (effect.usage !== undefined || effect.done === true) return undefined;
  return effect as TextFrame;
}

/**
 * Frames longer than this are checked for nesting past MAX_JSON_DEPTH before JSON.parse, which
 * takes ~0.35 µs per character of `[[[[…` (seconds for an 8 MiB frame) against a few ns for
 * ordinary JSON. A shorter frame parses in well under a millisecond however it nests, and
 * ordinary frames (~200 characters) are spared the extra pass.
 */
const DEPTH_CHECKED_CHARS = 1024;

/** Nesting past MAX_JSON_DEPTH, refused unparsed. */
function tooDeep(what: string, requestId: string | undefined): EzrouterError {
  return new EzrouterError({
    code: 'bad_response',
    message: `ezrouter sent ${what} nested deeper than ${MAX_JSON_DEPTH} levels, which no real answer has: this server does not read it.`,
    requestId,
  });
}

function malformedFrame(data: string, requestId: string | undefined): EzrouterError {
  // The frame itself is not quoted: a piece cut out of it could hold part of a secret.
  return new EzrouterError({
    code: 'bad_response',
    message: `ezrouter sent a stream frame that is not valid JSON (${data.length} characters), so the answer cannot be trusted: try again.`,
    requestId,
  });
}

export class Accumulator {
  /** The end marker was seen: the answer is complete. */
  done = false;
  /** The learned shape of text frames (undefined: fast path off). */
  readonly shape: FrameShape | undefined;
  private readonly answer: TextChannel;
  private readonly reasoning: TextChannel;
  private reasoningTruncated = false;
  private finishReason: FinishReason = null;
  private model: string | undefined;
  private usage: UsagePart | undefined;
  private readonly requestId: string | undefined;
  /** A frame of the learned shape: exactly what `frame` does for it. Bound once (it runs for every such frame). */
  private readonly takeShaped = (text: string): void => {
    if (this.done) return;
    this.appendText(text);
    const model = this.shape?.model;
    if (model !== undefined) this.model = model;
  };

  constructor(
    private readonly reader: SurfaceReader,
    options: AccumulatorOptions = {},
  ) {
    const maxChars = options.maxAnswerChars ?? Number.MAX_SAFE_INTEGER;
    this.answer = new TextChannel(maxChars, options.onText);
    this.reasoning = new TextChannel(maxChars, options.onReasoning);
    this.requestId = options.requestId;
    this.shape =
      options.fastPath === false
        ? undefined
        : new FrameShape((name, parsed) => (isRecord(parsed) ? textFrameOf(reader.readFrame(name, parsed)) : undefined), this.takeShaped);
  }

  /** Characters of answer text so far. */
  get textLength(): number {
    return this.answer.length;
  }

  /** One server-sent event. Throws EzrouterError on an error frame, an unreadable frame or an answer past the cap. */
  frame(name: string | undefined, data: string): void {
    if (this.done) return;
    if (this.reader.isTerminator(data)) {
      this.done = true;
      return;
    }
    const shape = this.shape;
    if (shape !== undefined) {
      const text = shape.match(name, data);
      if (text !== undefined) {
        this.takeShaped(text);
        return;
      }
    }
    if (data.length > DEPTH_CHECKED_CHARS && exceedsJsonDepth(data)) throw tooDeep('a stream frame', this.requestId);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      throw malformedFrame(data, this.requestId);
    }
    if (!isRecord(parsed)) throw malformedFrame(data, this.requestId);
    const effect = this.reader.readFrame(name, parsed);
    this.apply(effect);
    if (shape !== undefined) {
      const frame = textFrameOf(effect);
      if (frame !== undefined) shape.learn(name, data, frame);
    }
  }

  /** A whole, non-streamed JSON answer (its text): afterwards the answer is complete. */
  body(text: string): void {
    if (exceedsJsonDepth(text)) throw tooDeep('a JSON answer', this.requestId);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new EzrouterError({
        code: 'bad_response',
        message: 'ezrouter sent a JSON answer that does not parse: try again.',
      });
    }
    const effects = this.reader.readBody(json);
    if (effects === undefined) throw malformedFrame(JSON.stringify(json) ?? '', this.requestId);
    for (const effect of effects) this.apply(effect);
    this.done = true;
  }

  /** The answer as read so far. */
  result(): Answer {
    return {
      text: this.answer.text(),
      reasoning: this.reasoning.text(),
      reasoningTruncated: this.reasoningTruncated,
      model: this.model,
      finishReason: this.finishReason,
      usage: totalUsage(this.usage),
      complete: this.done,
    };
  }

  private apply(effect: FrameEffect): void {
    if (effect.error !== undefined) throw streamErrorFrame(effect.error, this.answer.length > 0, this.requestId);
    if (effect.text !== undefined) this.appendText(effect.text);
    if (effect.reasoning !== undefined && !this.reasoningTruncated) this.reasoningTruncated = !this.reasoning.append(effect.reasoning);
    if (effect.finish !== undefined) this.finishReason = effect.finish;
    if (effect.model !== undefined) this.model = effect.model;
    if (effect.usage !== undefined) this.usage = addUsage(this.usage, effect.usage);
    if (effect.done === true) this.done = true;
  }

  private appendText(piece: string): void {
    if (this.answer.append(piece)) return;
    throw new EzrouterError({
      code: 'bad_response',
      message: `The answer grew past ${this.answer.maxChars} characters (EZROUTER_MAX_ANSWER_CHARS), more than this server returns: the part below is all that is kept; ask for a shorter answer (set max_tokens).`,
    });
  }
}
