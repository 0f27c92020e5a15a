/**
 * Reads a 2xx completion response to the end and returns the answer: SSE through decodeStream,
 * or a plain JSON body. Decides how a body that breaks off is reported: the stream's own
 * terminator makes an answer complete, and a complete answer is never discarded because an
 * error or timer came after it.
 */
import type { AccumulatorOptions, Answer } from './accumulator.js';
import { decodeBody, decodeStream } from './decode-stream.js';
import { CallCancelledError, EzrouterError } from './errors.js';
import { discardBody, type UpstreamResponse } from './http.js';
import type { Surface } from './types.js';

/** How long the rest of a response may take to end once its terminator arrived. */
export const TAIL_GRACE_MS = 250;

/** Classifies an error thrown while reading (abort, idle timeout, reset): see classifyTransportError. */
export type TransportErrorClassifier = (error: unknown) => EzrouterError | CallCancelledError;

export type ReadAnswerOptions = Omit<AccumulatorOptions, 'requestId' | 'fastPath'>;

/** An answer as far as it was read, and what stopped the reading early (undefined: nothing). */
interface ReadOutcome {
  answer: Answer;
  failure: unknown;
}

export async function readAnswer(
  res: UpstreamResponse,
  surface: Surface,
  options: ReadAnswerOptions,
  classify: TransportErrorClassifier,
): Promise<Answer> {
  const type = res.contentType.toLowerCase();
  const stream = type.includes('text/event-stream');
  if (!stream && !type.includes('application/json')) {
    discardBody(res.body);
    throw wrongContentType(res);
  }
  const { answer, failure } = stream ? await readEventStream(res, surface, options) : await readJsonBody(res, surface, options);
  if (failure !== undefined) discardBody(res.body);
  if (answer.complete) return answer;
  if (failure !== undefined) throw failureError(failure, answer, res, classify);
  throw interrupted(answer, res, {
    afterText: 'ezrouter ended the answer stream without its end marker, so the answer may be incomplete: try again.',
    beforeText: 'ezrouter ended the answer stream before sending any text or its end marker: try again.',
  });
}

async function readEventStream(res: UpstreamResponse, surface: Surface, options: ReadAnswerOptions): Promise<ReadOutcome> {
  // After the terminator the server normally ends the response at once (and the socket goes
  // back to the pool). If it does not, the answer is not held hostage: the body is dropped after
  // a short grace, which ends the loop, and readAnswer returns the complete answer.
  let tail: NodeJS.Timeout | undefined;
  try {
    const decoded = await decodeStream(res.body as AsyncIterable<Buffer>, surface, {
      ...options,
      requestId: res.requestId,
      onComplete: () => {
        tail = setTimeout(() => discardBody(res.body), TAIL_GRACE_MS);
      },
    });
    return { answer: decoded, failure: decoded.failure };
  } finally {
    clearTimeout(tail);
  }
}

async function readJsonBody(res: UpstreamResponse, surface: Surface, options: ReadAnswerOptions): Promise<ReadOutcome> {
  const decoded = await decodeBody(res.body as AsyncIterable<Uint8Array>, surface, { ...options, requestId: res.requestId });
  return { answer: decoded, failure: decoded.failure };
}

function wrongContentType(res: UpstreamResponse): EzrouterError {
  return new EzrouterError({
    code: 'bad_response',
    message: `ezrouter answered with content type "${res.contentType || 'none'}" instead of an event stream: check EZROUTER_BASE_URL points at the gateway itself.`,
    status: res.status,
    requestId: res.requestId,
  });
}

/** The error for a read that stopped early, with what the answer had reached. */
function failureError(
  failure: unknown,
  answer: Answer,
  res: UpstreamResponse,
  classify: TransportErrorClassifier,
): EzrouterError | CallCancelledError {
  if (failure instanceof EzrouterError || failure instanceof CallCancelledError) return attachPartial(failure, answer, res);
  const error = classify(failure);
  if (error instanceof CallCancelledError) return error;
  if (error.code !== 'network_error') return attachPartial(error, answer, res);
  // The connection broke in the middle of a 200 answer.
  return interrupted(
    answer,
    res,
    {
      afterText: 'The connection to ezrouter broke in the middle of the answer, so it is incomplete: try again.',
      beforeText: 'The connection to ezrouter broke before any answer text arrived: try again.',
    },
    failure,
  );
}

/** stream_interrupted, in the sentence for whether any answer text had arrived, with the partial answer. */
function interrupted(answer: Answer, res: UpstreamResponse, sentence: { afterText: string; beforeText: string }, cause?: unknown): EzrouterError {
  const message = answer.text.length > 0 ? sentence.afterText : sentence.beforeText;
  return attachPartial(new EzrouterError({ code: 'stream_interrupted', message, cause }), answer, res);
}

/** Adds what the failure happened to: the text so far, the response's status and request id. */
function attachPartial<E extends EzrouterError | CallCancelledError>(error: E, answer: Answer, res: UpstreamResponse): E | EzrouterError {
  if (!(error instanceof EzrouterError)) return error;
  return error.with({
    partialText: answer.text.length > 0 ? answer.text : undefined,
    status: error.status ?? res.status,
    requestId: error.requestId ?? res.requestId,
  });
}
