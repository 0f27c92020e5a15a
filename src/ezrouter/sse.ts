/**
 * Bytes → server-sent events. Bytes are decoded as a UTF-8 stream (a character split across
 * network chunks is joined; invalid bytes become U+FFFD) and fed to eventsource-parser, which
 * handles `\n`, `\r\n` and `\r` line ends, `data:` with or without a space, multi-line data,
 * comments (`: PING`) and a leading BOM. eventsource-parser is the parser of record; the
 * byte-level fast path (fast-path/byte-frames.ts) sits in front of this decoder, never inside it.
 */
import { createParser, type EventSourceParser } from 'eventsource-parser';

export interface SseHandlers {
  /** One dispatched event: its `event:` name (if any) and its joined `data:` lines. */
  onEvent(name: string | undefined, data: string): void;
  /** A comment line such as ezrouter's `: PING` keep-alive. */
  onComment?(comment: string): void;
}

/** Where a response's bytes go: this decoder, or the byte-level matcher in front of it. */
export interface ByteSink {
  push(chunk: Uint8Array): void;
  /** The byte stream ended. */
  end(): void;
  /** A single event grew past the buffer cap: the stream is not a normal answer stream. */
  readonly overflowed: boolean;
}

/** Largest single event we buffer (characters). A real chunk is well under 64 KiB. */
export const DEFAULT_MAX_EVENT_CHARS = 8 * 1024 * 1024;

export class SseDecoder implements ByteSink {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  /** The last character fed was a CR, which the parser holds back in case an LF follows. */
  private endsWithCr = false;
  overflowed = false;

  constructor(handlers: SseHandlers, maxEventChars: number = DEFAULT_MAX_EVENT_CHARS) {
    this.parser = createParser({
      onEvent: (event) => handlers.onEvent(event.event, event.data),
      onComment: handlers.onComment,
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded') this.overflowed = true;
        // Unknown fields and bad `retry:` values are ignored, as the SSE spec says.
      },
      maxBufferSize: maxEventChars,
    });
  }

  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    if (text !== '') this.feed(text);
  }

  /**
   * The byte stream ended. As the SSE spec says, an event not closed by a blank line is
   * discarded: a frame cut off by a dropped connection is never half-read.
   */
  end(): void {
    const rest = this.decoder.decode();
    if (rest !== '') this.feed(rest);
    // At the end of the stream a trailing CR is a complete line end: let the parser see it.
    if (this.endsWithCr) this.feed('\n');
  }

  private feed(text: string): void {
    this.endsWithCr = text.charCodeAt(text.length - 1) === 13;
    this.parser.feed(text);
  }
}
