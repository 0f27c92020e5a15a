/**
 * Keeps the API key out of everything the server emits: results, resources, logs.
 * ezrouter sometimes echoes the key it received inside its error messages, so every string
 * that came from upstream or mentions a request goes through `redact` before it leaves.
 */

/** Anything shaped like an ezrouter / OpenAI-style secret key. */
const KEY_LIKE = /\bsk-[A-Za-z0-9_-]{12,}/g;
/** Authorization header values that could end up in a debug dump. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * `redact(text)` removes the configured key and anything key-shaped (for errors and logs);
 * `redact.secretOnly(text)` removes just the configured key, leaving other text exactly as it
 * was (for model answers, which must not be altered).
 */
export interface Redactor {
  (text: string): string;
  secretOnly(text: string): string;
}

export function createRedactor(secret: string | undefined): Redactor {
  const exact = secret && secret.length >= 4 ? secret : undefined;
  const secretOnly = (text: string): string =>
    exact && text.includes(exact) ? text.split(exact).join('[redacted]') : text;
  const redact = (text: string): string =>
    secretOnly(text).replace(KEY_LIKE, 'sk-[redacted]').replace(BEARER, '$1[redacted]');
  return Object.assign(redact, { secretOnly });
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
  const cleaned = redact(message).replace(/\s+/g, ' ').replace(REQUEST_ID_SUFFIX, '').trim();
  if (!cleaned) return undefined;
  return cleaned.length > MAX_UPSTREAM_MESSAGE ? `${cleaned.slice(0, MAX_UPSTREAM_MESSAGE - 1)}…` : cleaned;
}
