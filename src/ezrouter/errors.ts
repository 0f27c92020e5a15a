/**
 * The one error type of the upstream client: every failure of a call to ezrouter becomes an
 * `EzrouterError` with a stable `code` (see CONTRACT.md, "Errors"), created where the fact is
 * known (the HTTP layer knows the status, the stream decoder knows the stream broke).
 * Turning it into an MCP result happens in exactly one place: `src/tools/result.ts`.
 */
import { isRecord, stringField } from './json.js';

export const ERROR_CODES = [
  'missing_api_key',
  'invalid_api_key',
  'model_unavailable',
  'insufficient_balance',
  'permission_denied',
  'invalid_request',
  'not_supported',
  'rate_limited',
  'upstream_error',
  'timeout',
  'network_error',
  'stream_interrupted',
  'bad_response',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes for which trying the same call again later can succeed. */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'rate_limited',
  'upstream_error',
  'timeout',
  'network_error',
  'stream_interrupted',
]);

export interface EzrouterErrorInit {
  code: ErrorCode;
  /** What happened, in one sentence, without the trailing code (added when rendered). */
  message: string;
  status?: number;
  upstreamCode?: string;
  /** ezrouter's own message, already redacted and trimmed. */
  upstreamMessage?: string;
  requestId?: string;
  /** Answer text received before the failure (stream_interrupted, timeout, bad_response). */
  partialText?: string;
  /** How many HTTP attempts were made (1 = no retry). */
  attempts?: number;
  cause?: unknown;
}

export class EzrouterError extends Error {
  override readonly name = 'EzrouterError';
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly upstreamCode: string | undefined;
  readonly upstreamMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly partialText: string | undefined;
  readonly attempts: number | undefined;

  constructor(init: EzrouterErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.upstreamCode = init.upstreamCode || undefined;
    this.upstreamMessage = init.upstreamMessage || undefined;
    this.requestId = init.requestId || undefined;
    this.partialText = init.partialText || undefined;
    this.attempts = init.attempts;
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }

  /** A copy with more facts attached (attempt count, partial text, request id). */
  with(extra: Partial<EzrouterErrorInit>): EzrouterError {
    return new EzrouterError({
      code: this.code,
      message: this.message,
      status: this.status,
      upstreamCode: this.upstreamCode,
      upstreamMessage: this.upstreamMessage,
      requestId: this.requestId,
      partialText: this.partialText,
      attempts: this.attempts,
      cause: this.cause,
      ...extra,
    });
  }
}

/**
 * The call was cancelled by the MCP client (or the server is shutting down). Not an
 * ezrouter failure: nobody is waiting for a result any more.
 */
export class CallCancelledError extends Error {
  override readonly name = 'CallCancelledError';
  constructor() {
    super('The call was cancelled by the client.');
  }
}

/** The fields of ezrouter's error envelope, whichever of its two shapes was used. */
export interface ErrorEnvelope {
  code?: string;
  message?: string;
  type?: string;
}

/**
 * Reads an error body: `{error:{code,message,type}}` (OpenAI/new-api shape),
 * `{type:"error",error:{type,message}}` (Anthropic shape), `{error:"text"}`, `{message:"…"}`.
 * HTML and other non-JSON bodies give no message (they are never shown to users).
 */
export function parseErrorEnvelope(body: string): ErrorEnvelope {
  const trimmed = body.trim();
  if (!trimmed.startsWith('{')) return {};
  try {
    return envelopeFrom(JSON.parse(trimmed));
  } catch {
    return {};
  }
}

/** The envelope fields of an already-parsed error object (see parseErrorEnvelope). */
export function envelopeFrom(parsed: unknown): ErrorEnvelope {
  if (!isRecord(parsed)) return {};
  const inner = parsed['error'];
  if (typeof inner === 'string') return { message: inner };
  const source = isRecord(inner) ? inner : parsed;
  return {
    code: stringField(source, 'code'),
    message: stringField(source, 'message'),
    type: stringField(source, 'type') ?? (source === parsed ? undefined : stringField(parsed, 'type')),
  };
}

const MODEL_UNAVAILABLE_CODES = new Set(['access_denied', 'model_not_found', 'get_channel_failed']);
const NO_BALANCE_CODES = new Set(['insufficient_user_quota', 'pre_consume_token_quota_failed']);

/** The single mapping from an HTTP status (+ ezrouter's `error.code`) to a stable code. */
export function codeForHttpError(status: number, upstreamCode: string | undefined): ErrorCode {
  const code = upstreamCode ?? '';
  if (NO_BALANCE_CODES.has(code)) return 'insufficient_balance';
  if (code === 'model_not_found' || code === 'get_channel_failed') return 'model_unavailable';
  if (status === 401) return 'invalid_api_key';
  if (status === 402) return 'insufficient_balance';
  if (status === 403) return MODEL_UNAVAILABLE_CODES.has(code) ? 'model_unavailable' : 'permission_denied';
  if (status === 404 || status === 405 || status === 501) return 'not_supported';
  if (status === 408) return 'timeout';
  // Redirects are not followed: the base URL points somewhere other than the gateway's API.
  if (status >= 300 && status < 400) return 'bad_response';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'upstream_error';
  return 'invalid_request';
}

/** Anthropic error `type`s (no HTTP status inside a stream) mapped to our codes. */
const ANTHROPIC_ERROR_TYPES: Record<string, ErrorCode> = {
  authentication_error: 'invalid_api_key',
  permission_error: 'permission_denied',
  not_found_error: 'model_unavailable',
  invalid_request_error: 'invalid_request',
  request_too_large: 'invalid_request',
  rate_limit_error: 'rate_limited',
  overloaded_error: 'upstream_error',
  api_error: 'upstream_error',
};

/**
 * An error frame inside a 200 stream. After answer text began it is `stream_interrupted` (the
 * partial answer is kept); before, the frame's own code or type says what went wrong.
 */
export function streamErrorFrame(envelope: ErrorEnvelope, textBegan: boolean, requestId: string | undefined): EzrouterError {
  let code: ErrorCode = 'stream_interrupted';
  if (!textBegan) {
    const upstream = envelope.code ?? '';
    if (NO_BALANCE_CODES.has(upstream)) code = 'insufficient_balance';
    else if (MODEL_UNAVAILABLE_CODES.has(upstream)) code = 'model_unavailable';
    else code = ANTHROPIC_ERROR_TYPES[envelope.type ?? ''] ?? 'upstream_error';
  }
  const message =
    code === 'stream_interrupted'
      ? 'ezrouter reported an error in the middle of the answer, so it is incomplete: try again, or pick another model.'
      : DEFAULT_SENTENCES[code];
  return new EzrouterError({
    code,
    message,
    upstreamCode: envelope.code || undefined,
    upstreamMessage: envelope.message,
    requestId,
  });
}

/** Whether the HTTP layer may send the same request again for this status. */
export function isRetryableStatus(status: number): boolean {
  // 501 Not Implemented and 505 HTTP Version Not Supported do not change on a retry.
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

const DEFAULT_SENTENCES: Record<ErrorCode, string> = {
  missing_api_key: 'No ezrouter API key is configured: set EZROUTER_API_KEY in the MCP server\'s environment and restart it.',
  invalid_api_key: 'ezrouter rejected the API key: check EZROUTER_API_KEY (it may be mistyped, revoked or expired).',
  model_unavailable: 'ezrouter cannot serve that model for this key.',
  insufficient_balance: 'The ezrouter account has run out of balance: top it up, then try again.',
  permission_denied: 'ezrouter refused the request for this key.',
  invalid_request: 'ezrouter rejected the request as invalid: check the arguments.',
  not_supported: 'ezrouter does not offer this endpoint.',
  rate_limited: 'ezrouter is rate limiting this key: wait a little, then try again.',
  upstream_error: 'ezrouter or the model provider behind it failed: try again shortly, or pick another model.',
  timeout: 'The call to ezrouter took too long.',
  network_error: 'Could not reach ezrouter: check the network, EZROUTER_BASE_URL and any proxy settings.',
  stream_interrupted: 'The answer stream from ezrouter broke off before it finished.',
  bad_response: 'ezrouter sent a response this server cannot understand.',
};

/** The default "what happened, what to do" sentence for a code. */
export function defaultSentence(code: ErrorCode): string {
  return DEFAULT_SENTENCES[code];
}

/** Makes the error for a non-2xx HTTP response; the message is the default sentence for its code. */
export function httpError(
  status: number,
  envelope: ErrorEnvelope,
  requestId: string | undefined,
): EzrouterError {
  const code = codeForHttpError(status, envelope.code || undefined);
  return new EzrouterError({
    code,
    message: DEFAULT_SENTENCES[code],
    status,
    upstreamCode: envelope.code || undefined,
    upstreamMessage: envelope.message,
    requestId,
  });
}
