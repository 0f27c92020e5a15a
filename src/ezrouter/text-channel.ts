/**
 * One channel of streamed text (the answer, or the reasoning): pieces kept in an array and joined
 * in blocks, then once at the end, so memory stays O(text) whatever the number of pieces, with a
 * cap on the characters kept and a listener told of every piece.
 */
import type { TextListener } from './types.js';

/**
 * Pieces kept before they are joined into one block. Joining copies the characters into a new
 * flat string, so a piece cut out of a large network chunk (a V8 sliced string) stops pinning
 * that chunk: memory stays O(text) whatever the frame sizes.
 */
const PIECES_PER_BLOCK = 2048;

export class TextChannel {
  private readonly pieces: string[] = [];
  /** Joined runs of PIECES_PER_BLOCK pieces, oldest first. */
  private readonly blocks: string[] = [];
  private chars = 0;

  constructor(
    /** The most characters kept. */
    readonly maxChars: number,
    private readonly listener?: TextListener,
  ) {}

  /**
   * Appends a piece and tells the listener; returns false, keeping nothing of it, when it would
   * take the text past `maxChars`. Empty pieces are ignored.
   */
  append(piece: string): boolean {
    if (piece === '') return true;
    if (this.chars + piece.length > this.maxChars) return false;
    this.pieces.push(piece);
    this.chars += piece.length;
    if (this.pieces.length === PIECES_PER_BLOCK) {
      this.blocks.push(this.pieces.join(''));
      this.pieces.length = 0;
    }
    this.listener?.(piece, this.chars);
    return true;
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
