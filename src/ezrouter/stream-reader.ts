/**
 * Reads a 2xx completion response to the end and fills the answer: SSE through the decoder and
 * the surface's protocol, or a plain JSON body. Decides how a body that breaks off is reported:
 * the stream's own terminator makes an answer complete, and a complete answer is never
 * discarded because an error or timer came after it.
 */
import type { AnswerBuilder } from './answer.js';
import { CallCancelledError, EzrouterError } from './errors.js';
import { discardBody, type UpstreamResponse } from './http.js';
import { SseDecoder } from './sse.js';
import type { StreamProtocol } from './stream-protocol.js';

/** How long the rest of a response may take to end once its terminator arrived. */
export const TAIL_GRACE_MS = 250;

/** A plain JSON answer body is buffered up to this size. */
export const MAX_JSON_ANSWER_BYTES = 32 * 1024 * 1024;

/** Classifies an error thrown while reading (abort, idle timeout, reset) — see HttpClient.transportError. */
export type TransportErrorClassifier = (error: unknown) => EzrouterError;

export async function readAnswer(
  res: UpstreamResponse,
  protocol: StreamProtocol,
  answer: AnswerBuilder,
  classify: TransportErrorClassifier,
): Promise<void> {
  const type = res.contentType.toLowerCase();
  try {
    if (type.includes('text/event-stream')) await readEventStream(res, protocol);
    else if (type.includes('application/json')) await readJsonBody(res, protocol);
    else {
      throw new EzrouterError({
        code: 'bad_response',
        message: `ezrouter answered with content type "${res.contentType || 'none'}" instead of an event stream: check EZROUTER_BASE_URL points at the gateway itself.`,
        status: res.status,
        requestId: res.requestId,
      });
    }
  } catch (error) {
    discardBody(res.body);
    if (protocol.finished) return;
    if (error instanceof EzrouterError || error instanceof CallCancelledError) {
      throw attachPartial(error, answer, res);
    }
    const failure = classify(error);
    if (failure.code === 'network_error') {
      // The connection broke in the middle of a 200 answer.
      throw attachPartial(
        new EzrouterError({
          code: 'stream_interrupted',
          message: answer.length > 0
            ? 'The connection to ezrouter broke in the middle of the answer, so it is incomplete: try again.'
            : 'The connection to ezrouter broke before any answer text arrived: try again.',
          cause: error,
        }),
        answer,
        res,
      );
    }
    throw attachPartial(failure, answer, res);
  }
  if (!protocol.finished) {
    throw attachPartial(
      new EzrouterError({
        code: 'stream_interrupted',
        message: answer.length > 0
          ? 'ezrouter ended the answer stream without its end marker, so the answer may be incomplete: try again.'
          : 'ezrouter ended the answer stream before sending any text or its end marker: try again.',
      }),
      answer,
      res,
    );
  }
}

async function readEventStream(res: UpstreamResponse, protocol: StreamProtocol): Promise<void> {
  let overflow = false;
  const decoder = new SseDecoder({
    onEvent: (name, data) => protocol.onEvent(name, data),
    onOverflow: () => {
      overflow = true;
    },
    shape: protocol.shape,
  });
  // After the terminator the server normally ends the response at once (and the socket goes
  // back to the pool). If it does not, the answer is not held hostage: the body is dropped after
  // a short grace, which ends the loop, and readAnswer returns the complete answer.
  let tail: NodeJS.Timeout | undefined;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      decoder.push(chunk);
      if (overflow) {
        throw new EzrouterError({
          code: 'bad_response',
          message: 'ezrouter sent a single stream event larger than this server accepts (8 MiB): the response is not a normal answer stream.',
        });
      }
      if (protocol.finished && tail === undefined) tail = setTimeout(() => discardBody(res.body), TAIL_GRACE_MS);
    }
  } finally {
    clearTimeout(tail);
  }
  decoder.end();
}

async function readJsonBody(res: UpstreamResponse, protocol: StreamProtocol): Promise<void> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_ANSWER_BYTES) {
      throw new EzrouterError({
        code: 'bad_response',
        message: `ezrouter sent a JSON answer larger than ${MAX_JSON_ANSWER_BYTES / 1024 / 1024} MiB, which this server does not accept.`,
      });
    }
    pieces.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(pieces).toString('utf8'));
  } catch {
    throw new EzrouterError({
      code: 'bad_response',
      message: 'ezrouter sent a JSON answer that does not parse: try again.',
    });
  }
  protocol.onJsonBody(body);
}

/** Adds what the failure happened to: the text so far, the response's status and request id. */
function attachPartial<E extends EzrouterError | CallCancelledError>(
  error: E,
  answer: AnswerBuilder,
  res: UpstreamResponse,
): E | EzrouterError {
  if (!(error instanceof EzrouterError)) return error;
  return error.with({
    partialText: answer.length > 0 ? answer.text() : undefined,
    status: error.status ?? res.status,
    requestId: error.requestId ?? res.requestId,
  });
}
