/** Decoding one JSON string token in place, without JSON.parse (for the fast path). */

/** A decoded JSON string token and the index just past its closing quote. */
export interface JsonString {
  text: string;
  end: number;
}

/**
 * Decodes the JSON string token whose opening quote is at `quote` in `s` exactly as JSON.parse
 * would: escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (lone surrogates included), raw characters
 * from U+0020 up. Returns undefined when there is no valid string token there (a raw control
 * character, an unknown escape, a missing closing quote); the caller then parses the frame in
 * full and JSON.parse reports the problem.
 */
export function readJsonString(s: string, quote: number): JsonString | undefined {
  if (s.charCodeAt(quote) !== 0x22) return undefined;
  const length = s.length;
  let out = '';
  let start = quote + 1;
  let i = start;
  while (i < length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return { text: start === i ? out : out + s.slice(start, i), end: i + 1 };
    if (c < 0x20) return undefined;
    if (c !== 0x5c) {
      i++;
      continue;
    }
    if (i > start) out += s.slice(start, i);
    switch (s.charCodeAt(i + 1)) {
      case 0x22: out += '"'; break;
      case 0x5c: out += '\\'; break;
      case 0x2f: out += '/'; break;
      case 0x62: out += '\b'; break;
      case 0x66: out += '\f'; break;
      case 0x6e: out += '\n'; break;
      case 0x72: out += '\r'; break;
      case 0x74: out += '\t'; break;
      case 0x75: {
        const h1 = hexDigit(s.charCodeAt(i + 2));
        const h2 = hexDigit(s.charCodeAt(i + 3));
        const h3 = hexDigit(s.charCodeAt(i + 4));
        const h4 = hexDigit(s.charCodeAt(i + 5));
        if ((h1 | h2 | h3 | h4) < 0) return undefined;
        out += String.fromCharCode((h1 << 12) | (h2 << 8) | (h3 << 4) | h4);
        i += 4;
        break;
      }
      default:
        return undefined;
    }
    i += 2;
    start = i;
  }
  return undefined;
}

/** The value of one hex digit, or -1 (NaN past the end of the string gives -1 too). */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x57;
  return -1;
}
