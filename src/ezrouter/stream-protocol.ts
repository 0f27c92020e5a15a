/**
 * What a surface adapter gives the stream reader: how to turn each server-sent event (or a
 * plain JSON body) into answer text, finish reason and usage, and whether the stream's own
 * terminator (`[DONE]`, `message_stop`) has been seen.
 *
 * Also the frame fast path both adapters share (`FrameShape`): a long answer is tens of
 * thousands of frames that differ only in one JSON string (the text delta), and `JSON.parse`
 * of every frame is most of the cost of reading a stream. A frame parsed in full that turns out
 * to be a plain text frame teaches the adapter its shape: the exact characters before and after
 * that string. Later frames with exactly that prefix and suffix have exactly the same effect,
 * with only the text changed, so the text is decoded by `readJsonString` and nothing else is
 * parsed. Anything else (another prefix, a different suffix, an unusual escape, another event
 * name) goes through the full `JSON.parse` path, which stays the reference.
 */
import { EzrouterError } from './errors.js';
import { isRecord } from './json.js';

export interface StreamProtocol {
  /** Handles one event; throws EzrouterError on an error frame or an unreadable frame. */
  onEvent(name: string | undefined, data: string): void;
  /** Handles a complete non-streamed JSON body (HTTP 200, application/json). */
  onJsonBody(body: unknown): void;
  /** The stream's terminator was seen: the answer is complete. */
  readonly finished: boolean;
  /** The learned shape of plain text frames, for the SSE decoder's byte-level fast path. */
  readonly shape?: FrameShape | undefined;
}

export interface StreamProtocolOptions {
  /** Decode frames of a learned shape without JSON.parse (default true; tests compare both). */
  fastPath?: boolean;
}

/**
 * One frame's JSON object, or undefined when the learned shape matched the frame and `take` was
 * given its text (no JSON.parse). Unparseable or non-object frames are bad_response.
 */
export function decodeFrame(
  shape: FrameShape | undefined,
  name: string | undefined,
  data: string,
  requestId: string | undefined,
  take: (text: string) => void,
): Record<string, unknown> | undefined {
  if (shape !== undefined) {
    const text = shape.match(name, data);
    if (text !== undefined) {
      take(text);
      return undefined;
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw malformedFrame(data, requestId);
  }
  if (!isRecord(parsed)) throw malformedFrame(data, requestId);
  return parsed;
}

export function malformedFrame(data: string, requestId: string | undefined): EzrouterError {
  // The frame itself is not quoted: a piece cut out of it could hold part of a secret.
  return new EzrouterError({
    code: 'bad_response',
    message: `ezrouter sent a stream frame that is not valid JSON (${data.length} characters), so the answer cannot be trusted: try again.`,
    requestId,
  });
}

/**
 * The effect of a plain text frame, as an adapter's full parse sees it: answer text, and the
 * model name the frame reports (undefined when it reports none). A frame with any other effect
 * (finish reason, usage, error, start or stop of the stream) is not a text frame.
 */
export interface TextFrame {
  text: string;
  model: string | undefined;
}

/** Classifies a fully parsed frame: its TextFrame if it is a plain text frame, else undefined. */
export type TextFrameOf = (name: string | undefined, parsed: unknown) => TextFrame | undefined;

/** Index just past the closing quote of the string last read by readJsonString. */
let stringEnd = 0;

/**
 * Decodes the JSON string token whose opening quote is at `quote` in `s` exactly as JSON.parse
 * would: escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (lone surrogates included), raw characters
 * from U+0020 up. Returns undefined when there is no valid string token there (a raw control
 * character, an unknown escape, a missing closing quote); the caller then parses the frame in
 * full and JSON.parse reports the problem. On success, `readJsonStringEnd()` is the index after
 * the closing quote.
 */
export function readJsonString(s: string, quote: number): string | undefined {
  if (s.charCodeAt(quote) !== 0x22) return undefined;
  const length = s.length;
  let out = '';
  let start = quote + 1;
  let i = start;
  while (i < length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      stringEnd = i + 1;
      return start === i ? out : out + s.slice(start, i);
    }
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

/** See readJsonString. */
export function readJsonStringEnd(): number {
  return stringEnd;
}

/** The value of one hex digit, or -1 (NaN past the end of the string gives -1 too). */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x57;
  return -1;
}

/** Whether `end` in `json` (a valid JSON text) lies between tokens, not inside a string. */
function outsideStrings(json: string, end: number): boolean {
  let i = json.indexOf('"');
  while (i !== -1 && i < end) {
    if (readJsonString(json, i) === undefined) return false;
    i = stringEnd;
    if (i > end) return false;
    i = json.indexOf('"', i);
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
 * The learned shape of a plain text frame: `prefix` (ending with the text's opening quote), one
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
  /** The model the shape's frames report (undefined: none). */
  model: string | undefined;
  /** Bumped whenever a new shape is learned. */
  version = 0;
  private learns = 0;
  private hits = 0;

  /**
   * @param textFrameOf classifies a fully parsed frame (the adapter's own reading of it)
   * @param take does with the text of a frame of the learned shape exactly what the adapter's
   *   `onEvent` does with the whole frame (used by the SSE decoder's byte-level fast path)
   */
  constructor(
    private readonly textFrameOf: TextFrameOf,
    readonly take: (text: string) => void,
  ) {}

  /** Counts frames the SSE decoder matched on bytes (they never reach `match`). */
  counted(frames: number): void {
    this.hits += frames;
  }

  /** The frame's text when `data` has the learned shape, else undefined (parse it in full). */
  match(name: string | undefined, data: string): string | undefined {
    // slice + === compares with memcmp; String.prototype.startsWith goes character by character.
    const open = this.prefix.length;
    if (!this.known || name !== this.name || data.length <= open || data.slice(0, open) !== this.prefix) return undefined;
    const text = readJsonString(data, open - 1);
    if (text === undefined) return undefined;
    const end = stringEnd;
    if (data.length - end !== this.suffix.length || data.slice(end) !== this.suffix) return undefined;
    this.hits++;
    return text;
  }

  /**
   * Learns the shape of `data`, a frame just handled in full whose effect was `frame`. The slot
   * is a whole string token (not text inside another string), and putting a probe string in it
   * makes the full parse see exactly the probe as the text and the same model: then every string
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
