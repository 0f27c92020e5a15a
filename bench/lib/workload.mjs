/**
 * Deterministic answer texts for the benchmarks, shared by the bench process and the emulator
 * host (plain JS so both can import it). The text looks like model output: words, punctuation,
 * markdown, newlines, quotes and backslashes (JSON escapes), accented letters, CJK and emoji
 * (multi-byte UTF-8, surrogate pairs), so every decoder does its real work.
 */

const WORDS = [
  'the', 'model', 'answers', 'with', 'a', 'long', 'and', 'careful', 'explanation', 'of', 'how',
  'streaming', 'works:', 'each', 'token', 'arrives', 'in', 'its', 'own', 'frame,', 'so', 'parsing',
  'matters.', 'naïve', 'café', 'résumé', '—', '"quoted"', 'C:\\path\\file', '`code`', '**bold**',
  '世界', '你好', '🎉', '→', 'über', 'déjà', 'vu', '1.', '2)', '{json}', 'tab\there', 'x<y', '&amp;',
];

/** Code points in a string (the emulator cuts deltas by code points, one delta per `chunkChars`). */
function codePoints(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

const WORD_POINTS = new Map(WORDS.map((w) => [w, codePoints(w)]));

/** A text of exactly `length` code points, so `length / chunkChars` deltas exactly. */
export function answerText(length, seed = 1) {
  const parts = [];
  let size = 0;
  let state = seed >>> 0 || 1;
  let line = 0;
  for (;;) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const word = WORDS[(state >>> 8) % WORDS.length];
    const points = WORD_POINTS.get(word);
    if (size + points + 1 > length) break;
    line += points + 1;
    const sep = line > 72 ? ((state >>> 20) % 5 === 0 ? '\n\n' : '\n') : ' ';
    if (sep !== ' ') line = 0;
    parts.push(word, sep);
    size += points + sep.length;
  }
  parts.push('.'.repeat(length - size));
  return parts.join('');
}

/** An ASCII-only text of `length` characters (for the small per-call answers). */
export function asciiText(length) {
  return 'Hello from the emulator. '.repeat(Math.ceil(length / 25)).slice(0, length);
}
