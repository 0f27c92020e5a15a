/** Writes a planned body to a response: batched (fast), paced per frame, or split at byte offsets. */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BodyPlan } from './faults.js';
import type { Timers } from './timers.js';

export interface Pacing {
  frameDelayMs?: number | undefined;
  byteSplits?: number[] | 'random' | undefined;
  pingEveryMs?: number | undefined;
  /** Keep-alive frame for pingEveryMs while stalled; null when the body kind has none. */
  keepAlive: string | null;
}

/** Fast-path batch size (UTF-16 units): a 15 MB stream goes out in ~60 writes. */
const BATCH_CHARS = 256 * 1024;

/** Destroys a socket, with a TCP RST when the handle allows it (plain TCP), else a normal close. */
export function destroySocket(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/** A response wrapper that honours backpressure and knows when the connection closed. */
class Sink {
  private ended = false;
  private lastFlush: Promise<void> = Promise.resolve();
  private readonly closedSignal: Promise<void>;
  private readonly socket: Socket | null;

  constructor(readonly res: ServerResponse) {
    this.socket = res.socket;
    this.closedSignal = new Promise((resolve) => {
      res.once('close', () => {
        this.ended = true;
        resolve();
      });
    });
  }

  /** True once the connection is gone (checked synchronously, before 'close' is emitted). */
  get closed(): boolean {
    return this.ended || this.res.destroyed || this.socket === null || this.socket.destroyed;
  }

  /** Writes one chunk; waits for 'drain' (or close) when the buffer is full. */
  async write(chunk: string | Buffer): Promise<void> {
    if (this.closed || chunk.length === 0) return;
    let flushed!: () => void;
    this.lastFlush = new Promise((resolve) => (flushed = resolve));
    if (!this.res.write(chunk, () => flushed())) {
      await Promise.race([new Promise((resolve) => this.res.once('drain', resolve)), this.closedSignal]);
    }
  }

  /** Resolves once the last written chunk reached the socket (or the connection closed). */
  flushed(): Promise<void> {
    return Promise.race([this.lastFlush, this.closedSignal]);
  }
}

async function writeBatched(sink: Sink, chunks: Iterable<string>): Promise<void> {
  let batch = '';
  for (const chunk of chunks) {
    batch += chunk;
    if (batch.length >= BATCH_CHARS) {
      await sink.write(batch);
      batch = '';
      if (sink.closed) return;
    }
  }
  await sink.write(batch);
}

async function writePaced(sink: Sink, chunks: Iterable<string>, delayMs: number, timers: Timers): Promise<void> {
  let first = true;
  for (const chunk of chunks) {
    if (!first) await timers.sleep(delayMs);
    first = false;
    if (sink.closed) return;
    await sink.write(chunk);
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Writes the whole body as pieces of the given byte sizes (cycled) or random 1..64 bytes. */
async function writeSplit(sink: Sink, chunks: Iterable<string>, splits: number[] | 'random'): Promise<void> {
  const body = Buffer.from(Array.from(chunks).join(''), 'utf8');
  const sizes = splits === 'random' ? null : splits.map((n) => Math.max(1, Math.floor(n) || 1));
  let offset = 0;
  let k = 0;
  while (offset < body.length && !sink.closed) {
    const size = sizes === null ? 1 + Math.floor(Math.random() * 64) : (sizes[k++ % sizes.length] ?? 1);
    await sink.write(body.subarray(offset, offset + size));
    offset += size;
    if (offset < body.length) await nextTurn();
  }
}

/** Writes the plan's chunks with the requested pacing, then ends, stalls or resets. */
export async function writeBody(res: ServerResponse, plan: BodyPlan, pacing: Pacing, timers: Timers): Promise<void> {
  const sink = new Sink(res);
  const socket = res.socket;
  if (pacing.byteSplits !== undefined && (pacing.byteSplits === 'random' || pacing.byteSplits.length > 0)) {
    await writeSplit(sink, plan.chunks, pacing.byteSplits);
  } else if ((pacing.frameDelayMs ?? 0) > 0) {
    await writePaced(sink, plan.chunks, pacing.frameDelayMs ?? 0, timers);
  } else {
    await writeBatched(sink, plan.chunks);
  }
  if (sink.closed) return;

  switch (plan.action) {
    case 'end':
      res.end();
      return;
    case 'reset':
      // Let the frames already written reach the peer, then cut the connection.
      await sink.flushed();
      socket?.destroy();
      return;
    case 'stall': {
      const ping = pacing.keepAlive;
      const every = pacing.pingEveryMs ?? 0;
      if (ping !== null && every > 0) {
        const cancel = timers.every(every, () => void sink.write(ping));
        res.once('close', cancel);
      }
      return;
    }
  }
}
