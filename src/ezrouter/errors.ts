/**
 * The one error type of the upstream client: every failure of a call to ezrouter becomes an
 * `EzrouterError` with a stable `code` (see CONTRACT.md, "Errors"), created where the fact is
 * known (the HTTP layer knows the status, the stream decoder knows the stream broke).
 * Turning it into an MCP result happens in exactly one place: `src/tools/result.ts`.
 */
import { exceedsJsonDepth } from './json-depth.js';
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
  'reasoning_exhausted',
  'store_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one table of what each code means: whether trying the same call again later can succeed
 * (reported to callers as `retryable`; the HTTP layer resends exactly these before a response
 * was used), and the default "what happened, what to do" sentence.
 */
const CODES: ReadonlyMap<ErrorCode, { retryable: boolean; sentence: string }> = new Map<ErrorCode, { retryable: boolean; sentence: string }>([
  ['missing_api_key', { retryable: false, sentence: 'No ezrouter API key is configured: set EZROUTER_API_KEY in the MCP server\'s environment and restart it.' }],
  ['invalid_api_key', { retryable: false, sentence: 'ezrouter rejected the API key: check EZROUTER_API_KEY (it may be mistyped, revoked or expired).' }],
  ['model_unavailable', { retryable: false, sentence: 'ezrouter cannot serve that model for this key.' }],
  ['insufficient_balance', { retryable: false, sentence: 'The ezrouter account has run out of balance: top it up, then try again.' }],
  ['permission_denied', { retryable: false, sentence: 'ezrouter refused the request for this key.' }],
  ['invalid_request', { retryable: false, sentence: 'ezrouter rejected the request as invalid: check the arguments.' }],
  ['not_supported', { retryable: false, sentence: 'ezrouter does not offer this endpoint.' }],
  ['rate_limited', { retryable: true, sentence: 'ezrouter is rate limiting this key: wait a little, then try again.' }],
  ['upstream_error', { retryable: true, sentence: 'ezrouter or the model provider behind it failed: try again shortly, or pick another model.' }],
  ['timeout', { retryable: true, sentence: 'The call to ezrouter took too long.' }],
  ['network_error', { retryable: true, sentence: 'Could not reach ezrouter: check the network, EZROUTER_BASE_URL and any proxy settings.' }],
  ['stream_interrupted', { retryable: true, sentence: 'The answer stream from ezrouter broke off before it finished.' }],
  ['bad_response', { retryable: false, sentence: 'ezrouter sent a response this server cannot understand.' }],
  ['reasoning_exhausted', { retryable: false, sentence: 'The model spent its whole token budget on reasoning and wrote no answer: raise max_tokens or lower reasoning_effort.' }],
  ['store_unavailable', { retryable: true, sentence: 'The shared store this call needs cannot be reached right now: try again shortly.' }],
  ['internal_error', { retryable: false, sentence: 'ezrouter-mcp hit an internal error: please report it.' }],
]);

/** Whether trying the same call again later can succeed, for a code. */
export function isRetryableCode(code: ErrorCode): boolean {
  return CODES.get(code)?.retryable ?? false;
}

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
    return isRetryableCode(this.code);
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
  if (!trimmed.startsWith('{') || exceedsJsonDepth(trimmed)) return {};
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

/** Anthropic error `type`s (no HTTP status inside a stream) mapped to our codes (a Map: upstream strings are never prototype keys). */
const ANTHROPIC_ERROR_TYPES: ReadonlyMap<string, ErrorCode> = new Map<string, ErrorCode>([
  ['authentication_error', 'invalid_api_key'],
  ['permission_error', 'permission_denied'],
  ['not_found_error', 'model_unavailable'],
  ['invalid_request_error', 'invalid_request'],
  ['request_too_large', 'invalid_request'],
  ['rate_limit_error', 'rate_limited'],
  ['overloaded_error', 'upstream_error'],
  ['api_error', 'upstream_error'],
]);

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
    else code = ANTHROPIC_ERROR_TYPES.get(envelope.type ?? '') ?? 'upstream_error';
  }
  const message =
    code === 'stream_interrupted'
      ? 'ezrouter reported an error in the middle of the answer, so it is incomplete: try again, or pick another model.'
      : defaultSentence(code);
  return new EzrouterError({
    code,
    message,
    upstreamCode: envelope.code || undefined,
    upstreamMessage: envelope.message,
    requestId,
  });
}

/** The default "what happened, what to do" sentence for a code. */
export function defaultSentence(code: ErrorCode): string {
  return CODES.get(code)?.sentence ?? 'ezrouter-mcp failed.';
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
    message: defaultSentence(code),
    status,
    upstreamCode: envelope.code || undefined,
    upstreamMessage: envelope.message,
    requestId,
  });
}

/** Why a call's scope ended before the failure was seen, if it did (see CallScope). */
export type ScopeEnd = 'deadline' | 'cancelled' | undefined;

/** What classifyTransportError needs to know besides the error itself. */
export interface TransportContext {
  /** Why the call's scope ended, if it had. */
  scopeEnd: ScopeEnd;
  /** The call deadline (EZROUTER_TIMEOUT_MS, or a smaller effective one) and the idle timeout. */
  timeoutMs: number;
  idleTimeoutMs: number;
  baseUrl: string;
  path: string;
}

/** Whether `path` asks a model for an answer (a completion, on either surface), not for the catalog or the balance. */
export function isAnswerPath(path: string): boolean {
  return path.endsWith('/chat/completions') || path.endsWith('/messages');
}

/**
 * Whatever undici (or a body stream) threw, as a typed failure — a pure function that always
 * returns a value. The end of the call's scope wins over the error object itself: it says
 * whether the deadline passed or the caller cancelled.
 */
export function classifyTransportError(error: unknown, at: TransportContext): EzrouterError | CallCancelledError {
  if (at.scopeEnd === 'cancelled') return new CallCancelledError();
  if (at.scopeEnd === 'deadline') {
    return new EzrouterError({
      code: 'timeout',
      message: isAnswerPath(at.path)
        ? `ezrouter did not finish within ${at.timeoutMs} ms (the call deadline, EZROUTER_TIMEOUT_MS or the client's limit): raise it for long answers, or try a faster model.`
        : `ezrouter did not answer ${excerptOf(at.path, 80)} within ${at.timeoutMs} ms (the call deadline, EZROUTER_TIMEOUT_MS or the client's limit): the gateway is slow or unreachable right now; try again shortly.`,
      cause: error,
    });
  }
  const code = errorCode(error);
  // undici reports an interim response it did not ask for (HTTP 100 Continue to a request that
  // sent no `Expect`) as a SocketError whose message is this constant: not a network failure.
  if (code === 'UND_ERR_SOCKET' && error instanceof Error && error.message === 'bad response') {
    return new EzrouterError({
      code: 'bad_response',
      message: `ezrouter answered ${at.path} with an interim response this server did not ask for (HTTP 100 Continue): a proxy in between may be misbehaving; check EZROUTER_BASE_URL and the proxy.`,
      cause: error,
    });
  }
  switch (code) {
    // undici's documented error codes for its headersTimeout / bodyTimeout.
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new EzrouterError({
        code: 'timeout',
        message: `ezrouter did not ${code === 'UND_ERR_HEADERS_TIMEOUT' ? 'respond' : 'send more of the answer'} within ${at.idleTimeoutMs} ms (EZROUTER_IDLE_TIMEOUT_MS): it may be overloaded; raise the variable or try again.`,
        cause: error,
      });
    case 'UND_ERR_HEADERS_OVERFLOW':
      return new EzrouterError({
        code: 'bad_response',
        message: `ezrouter's response to ${at.path} had headers larger than this server accepts (undici's 16 KiB limit): a proxy in between may be adding them; check EZROUTER_BASE_URL and the proxy.`,
        cause: error,
      });
    case 'UND_ERR_INFO':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return new EzrouterError({
        code: 'bad_response',
        message: `ezrouter's response to ${at.path} is not valid HTTP this server can read (${code}): check EZROUTER_BASE_URL points at the gateway, and any proxy in between.`,
        cause: error,
      });
    default:
      break;
  }
  if (TLS_CODES.test(code ?? '')) {
    return new EzrouterError({
      code: 'network_error',
      message: `TLS verification failed for ${at.baseUrl} (${code}): if your network uses a private certificate authority, set NODE_EXTRA_CA_CERTS to its PEM file.`,
      cause: error,
    });
  }
  return new EzrouterError({
    code: 'network_error',
    message: `Could not reach ezrouter at ${at.baseUrl}${at.path} (${describeNetworkError(error, code)}): check the network, EZROUTER_BASE_URL and any proxy settings.`,
    cause: error,
  });
}

/**
 * Whether the HTTP layer sends the same request again after this failure (only ever before a
 * response was used): the codes the table calls retryable, except an HTTP 505, whose answer does
 * not change on a retry.
 */
export function mayResend(failure: EzrouterError): boolean {
  return failure.retryable && failure.code !== 'stream_interrupted' && failure.status !== 505;
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * The error's code: undici's own verdict (a timeout, a parser error) as it is; for a socket
 * failure, the system code in the cause chain (ECONNRESET, a TLS code) when there is one.
 */
function errorCode(error: unknown): string | undefined {
  const top = codeOf(error);
  if (top !== undefined && top.startsWith('UND_ERR') && top !== 'UND_ERR_SOCKET' && top !== 'UND_ERR_CONNECT_TIMEOUT') return top;
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = codeOf(current);
    if (code !== undefined && !code.startsWith('UND_ERR')) return code;
    current = current.cause;
  }
  return top;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describeNetworkError(error: unknown, code: string | undefined): string {
  if (code === 'UND_ERR_SOCKET') return 'connection closed by the server';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timed out';
  if (code) return code;
  return error instanceof Error ? excerptOf(error.message, 120) : 'unknown error';
}

function excerptOf(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
