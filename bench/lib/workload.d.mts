/** A text of exactly `length` code points, so `length / chunkChars` deltas exactly. */
export function answerText(length: number, seed?: number): string;
/** An ASCII-only text of `length` characters. */
export function asciiText(length: number): string;
