/**
 * The answer being assembled from a stream: text pieces kept in an array and joined in blocks,
 * then once at the end (memory stays O(answer)), the finish reason and the usage counts. Both surface decoders
 * write into one of these.
 */
import { EzrouterError } from './errors.js';
import type { FinishReason, TextListener, Usage } from './types.js';

/**
 * Pieces kept before they are joined into one block. Joining copies the characters into a new
 * flat string, so a piece cut out of a large network chunk (a V8 sliced string) stops pinning
 * that chunk: memory stays O(answer) whatever the frame sizes.
 */
const PIECES_PER_BLOCK = 2048;

export class AnswerBuilder {
  private readonly pieces: string[] = [];
  /** Joined runs of PIECES_PER_BLOCK pieces, oldest first. */
  private readonly blocks: string[] = [];
  private chars = 0;
  finishReason: FinishReason = null;
  usage: Usage = {};
  /** The model the gateway says answered (may differ from the one asked for). */
  model: string | undefined;

  /**
   * @param maxChars the longest answer kept (EZROUTER_MAX_ANSWER_CHARS); past it the call fails
   *   with what was kept so far, instead of growing without bound.
   */
  constructor(
    private readonly onText?: TextListener,
    private readonly maxChars: number = Number.MAX_SAFE_INTEGER,
  ) {}

  appendText(piece: string): void {
    if (piece === '') return;
    if (this.chars + piece.length > this.maxChars) {
      throw new EzrouterError({
        code: 'bad_response',
        message: `The answer grew past ${this.maxChars} characters (EZROUTER_MAX_ANSWER_CHARS), more than this server returns: the part below is all that is kept; ask for a shorter answer (set max_tokens).`,
      });
    }
    this.pieces.push(piece);
    this.chars += piece.length;
    if (this.pieces.length === PIECES_PER_BLOCK) {
      this.blocks.push(this.pieces.join(''));
      this.pieces.length = 0;
    }
    this.onText?.(piece, this.chars);
  }

  get length(): number {
    return this.chars;
  }

  text(): string {
    if (this.pieces.length > 0) {
      this.blocks.push(this.pieces.join(''));
      this.pieces.length = 0;
    }
    if (this.blocks.length > 1) {
      const joined = this.blocks.join('');
      this.blocks.length = 0;
      this.blocks.push(joined);
    }
    return this.blocks[0] ?? '';
  }
}

/** A token count worth reporting: a finite, non-negative, safe integer; anything else is dropped. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Drops the fields that are undefined, so absent counts stay absent in JSON. */
export function compactUsage(usage: Usage): Usage {
  const out: Usage = {};
  for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens', 'cached_tokens'] as const) {
    const v = usage[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}
