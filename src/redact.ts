/**
 * Keeps the API key out of everything the process writes. `createRedactor(key)` is the one
 * redaction step; `redactingTransport` (src/transports/redacting-transport.ts) applies it to
 * every outgoing MCP message, the logger to every stderr line, and the commands to their
 * reports — so no path can skip it.
 *
 * What it removes, wherever it appears:
 * - the key itself, and the key without its `sk-` prefix (new-api gateways look tokens up
 *   without it and echo that form);
 * - any contiguous run of MIN_SECRET_RUN or more characters of the key, so a stream cut mid-key,
 *   or an answer cut at a size cap, keeps no usable part of it (the log mask `sk-…abcd` shows
 *   the last four, so the rest must never be shown anywhere);
 * - its URL-encoded form, and its base64 / base64url forms at each of the three alignments a
 *   key can have inside a longer encoded string (e.g. `Basic base64(user:key)`).
 * A short key, one whose body (the key without `sk-`) is under MIN_SECRET_RUN characters (a local
 * test gateway's `test`, or `sk-abcdefghij`), has no run long enough to mean anything, so each of
 * its forms is removed only as a whole token, never inside words: the key, its body, their
 * URL-encoded forms and their base64 / base64url encodings (padding or not). Inside a longer base64
 * string (`Basic base64(user:key)`) a short key's stable base64 characters are removed as runs when
 * there are MIN_SECRET_RUN or more of them (base64 text is not words). A form shorter than
 * MIN_WHOLE_TOKEN characters is never removed: a one-to-three character "key" would take every
 * standalone `a` or `ok` with it, so such a key gets no redaction at all (startup warns).
 *
 * A bearer credential shaped like a JWT (an OAuth access token, header.payload.signature) is a
 * secret only as a whole: its header and much of its payload are the same in every token the
 * issuer signs, so runs of them would cut other tokens and ordinary JSON out of answers. Such a
 * token is removed whole, and runs of its signature (the part no one else has) wherever they are.
 *
 * Cost: one `indexOf` per anchor (the key's aligned blocks, ~8 for a 48-character key) over the
 * text, plus a comparison at each hit; a megabyte of answer text takes well under a millisecond
 * per anchor when the key does not occur in it. A longer secret (over LONG_SECRET_CHARS: a byok
 * key of hundreds of characters, a JWT's signature) is found the other way round: the text's own
 * aligned blocks are looked up among all of the secret's, one pass whatever the secret's length.
 */

/** The shortest run of the key that is removed; a key shorter than this is matched whole only. */
export const MIN_SECRET_RUN = 12;
/** The shortest form of a secret that is ever removed (as a whole token); a shorter secret is not redacted. */
export const MIN_WHOLE_TOKEN = 4;
/** Anchors are aligned blocks of this length: any run of MIN_SECRET_RUN contains a whole one. */
const ANCHOR = MIN_SECRET_RUN / 2;
const MASK = '[redacted]';

/** Anything shaped like an ezrouter / OpenAI-style secret key. */
const KEY_LIKE = /\bsk-[A-Za-z0-9_-]{12,}/g;
/** Authorization header values that could end up in a debug dump. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * `redact(text)` removes the configured key (see the file comment) and anything key-shaped
 * (for errors and logs); `redact.secretOnly(text)` removes just the configured key, leaving
 * other text exactly as it was (for model answers and resource bodies, which must not be altered
 * otherwise).
 */
export interface Redactor {
  (text: string): string;
  secretOnly(text: string): string;
}

export function createRedactor(...secrets: (string | undefined)[]): Redactor {
  const finders = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_WHOLE_TOKEN))].flatMap(secretFinders);
  const secretOnly = (text: string): string => {
    // Every form of every secret is found in the original text, then all are cut at once: one
    // mask per stretch, however many forms overlap there.
    const spans: [number, number][] = [];
    for (const find of finders) find(text, spans);
    return spans.length === 0 ? text : cutSpans(text, spans);
  };
  const redact = (text: string): string =>
    secretOnly(text).replace(KEY_LIKE, 'sk-[redacted]').replace(BEARER, `$1${MASK}`);
  return Object.assign(redact, { secretOnly });
}

/** Adds to `spans` the [start, end) stretches of `text` that hold a secret. */
type SpanFinder = (text: string, spans: [number, number][]) => void;

/** header.payload.signature, base64url: an OAuth access token (see the file comment). */
const JWT_SHAPE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}$/;

/** The finders of one secret: every form of it (see the file comment). */
function secretFinders(secret: string): SpanFinder[] {
  if (JWT_SHAPE.test(secret)) return [exactFinder(secret), ...runFinders([secret.slice(secret.lastIndexOf('.') + 1)])];
  const body = secret.startsWith('sk-') ? secret.slice(3) : secret;
  if (body.length < MIN_SECRET_RUN) return shortSecretFinders(secret, body);
  // Runs of the whole key cover the key, the key without `sk-` and every long piece of either.
  const forms = [...new Set([secret, encodeURIComponent(secret), ...base64Forms(secret)])].filter((f) => f.length >= MIN_SECRET_RUN);
  return runFinders(forms);
}

/** The run finders of some forms: one per short form, one for all the long ones together. */
function runFinders(forms: string[]): SpanFinder[] {
  const long = forms.filter((f) => f.length > LONG_SECRET_CHARS);
  const short = forms.filter((f) => f.length <= LONG_SECRET_CHARS && f.length >= MIN_SECRET_RUN);
  return [...short.map(runFinder), ...(long.length > 0 ? [longRunFinder(long)] : [])];
}

/**
 * Removes every maximal run of MIN_SECRET_RUN or more characters of `secret` from a text. Any
 * such run contains one of the secret's aligned ANCHOR-length blocks, so the text is searched
 * for those blocks only, and each hit is widened to the longest run of the secret around it.
 */
function runFinder(secret: string): SpanFinder {
  const anchors: { at: number; block: string }[] = [];
  for (let at = 0; at + ANCHOR <= secret.length; at += ANCHOR) anchors.push({ at, block: secret.slice(at, at + ANCHOR) });
  if (secret.length % ANCHOR !== 0) anchors.push({ at: secret.length - ANCHOR, block: secret.slice(-ANCHOR) });
  return (text, spans) => {
    if (text.length < MIN_SECRET_RUN) return;
    for (const { at, block } of anchors) {
      for (let hit = text.indexOf(block); hit !== -1; hit = text.indexOf(block, hit + 1)) {
        widen(text, secret, hit, at, spans);
      }
    }
  };
}

/**
 * The text at `hit` equals the secret at `at` for ANCHOR characters: extends the match both ways
 * while the two agree, and keeps it when it is a run of MIN_SECRET_RUN or more.
 */
function widen(text: string, secret: string, hit: number, at: number, spans: [number, number][]): void {
  let start = hit;
  let from = at;
  while (start > 0 && from > 0 && text.charCodeAt(start - 1) === secret.charCodeAt(from - 1)) {
    start--;
    from--;
  }
  let end = hit + ANCHOR;
  let to = at + ANCHOR;
  while (end < text.length && to < secret.length && text.charCodeAt(end) === secret.charCodeAt(to)) {
    end++;
    to++;
  }
  if (end - start >= MIN_SECRET_RUN) spans.push([start, end]);
}

/** Past this length a secret's runs are found by longRunFinder (one pass over the text). */
const LONG_SECRET_CHARS = 96;

/**
 * runFinder for long secrets, all of them in one pass. Any run of MIN_SECRET_RUN characters of a
 * secret in the text holds one whole block of the text aligned on ANCHOR (a run [s, s+12)
 * contains [6k, 6k+6) with 6k the first multiple of 6 at or after s); so the text's aligned
 * blocks are looked up among every ANCHOR-long piece of the secrets (first by their first three
 * characters as one number, which rejects almost every block without making a string), and each
 * hit is widened as in runFinder.
 */
function longRunFinder(secrets: string[]): SpanFinder {
  const pieces = new Map<string, { secret: string; at: number }[]>();
  const heads = new Set<number>();
  for (const secret of secrets) {
    for (let at = 0; at + ANCHOR <= secret.length; at++) {
      const piece = secret.slice(at, at + ANCHOR);
      const known = pieces.get(piece);
      if (known) known.push({ secret, at });
      else pieces.set(piece, [{ secret, at }]);
      heads.add(headOf(secret, at));
    }
  }
  return (text, spans) => {
    if (text.length < MIN_SECRET_RUN) return;
    for (let hit = 0; hit + ANCHOR <= text.length; hit += ANCHOR) {
      if (!heads.has(headOf(text, hit))) continue;
      const places = pieces.get(text.slice(hit, hit + ANCHOR));
      if (places === undefined) continue;
      for (const { secret, at } of places) widen(text, secret, hit, at, spans);
    }
  };
}

/** The first three UTF-16 units at `at`, as one exact number (48 bits). */
function headOf(text: string, at: number): number {
  return (text.charCodeAt(at) * 65536 + text.charCodeAt(at + 1)) * 65536 + text.charCodeAt(at + 2);
}

/** Every occurrence of `secret` itself. */
function exactFinder(secret: string): SpanFinder {
  return (text, spans) => {
    for (let hit = text.indexOf(secret); hit !== -1; hit = text.indexOf(secret, hit + 1)) spans.push([hit, hit + secret.length]);
  };
}

/** Replaces the union of `spans` with the mask, one mask per merged span. */
function cutSpans(text: string, spans: [number, number][]): string {
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let pos = 0;
  let open: [number, number] | undefined;
  for (const span of spans) {
    if (open && span[0] <= open[1]) {
      open[1] = Math.max(open[1], span[1]);
      continue;
    }
    if (open) {
      out += text.slice(pos, open[0]) + MASK;
      pos = open[1];
    }
    open = [span[0], span[1]];
  }
  if (open) {
    out += text.slice(pos, open[0]) + MASK;
    pos = open[1];
  }
  return out + text.slice(pos);
}

/** A short secret's finders (see the file comment): each form as a whole token, its stable base64 as runs. */
function shortSecretFinders(secret: string, body: string): SpanFinder[] {
  const plain = [secret, body];
  const encoded = plain.flatMap((p) => [Buffer.from(p, 'utf8').toString('base64'), Buffer.from(p, 'utf8').toString('base64url')]);
  const tokens = [...plain, ...plain.map(encodeURIComponent), ...encoded, ...encoded.map((e) => e.replace(/=+$/, ''))];
  const whole = [...new Set(tokens)].filter((t) => t.length >= MIN_WHOLE_TOKEN).map(wholeTokenFinder);
  const runs = [...new Set(base64Forms(secret))].filter((f) => f.length >= MIN_SECRET_RUN).map(runFinder);
  return [...whole, ...runs];
}

/** A short secret is removed only where it stands alone: not preceded or followed by a letter, digit or `_`. */
function wholeTokenFinder(secret: string): SpanFinder {
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(secret)}(?![\\p{L}\\p{N}_])`, 'gu');
  return (text, spans) => {
    if (!text.includes(secret)) return;
    for (const match of text.matchAll(pattern)) spans.push([match.index, match.index + match[0].length]);
  };
}

/**
 * The parts of the base64 and base64url encodings of `secret` that are the same wherever the
 * secret sits in a longer encoded string: one per alignment (0, 1 or 2 bytes before it), with
 * the characters that also depend on the neighbouring bytes dropped at both ends.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [];
  for (let lead = 0; lead < 3; lead++) {
    const padded = Buffer.concat([Buffer.alloc(lead), bytes]);
    const encoded = padded.toString('base64').replace(/=+$/, '');
    // Characters fully inside the secret's bytes: skip the ones that mix in the lead bytes,
    // and the last (partial) group's characters, which depend on what follows.
    const first = Math.ceil((lead * 8) / 6);
    const last = Math.floor(((lead + bytes.length) * 8) / 6);
    const stable = encoded.slice(first, last);
    forms.push(stable, stable.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The startup warning for a key too short to redact (see MIN_WHOLE_TOKEN), or undefined. */
export function unredactableKeyWarning(key: string | undefined): string | undefined {
  if (key === undefined || key.length === 0 || key.length >= MIN_WHOLE_TOKEN) return undefined;
  return `EZROUTER_API_KEY is under ${MIN_WHOLE_TOKEN} characters: it is not redacted from any output (removing it would rewrite ordinary words)`;
}

/** `sk-…9f2c`: enough to tell keys apart, never enough to use one. */
export function maskKey(key: string): string {
  if (key.length <= 8) return '…';
  return `${key.slice(0, 3)}…${key.slice(-4)}`;
}

const REQUEST_ID_SUFFIX = /\s*[(（]\s*request id:?\s*[^)）]*[)）]\s*$/i;
const MAX_UPSTREAM_MESSAGE = 300;

/**
 * Makes ezrouter's own message fit to show: the key redacted, whitespace collapsed, the
 * `(request id: …)` suffix dropped (the request id is reported separately), at most 300 chars.
 */
export function cleanUpstreamMessage(message: string | undefined, redact: Redactor): string | undefined {
  if (!message) return undefined;
  // Cut first (bounded work on a huge message), redact the cut, then cut again.
  const cleaned = redact(excerpt(message, 4 * MAX_UPSTREAM_MESSAGE)).replace(/\s+/g, ' ').replace(REQUEST_ID_SUFFIX, '').trim();
  if (!cleaned) return undefined;
  return excerpt(cleaned, MAX_UPSTREAM_MESSAGE);
}

/**
 * A caller's or the gateway's string, made safe to quote in a sentence: at most `max`
 * characters (an ellipsis says it was cut), control characters shown as spaces.
 */
export function excerpt(value: string, max = 80): string {
  const short = value.length > max ? `${value.slice(0, max - 1)}…` : value;
  // eslint-disable-next-line no-control-regex
  return short.replace(/[\u0000-\u001f\u007f]/g, ' ');
}
