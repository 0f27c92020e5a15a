/**
 * The one seam of the stream path: "decode these bytes as that surface". The stream reader
 * gives it a response body, the tests arrays of chunks, the bench recorded bytes; all of them
 * get the same Answer, whichever fast path is on. A plain JSON answer (a gateway that does not
 * stream) comes through the same seam, decodeBody.
 *
 *   bytes → [byte-level matcher] → SSE decoder → accumulator (frame → surface reader → effect)
 *   bytes → (buffered, capped) → accumulator.body (surface reader's readBody → effects)
 */
import { Accumulator, type AccumulatorOptions, type Answer } from './accumulator.js';
import { EzrouterError } from './errors.js';
import { ByteFrameMatcher } from './fast-path/byte-frames.js';
import { DEFAULT_MAX_EVENT_CHARS, SseDecoder, type ByteSink } from './sse.js';
import type { SurfaceReader } from './surface-reader.js';
import { surfaceReader } from './surfaces.js';
import type { Surface } from './types.js';

export interface DecodeStreamOptions extends Omit<AccumulatorOptions, 'fastPath'> {
  /**
   * `bytes` (the default, as shipped): frames of the learned shape are matched on the bytes and
   * on the decoded text; `strings`: on the decoded text only; `off`: every frame is parsed.
   * Every mode gives the same Answer (test/fast-path.test.ts).
   */
  fastPath?: 'bytes' | 'strings' | 'off' | undefined;
  /** Largest single event accepted, in characters (default 8 MiB). */
  maxEventChars?: number | undefined;
  /** Called once, after the chunk in which the stream's end marker arrived. */
  onComplete?: (() => void) | undefined;
}

export interface DecodedStream extends Answer {
  /**
   * What stopped the reading before the chunks ended, if anything: an EzrouterError (an error
   * frame, an unreadable frame, the answer cap, an oversized event) or whatever the chunk source
   * threw. The Answer holds what was read before it; a `complete` answer is whole even so.
   */
  failure: unknown;
  /** Events the SSE decoder dispatched (the byte-level matcher's frames are not among them). */
  parsedEvents: number;
}

export async function decodeStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  surface: Surface | SurfaceReader,
  options: DecodeStreamOptions = {},
): Promise<DecodedStream> {
  const fastPath = options.fastPath ?? 'bytes';
  const accumulator = new Accumulator(typeof surface === 'string' ? surfaceReader(surface) : surface, {
    requestId: options.requestId,
    maxAnswerChars: options.maxAnswerChars,
    onText: options.onText,
    onReasoning: options.onReasoning,
    fastPath: fastPath !== 'off',
  });
  let parsedEvents = 0;
  const maxEventChars = options.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS;
  const decoder = new SseDecoder({
    onEvent: (name, data) => {
      parsedEvents++;
      accumulator.frame(name, data);
    },
  }, maxEventChars);
  const shape = accumulator.shape;
  const sink: ByteSink = fastPath === 'bytes' && shape !== undefined ? new ByteFrameMatcher(decoder, shape) : decoder;
  let failure: unknown;
  let completeSignalled = false;
  const push = (chunk: Uint8Array): void => {
    sink.push(chunk);
    if (sink.overflowed) throw oversizedEvent(maxEventChars);
    if (accumulator.done && !completeSignalled) {
      completeSignalled = true;
      options.onComplete?.();
    }
  };
  try {
    if (Symbol.asyncIterator in chunks) {
      for await (const chunk of chunks) push(chunk);
    } else {
      for (const chunk of chunks) push(chunk);
    }
    sink.end();
  } catch (error) {
    failure = error;
  }
  return { ...accumulator.result(), failure, parsedEvents };
}

function oversizedEvent(maxEventChars: number): EzrouterError {
  const limit = maxEventChars % (1024 * 1024) === 0 ? `${maxEventChars / 1024 / 1024} MiB` : `${maxEventChars} characters`;
  return new EzrouterError({
    code: 'bad_response',
    message: `ezrouter sent a single stream event larger than this server accepts (${limit}): the response is not a normal answer stream.`,
  });
}

/** A plain JSON answer body is buffered up to this size. */
export const MAX_JSON_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * A whole, non-streamed JSON answer: the chunks are buffered (at most MAX_JSON_ANSWER_BYTES),
 * then read by the surface's readBody. Reports a failure as decodeStream does.
 */
export async function decodeBody(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  surface: Surface | SurfaceReader,
  options: Omit<AccumulatorOptions, 'fastPath'> = {},
): Promise<DecodedStream> {
  const accumulator = new Accumulator(typeof surface === 'string' ? surfaceReader(surface) : surface, { ...options, fastPath: false });
  let failure: unknown;
  try {
    const pieces: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > MAX_JSON_ANSWER_BYTES) {
        throw new EzrouterError({
          code: 'bad_response',
          message: `ezrouter sent a JSON answer larger than ${MAX_JSON_ANSWER_BYTES / 1024 / 1024} MiB, which this server does not accept.`,
        });
      }
      pieces.push(chunk);
    }
    accumulator.body(Buffer.concat(pieces).toString('utf8'));
  } catch (error) {
    failure = error;
  }
  return { ...accumulator.result(), failure, parsedEvents: 0 };
}
