/**
 * Protects the stdio transport from oversized input lines. The SDK's read buffer closes the
 * whole transport (and so the server) when one message grows past its 10 MiB cap; this filter
 * sits between stdin and the transport and drops any line longer than `maxLineBytes` instead,
 * so one bad message costs one message, never the server. The caller is told which request was
 * dropped (its JSON-RPC id, when the line's first or last bytes show it) so it can answer it.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Under the SDK's own 10 MiB read-buffer cap, with room for the next line in the same chunk. */
export const MAX_STDIN_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;
/** Bytes kept from the start and the end of each line, to find a dropped request's id. */
const EDGE_BYTES = 512;

export type JsonRpcId = string | number;

export interface DroppedLine {
  bytes: number;
  /** The request's id, when it could be read from the line's first or last bytes. */
  id: JsonRpcId | undefined;
}

export class StdinLineGuard extends Transform {
  /** Bytes of the current (unfinished) line so far. */
  private lineBytes = 0;
  /** The current line went over the cap: swallow bytes until its newline. */
  private discarding = false;
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxLineBytes: number = MAX_STDIN_LINE_BYTES,
    private readonly onDropped: (line: DroppedLine) => void = () => {},
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline + 1;
      const piece = chunk.subarray(start, end);
      this.remember(piece);
      if (this.discarding) {
        this.lineBytes += piece.length;
      } else if (this.lineBytes + piece.length > this.maxLineBytes + (newline === -1 ? 0 : 1)) {
        // The line is too long: what was already passed on is ended by a newline (the SDK then
        // reports it as one invalid message) and the rest of the line is dropped.
        this.discarding = true;
        if (this.lineBytes > 0) this.push('\n');
        this.lineBytes += piece.length;
      } else {
        this.push(piece);
        this.lineBytes += piece.length;
      }
      if (newline !== -1) {
        if (this.discarding) this.onDropped({ bytes: this.lineBytes, id: this.requestId() });
        this.discarding = false;
        this.lineBytes = 0;
        this.head = [];
        this.headBytes = 0;
        this.tail = Buffer.alloc(0);
      }
      start = end;
    }
    callback();
  }

  /** Keeps the first and last EDGE_BYTES of the current line (copies: chunks are not pinned). */
  private remember(piece: Buffer): void {
    if (this.headBytes < EDGE_BYTES) {
      const take = Buffer.from(piece.subarray(0, EDGE_BYTES - this.headBytes));
      this.head.push(take);
      this.headBytes += take.length;
    }
    const joined = piece.length >= EDGE_BYTES ? piece.subarray(piece.length - EDGE_BYTES) : Buffer.concat([this.tail, piece]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - EDGE_BYTES)));
  }

  /**
   * The id of a JSON-RPC request whose `id` comes first (`{"jsonrpc":"2.0","id":…`) or last
   * (`…,"id":7}`, as the TypeScript SDK writes them).
   */
  private requestId(): JsonRpcId | undefined {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = this.tail.toString('utf8');
    const value =
      /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,200}")/.exec(head)?.[1] ??
      /[,{]\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,200}")\s*\}\s*$/.exec(tail)?.[1];
    if (value === undefined) return undefined;
    try {
      const id: unknown = JSON.parse(value);
      return typeof id === 'number' || typeof id === 'string' ? id : undefined;
    } catch {
      return undefined;
    }
  }
}
