/**
 * The frame-level fast path: a long answer is tens of thousands of frames that differ only in
 * one JSON string (the text delta), and `JSON.parse` of every frame is most of the cost of
 * reading a stream. A frame parsed in full whose effect is text only (see the accumulator)
 * teaches the shape: the exact characters before and after that string. Later frames with
 * exactly that prefix and suffix have exactly the same effect with only the text changed, so the
 * text is decoded by `readJsonString` and nothing else is parsed. Anything else (another prefix,
 * a different suffix, an unusual escape, another event name) goes through the full path, which
 * stays the reference.
 *
 * Measured (`npm run bench`, "decoding alone": 100,000 frames recorded from the emulator, 2-core
 * Xeon, Node 20, 2026-12-01): alone it takes decoding to 0.34–0.52× of the plain path's time
 * (openai 256 → 87 ms, anthropic 162 → 84 ms), and it is the only fast path for events the byte
 * matcher cannot take (multi-line data, CR line ends, frames cut by a chunk boundary). Its cost:
 * this file, readJsonString, one probe JSON.parse per learned shape, and the differential
 * property tests in test/fast-path.test.ts that hold it to the plain path. Switch it off with
 * `decodeStream(…, { fastPath: 'off' })`.
 */
import { readJsonString } from './json-string.js';

/** The effect of a text-only frame, as the full path sees it: its text and the model it names. */
export interface TextFrame {
  readonly text: string;
  readonly model?: string | undefined;
}

/** Reads a fully parsed frame: its TextFrame when its whole effect is text, else undefined. */
export type TextFrameOf = (name: string | undefined, parsed: unknown) => TextFrame | undefined;

/** Whether `end` in `json` (a valid JSON text) lies between tokens, not inside a string. */
function outsideStrings(json: string, end: number): boolean {
  let i = json.indexOf('"');
  while (i !== -1 && i < end) {
    const token = readJsonString(json, i);
    if (token === undefined || token.end > end) return false;
    i = json.indexOf('"', token.end);
  }
  return true;
}

/** A string with its own storage (not a slice of, or a rope over, another string). */
function flatCopy(s: string): string {
  return s.split('').join('');
}

/** Put in the learned slot to prove the frame's text is that token and nothing else. */
const PROBE = '\u0000ezrouter fast path probe\u0000';
const PROBE_JSON = JSON.stringify(PROBE);
/** Shapes learned before the fast path must have paid for itself (see `learn`). */
const FREE_LEARNS = 4;
const HITS_PER_LEARN = 16;

/**
 * The learned shape of a text-only frame: `prefix` (ending with the text's opening quote), one
 * JSON string, `suffix`, for events named `name`. See the file comment.
 */
export class FrameShape {
  /** Whether a shape has been learned. */
  known = false;
  /** The event name of the shape's frames (undefined: none). */
  name: string | undefined;
  /** The frame text before the text string, ending with its opening quote. */
  prefix = '';
  /** The frame text after the text string's closing quote. */
  suffix = '';
  /** The model the shape's frames name (undefined: none). */
  model: string | undefined;
  /** Bumped whenever a new shape is learned. */
  version = 0;
  private learns = 0;
  private hits = 0;

  /**
   * @param textFrameOf the full path's reading of a parsed frame (so the two never disagree)
   * @param take does with the text of a frame of the learned shape exactly what the full path
   *   does with the whole frame (the byte-level matcher calls it too)
   */
  constructor(
    private readonly textFrameOf: TextFrameOf,
    readonly take: (text: string) => void,
  ) {}

  /** Counts frames the byte-level matcher took (they never reach `match`). */
  counted(frames: number): void {
    this.hits += frames;
  }

  /** The frame's text when `data` has the learned shape, else undefined (parse it in full). */
  match(name: string | undefined, data: string): string | undefined {
    // slice + === compares with memcmp; String.prototype.startsWith goes character by character.
    const open = this.prefix.length;
    if (!this.known || name !== this.name || data.length <= open || data.slice(0, open) !== this.prefix) return undefined;
    const token = readJsonString(data, open - 1);
    if (token === undefined) return undefined;
    const end = token.end;
    if (data.length - end !== this.suffix.length || data.slice(end) !== this.suffix) return undefined;
    this.hits++;
    return token.text;
  }

  /**
   * Learns the shape of `data`, a frame just handled in full whose effect was `frame`. The slot
   * is a whole string token (not text inside another string), and putting a probe string in it
   * makes the full path see exactly the probe as the text and the same model: then every string
   * in that slot gives the same JSON structure, so the same effect with only the text changed.
   * Streams whose frames never repeat a shape stop paying for learning after a few tries.
   */
  learn(name: string | undefined, data: string, frame: TextFrame): void {
    if (frame.text === '' || frame.text === PROBE) return;
    if (this.learns >= FREE_LEARNS && this.hits < this.learns * HITS_PER_LEARN) return;
    this.learns++;
    const token = JSON.stringify(frame.text);
    for (let at = data.indexOf(token); at !== -1; at = data.indexOf(token, at + 1)) {
      if (!outsideStrings(data, at)) continue;
      const prefix = data.slice(0, at + 1);
      const suffix = data.slice(at + token.length);
      let probe: TextFrame | undefined;
      try {
        probe = this.textFrameOf(name, JSON.parse(prefix + PROBE_JSON.slice(1) + suffix));
      } catch {
        continue;
      }
      if (probe?.text !== PROBE || probe.model !== frame.model) continue;
      this.known = true;
      this.name = name;
      // Fresh flat copies: slices would keep the whole network chunk they came from alive.
      this.prefix = flatCopy(prefix);
      this.suffix = flatCopy(suffix);
      this.model = frame.model;
      this.version++;
      return;
    }
  }
}
