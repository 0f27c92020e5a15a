/**
 * What a surface adapter gives the stream reader: how to turn each server-sent event (or a
 * plain JSON body) into answer text, finish reason and usage, and whether the stream's own
 * terminator (`[DONE]`, `message_stop`) has been seen.
 */
import { EzrouterError } from './errors.js';


export interface StreamProtocol {
  /** Handles one event; throws EzrouterError on an error frame or an unreadable frame. */
  onEvent(name: string | undefined, data: string): void;
  /** Handles a complete non-streamed JSON body (HTTP 200, application/json). */
  onJsonBody(body: unknown): void;
  /** The stream's terminator was seen: the answer is complete. */
  readonly finished: boolean;
}

export function malformedFrame(data: string, requestId: string | undefined): EzrouterError {
  const sample = data.length > 40 ? `${data.slice(0, 40)}…` : data;
  return new EzrouterError({
    code: 'bad_response',
    message: `ezrouter sent a stream frame that is not valid JSON (${JSON.stringify(sample)}), so the answer cannot be trusted: try again.`,
    requestId,
  });
}
