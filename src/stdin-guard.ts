/**
 * Protects the stdio transport from oversized input lines. The SDK's read buffer closes the
 * whole transport (and so the server) when one message grows past its 10 MiB cap; this filter
 * sits between stdin and the transport and drops any line longer than `maxLineBytes` instead,
 * so one bad message costs one message, never the server.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Under the SDK's own 10 MiB read-buffer cap, with room for the next line in the same chunk. */
export const MAX_STDIN_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;

export class StdinLineGuard extends Transform {
  /** Bytes of the current (unfinished) line already passed through. */
  private lineBytes = 0;
  /** The current line went over the cap: swallow bytes until its newline. */
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number = MAX_STDIN_LINE_BYTES,
    private readonly onDropped: (bytes: number) => void = () => {},
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline + 1;
      const length = end - start;
      if (this.discarding) {
        this.lineBytes += length;
      } else if (this.lineBytes + length > this.maxLineBytes + (newline === -1 ? 0 : 1)) {
        // The line is too long: what was already passed on is ended by a newline (the SDK then
        // reports it as one invalid message) and the rest of the line is dropped.
        this.discarding = true;
        if (this.lineBytes > 0) this.push('\n');
        this.lineBytes += length;
      } else {
        this.push(chunk.subarray(start, end));
        this.lineBytes += length;
      }
      if (newline !== -1) {
        if (this.discarding) this.onDropped(this.lineBytes);
        this.discarding = false;
        this.lineBytes = 0;
      }
      start = end;
    }
    callback();
  }
}
