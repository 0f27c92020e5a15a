/** Deterministic answers and the emulator's token arithmetic. */

/** The default answer: `Hello from <model>! You said: <last user text>`. */
export function defaultReply(model: string, lastUserText: string): string {
  return `Hello from ${model}! You said: ${lastUserText}`;
}

/** Prompt tokens for `chars` UTF-16 units of message/system text: ceil(chars / 4), at least 1. */
export function promptTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/**
 * Splits `text` into deltas of `chunkChars` code points each (the last may be shorter).
 * A surrogate pair is never split. One delta = one completion token.
 */
export function splitDeltas(text: string, chunkChars: number): string[] {
  const size = Math.max(1, Math.floor(chunkChars) || 1);
  const out: string[] = [];
  let start = 0;
  let count = 0;
  let i = 0;
  while (i < text.length) {
    const pair = isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1));
    i += pair ? 2 : 1;
    if (++count === size) {
      out.push(text.slice(start, i));
      start = i;
      count = 0;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** Cuts `text` before the earliest occurrence of any non-empty stop string. */
export function cutAtStop(text: string, stops: readonly string[]): { text: string; stop: string | null } {
  let best = -1;
  let which: string | null = null;
  for (const s of stops) {
    if (!s) continue;
    const at = text.indexOf(s);
    if (at >= 0 && (best < 0 || at < best)) {
      best = at;
      which = s;
    }
  }
  return best < 0 ? { text, stop: null } : { text: text.slice(0, best), stop: which };
}
