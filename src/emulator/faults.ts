/** Turns a frame sequence plus a StreamScript into the chunks to write and the final action. */
import type { StreamScript } from './types.js';

/** What happens after the last chunk: end the response, keep the socket silent, or destroy it. */
export type FinalAction = 'end' | 'stall' | 'reset';

/** Surface-specific extras; null where the body kind has none (plain JSON bodies). */
export interface FrameKit {
  keepAlive: string | null;
  terminator: string | null;
  errorFrame: string | null;
  malformed: string | null;
}

export interface BodyPlan {
  chunks: Iterable<string>;
  action: FinalAction;
}

type CutKind = 'reset' | 'stall' | 'error' | 'end';

const count = (v: number | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : null;

/** The earliest *AfterFrames cut requested (ties: reset, stall, error, end). */
function firstCut(s: StreamScript): { kind: CutKind; at: number } | null {
  const cuts: [CutKind, number | null][] = [
    ['reset', count(s.resetAfterFrames)],
    ['stall', count(s.stallAfterFrames)],
    ['error', count(s.errorFrameAfterFrames)],
    ['end', count(s.endAfterFrames)],
  ];
  let best: { kind: CutKind; at: number } | null = null;
  for (const [kind, at] of cuts) if (at !== null && (best === null || at < best.at)) best = { kind, at };
  return best;
}

/**
 * Frames are counted from 0 (role/message_start first; keep-alives from pingsBefore are not
 * counted). The terminator counts as the last frame, but `end`/`error` cuts never send it.
 */
export function planBody(frames: Iterable<string>, kit: FrameKit, s: StreamScript): BodyPlan {
  const cut = firstCut(s);
  const malformedAt = kit.malformed === null ? null : count(s.malformedAfterFrames);
  const pings = kit.keepAlive === null ? 0 : count(s.pingsBefore) ?? 0;
  const action: FinalAction =
    cut?.kind === 'stall' || (s.holdOpen === true && cut?.kind !== 'reset') ? 'stall' : cut?.kind === 'reset' ? 'reset' : 'end';

  function* tail(): Generator<string> {
    if (cut?.kind === 'error' && kit.errorFrame !== null) yield kit.errorFrame;
  }

  function* chunks(): Generator<string> {
    for (let i = 0; i < pings; i++) yield kit.keepAlive as string;
    let n = 0;
    for (const frame of frames) {
      if (n === malformedAt) yield kit.malformed as string;
      if (cut !== null && n === cut.at) return yield* tail();
      yield frame;
      n++;
    }
    if (n === malformedAt) yield kit.malformed as string;
    if (cut !== null && (cut.kind === 'error' || cut.kind === 'end' || cut.at <= n)) return yield* tail();
    if (kit.terminator !== null) yield kit.terminator;
  }

  return { chunks: chunks(), action };
}
