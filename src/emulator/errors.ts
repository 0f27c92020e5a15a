/** Error envelopes (OpenAI/new-api and Anthropic shapes) and request ids. */
import { randomBytes } from 'node:crypto';

/** The gateway envelope: `{"error":{"code","message","type"}}` (+ `param` on some). */
export interface GatewayError {
  error: { code: string; message: string; type: string; param?: string };
}

/** The Anthropic shape: `{"type":"error","error":{"type","message"}}`. */
export interface AnthropicError {
  type: 'error';
  error: { type: string; message: string };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A request id: UTC yyyyMMddHHmmssSSS + 12 random hex chars. */
export function newRequestId(now: Date = new Date()): string {
  const stamp =
    `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}` +
    `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}` +
    pad(now.getUTCMilliseconds(), 3);
  return stamp + randomBytes(6).toString('hex');
}

/** Appends the gateway's ` (request id: <id>)` suffix. */
export const withId = (message: string, requestId: string): string => `${message} (request id: ${requestId})`;

export function gatewayError(code: string, message: string, type: string, param?: string): GatewayError {
  return { error: param === undefined ? { code, message, type } : { code, message, type, param } };
}

export function anthropicError(type: string, message: string): AnthropicError {
  return { type: 'error', error: { type, message } };
}

/** The unknown-route 404 body. */
export function invalidUrl(method: string, path: string): object {
  return { error: { message: `Invalid URL (${method} ${path})`, type: 'invalid_request_error', param: '', code: '' } };
}

/** 401 message; echoes a wrong key like real gateways sometimes do (clients must redact it). */
export function unauthorizedMessage(requestId: string, sentKey: string | undefined): string {
  return sentKey
    ? withId(`Incorrect API key provided: ${sentKey}.`, requestId)
    : withId('Invalid token.', requestId);
}

/** 403 for a model outside the catalog (a gateway-level error on both surfaces). */
export function accessDenied(requestId: string, model: string): GatewayError {
  return gatewayError('access_denied', withId(`model ${model} is not available for your token`, requestId), 'new_api_error');
}

/** Context a default error body may mention. */
export interface ErrorContext {
  requestId: string;
  method: string;
  path: string;
  model: string;
}

/** The standard body for a status, used by `{kind:'error'}` scripts without a body. */
export function defaultErrorBody(status: number, ctx: ErrorContext): object {
  const id = ctx.requestId;
  switch (status) {
    case 400:
      return gatewayError('invalid_request', withId('invalid request', id), 'invalid_request_error');
    case 401:
      return gatewayError('invalid_api_key', unauthorizedMessage(id, undefined), 'authentication_error');
    case 402:
      return gatewayError('insufficient_user_quota', withId('用户额度不足, 剩余额度: $0.000000', id), 'new_api_error');
    case 403:
      return accessDenied(id, ctx.model);
    case 404:
      return invalidUrl(ctx.method, ctx.path);
    case 413:
      return gatewayError('read_request_body_failed', withId('request body too large', id), 'new_api_error');
    case 429:
      return gatewayError('rate_limit_exceeded', withId('Too many requests', id), 'new_api_error');
    case 500:
      return gatewayError('do_request_failed', withId('upstream request failed', id), 'upstream_error', '');
    case 502:
      return gatewayError('bad_response_status_code', withId('bad response status code 500', id), 'upstream_error', '');
    case 503:
      return gatewayError('get_channel_failed', withId(`当前分组 default 下对于模型 ${ctx.model} 无可用渠道`, id), 'new_api_error');
    default:
      return gatewayError('', `error ${status}`, 'new_api_error');
  }
}
