/**
 * The one place resource failures become JSON-RPC errors (beside the tools' result mapper):
 * an unknown or unreadable resource is -32602 with `data.uri`, as the MCP specification shows
 * for "resource not found" (clients built on SDK v2 recognise it by that); an upstream failure
 * while building a resource is -32603 with the stable code in `data.code`. Every string quoted
 * here from a caller is a short excerpt.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { EzrouterError } from '../ezrouter/errors.js';
import { excerpt, type Redactor } from '../redact.js';
import { internalError } from './tool-result.js';

/** Longest URI (or id) quoted in an error message or its data. */
const MAX_QUOTED_URI = 200;

/** `uri` names no resource of this server (`hint`: what to read or call instead). */
export function resourceNotFound(uri: string, hint: string): McpError {
  const shown = excerpt(uri, MAX_QUOTED_URI);
  return new McpError(ErrorCode.InvalidParams, `Resource not found: ${shown}. ${hint}`, { uri: shown });
}

/** `uri` cannot be read as a URI at all, or has a malformed percent-escape. */
export function malformedResourceUri(uri: string, why: string): McpError {
  const shown = excerpt(uri, MAX_QUOTED_URI);
  return new McpError(ErrorCode.InvalidParams, `Malformed resource URI ${shown}: ${why}.`, { uri: shown });
}

/** A bad pagination cursor (one this server did not hand out). */
export function invalidCursor(): McpError {
  return new McpError(ErrorCode.InvalidParams, 'Invalid cursor: pass back exactly the nextCursor of the previous page, or none for the first page.');
}

/** Whatever a resource handler threw, as the JSON-RPC error the client gets. */
export function resourceFailure(error: unknown, uri: string, redact: Redactor): McpError {
  if (error instanceof McpError) return error;
  const failure = error instanceof EzrouterError ? error : internalError(error, redact);
  return new McpError(
    ErrorCode.InternalError,
    redact(`Could not read ${excerpt(uri, MAX_QUOTED_URI)}: ${failure.message} (ezrouter error: ${failure.code})`),
    { uri: excerpt(uri, MAX_QUOTED_URI), code: failure.code, retryable: failure.retryable },
  );
}
