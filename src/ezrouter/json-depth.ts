/**
 * A guard run on upstream JSON text before JSON.parse: nesting deeper than any real answer has
 * is refused (bad_response), since parsing megabytes of `[[[[…` blocks the event loop for
 * seconds and re-serialising it overflows the stack.
 */

/** Deeper than any catalog, balance, error or stream frame ezrouter sends. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` nests arrays/objects deeper than `max`, counted outside strings. One pass over
 * the characters, no allocation; a text that is not JSON at all is left for JSON.parse to refuse.
 */
export function exceedsJsonDepth(text: string, max: number = MAX_JSON_DEPTH): boolean {
  // Quick exit: a text shorter than the limit cannot nest deeper than it.
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
