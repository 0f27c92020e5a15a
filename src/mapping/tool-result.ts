/**
 * The one place failures become MCP tool results: `isError: true`, an actionable sentence
 * ending with the stable code and request id, `_meta.error` for clients to switch on, and the
 * partial answer (marked incomplete) when text had arrived. Everything passes the redactor.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import { cleanUpstreamMessage, excerpt, type Redactor } from '../redact.js';
import { CallCancelledError, EzrouterError, type ErrorCode } from '../ezrouter/errors.js';

/** Longest upstream code or request id quoted in an error. */
const MAX_QUOTED = 80;

export interface ErrorMeta {
  code: ErrorCode;
  retryable: boolean;
  status?: number;
  upstream_code?: string;
  request_id?: string;
}

export function errorResult(error: EzrouterError, redact: Redactor): CallToolResult {
  const meta: ErrorMeta = { code: error.code, retryable: error.retryable };
  if (error.status !== undefined) meta.status = error.status;
  // Upstream strings are quoted as short excerpts: a gateway cannot make an error result large.
  if (error.upstreamCode) meta.upstream_code = redact(excerpt(error.upstreamCode, MAX_QUOTED));
  if (error.requestId) meta.request_id = redact(excerpt(error.requestId, MAX_QUOTED));

  const said = cleanUpstreamMessage(error.upstreamMessage, redact);
  const tail = meta.request_id ? `(ezrouter error: ${error.code}, request id: ${meta.request_id})` : `(ezrouter error: ${error.code})`;
  const sentence = withAttempts(ensurePeriod(error.message), error);
  const text = redact(said ? `${sentence} ezrouter said: "${said}" ${tail}` : `${sentence} ${tail}`);

  const content: CallToolResult['content'] = [{ type: 'text', text }];
  if (error.partialText) {
    content.push({
      type: 'text',
      text: `INCOMPLETE ANSWER (${error.partialText.length} characters received before the failure; the rest is missing):\n\n${redact.secretOnly(error.partialText)}`,
    });
  }
  return { content, isError: true, _meta: { error: meta } };
}

/** An argument problem found by the handler itself (not by the schema). */
export function invalidRequest(message: string, redact: Redactor): CallToolResult {
  return errorResult(new EzrouterError({ code: 'invalid_request', message }), redact);
}

/** Any failure thrown by a tool handler, as a result. Unexpected errors are logged, never thrown. */
export function failureResult(error: unknown, redact: Redactor, log: Logger): CallToolResult {
  if (error instanceof EzrouterError) return errorResult(error, redact);
  if (error instanceof CallCancelledError) {
    return { content: [{ type: 'text', text: 'The call was cancelled.' }], isError: true };
  }
  log.error('unexpected error in a tool handler', { error });
  return errorResult(internalError(error, redact), redact);
}

/** A bug inside the server, as the non-retryable internal_error with a short, redacted detail. */
export function internalError(error: unknown, redact: Redactor): EzrouterError {
  // Redacted before it is cut, then cut: no piece of a secret survives, and the text stays short.
  const detail = excerpt(redact(excerpt(error instanceof Error ? `${error.name}: ${error.message}` : String(error), 800)), 200);
  return new EzrouterError({
    code: 'internal_error',
    message: `ezrouter-mcp hit an unexpected internal error (${detail}); please report it with the server's log`,
  });
}

/** After retries: the sentence says how many attempts were made before giving up. */
function withAttempts(sentence: string, error: EzrouterError): string {
  if (error.attempts === undefined || error.attempts <= 1 || !error.retryable) return sentence;
  return `${sentence.replace(/[.:]?\s*$/, '')} (gave up after ${error.attempts} attempts).`;
}

function ensurePeriod(sentence: string): string {
  const trimmed = sentence.trim();
  return /[.!?。]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
