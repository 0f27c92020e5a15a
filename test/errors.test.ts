/** Envelope parsing and the status/code → stable code mapping, from real-looking bodies. */
import { describe, expect, it } from 'vitest';
import { codeForHttpError, httpError, parseErrorEnvelope, type ErrorCode } from '../src/ezrouter/errors.js';
import { cleanUpstreamMessage, createRedactor, maskKey } from '../src/redact.js';
import { seededRandom } from './random.js';

const KEY = 'sk-live-9f2c8e71aa0b4c55b1d0e6f3a7c9d2e1';

const rows: { name: string; status: number; body: string; code: ErrorCode; upstream?: string; message?: RegExp }[] = [
  {
    name: '401 invalid_api_key',
    status: 401,
    body: '{"error":{"code":"invalid_api_key","message":"Invalid token. (request id: 2026112723301512345abcdef)","type":"authentication_error"}}',
    code: 'invalid_api_key',
    upstream: 'invalid_api_key',
  },
  {
    name: '403 access_denied (unknown model)',
    status: 403,
    body: '{"error":{"code":"access_denied","message":"model gpt-9 is not available for your token (request id: X)","type":"new_api_error"}}',
    code: 'model_unavailable',
    upstream: 'access_denied',
  },
  {
    name: '403 insufficient_user_quota, Chinese message',
    status: 403,
    body: '{"error":{"code":"insufficient_user_quota","message":"用户额度不足, 剩余额度: $0.000000 (request id: 20261127)","type":"new_api_error"}}',
    code: 'insufficient_balance',
    upstream: 'insufficient_user_quota',
    message: /用户额度不足/,
  },
  { name: '403 pre_consume_token_quota_failed', status: 403, body: '{"error":{"code":"pre_consume_token_quota_failed","message":"预扣费额度失败","type":"new_api_error"}}', code: 'insufficient_balance' },
  { name: '402 with empty code', status: 402, body: '{"error":{"code":"","message":"Payment required","type":"new_api_error"}}', code: 'insufficient_balance' },
  { name: '403 other', status: 403, body: '{"error":{"code":"prompt_blocked","message":"blocked","type":"new_api_error"}}', code: 'permission_denied' },
  { name: '403 model_not_found', status: 403, body: '{"error":{"code":"model_not_found","message":"no such model","type":"new_api_error"}}', code: 'model_unavailable' },
  { name: '503 get_channel_failed', status: 503, body: '{"error":{"code":"get_channel_failed","message":"当前分组 default 下对于模型 x 无可用渠道","type":"new_api_error"}}', code: 'model_unavailable' },
  { name: '400 invalid_request', status: 400, body: '{"error":{"code":"invalid_request","message":"messages is required","type":"new_api_error"}}', code: 'invalid_request' },
  { name: '413 read_request_body_failed', status: 413, body: '{"error":{"code":"read_request_body_failed","message":"too large","type":"new_api_error"}}', code: 'invalid_request' },
  { name: '422', status: 422, body: '{"error":{"message":"unprocessable"}}', code: 'invalid_request' },
  {
    name: '404 unknown route, empty code',
    status: 404,
    body: '{"error":{"message":"Invalid URL (GET /v1/user/balance)","type":"invalid_request_error","param":"","code":""}}',
    code: 'not_supported',
  },
  { name: '501 api_not_implemented', status: 501, body: '{"error":{"code":"api_not_implemented","message":"not implemented","type":"new_api_error"}}', code: 'not_supported' },
  { name: '405', status: 405, body: '', code: 'not_supported' },
  { name: '429', status: 429, body: '{"error":{"code":"rate_limit_exceeded","message":"Too many requests","type":"new_api_error"}}', code: 'rate_limited' },
  { name: '500 with param', status: 500, body: '{"error":{"code":"do_request_failed","message":"upstream failed","type":"upstream_error","param":""}}', code: 'upstream_error' },
  { name: '502 HTML from a proxy', status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', code: 'upstream_error' },
  { name: '503 empty body', status: 503, body: '', code: 'upstream_error' },
  {
    name: 'Anthropic-shaped 400',
    status: 400,
    body: '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}',
    code: 'invalid_request',
    message: /max_tokens/,
  },
  { name: 'Anthropic-shaped 529 overloaded', status: 529, body: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', code: 'upstream_error' },
];

describe('error envelopes → stable codes', () => {
  it.each(rows)('$name', ({ status, body, code, upstream, message }) => {
    const error = httpError(status, parseErrorEnvelope(body), 'rid-1');
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.requestId).toBe('rid-1');
    expect(error.upstreamCode).toBe(upstream ?? (parseErrorEnvelope(body).code || undefined));
    if (message) expect(error.upstreamMessage).toMatch(message);
  });

  it('never treats an empty code as an upstream code', () => {
    const error = httpError(404, parseErrorEnvelope(rows.find((r) => r.status === 404)!.body), undefined);
    expect(error.upstreamCode).toBeUndefined();
  });

  it('HTML and empty bodies give no message', () => {
    expect(parseErrorEnvelope('<html>oops</html>')).toEqual({});
    expect(parseErrorEnvelope('')).toEqual({});
    expect(parseErrorEnvelope('{"broken"')).toEqual({});
  });

  it('retryable follows the code', () => {
    expect(httpError(500, {}, undefined).retryable).toBe(true);
    expect(httpError(429, {}, undefined).retryable).toBe(true);
    expect(httpError(401, {}, undefined).retryable).toBe(false);
    expect(httpError(400, {}, undefined).retryable).toBe(false);
  });

  it('status alone decides when the code is unknown', () => {
    expect(codeForHttpError(418, 'teapot')).toBe('invalid_request');
    expect(codeForHttpError(599, undefined)).toBe('upstream_error');
  });
});

describe('redaction', () => {
  const redact = createRedactor(KEY);

  it('removes the exact key and anything key-shaped', () => {
    expect(redact(`Incorrect API key provided: ${KEY}.`)).toBe('Incorrect API key provided: [redacted].');
    expect(redact('other key sk-abcdefghijklmnopqrstu here')).toBe('other key sk-[redacted] here');
    expect(redact('Authorization: Bearer abcdefghijklmnop')).toBe('Authorization: Bearer [redacted]');
  });

  it('secretOnly leaves other text alone', () => {
    expect(redact.secretOnly(`a sk-notthekey1234567890 b ${KEY}`)).toBe('a sk-notthekey1234567890 b [redacted]');
  });

  it('cleans ezrouter messages: request id suffix dropped, trimmed, redacted', () => {
    expect(cleanUpstreamMessage('用户额度不足, 剩余额度: $0.000000 (request id: 2026112723)', redact)).toBe('用户额度不足, 剩余额度: $0.000000');
    expect(cleanUpstreamMessage(`bad key ${KEY}`, redact)).toBe('bad key [redacted]');
    const long = cleanUpstreamMessage('x'.repeat(5000), redact)!;
    expect(long.length).toBeLessThanOrEqual(300);
    expect(cleanUpstreamMessage('   ', redact)).toBeUndefined();
  });

  it('masks a key for display', () => {
    expect(maskKey(KEY)).toBe('sk-…d2e1');
    expect(maskKey('short')).toBe('…');
  });

  it('a long secret (a 515-character byok key): every run of 12+ characters, at any offset, is removed; other text is left alone', () => {
    const random = seededRandom(515);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const long = `sk-${Array.from({ length: 512 }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')}`;
    const r = createRedactor(long);
    for (let i = 0; i < 300; i++) {
      const from = Math.floor(random() * (long.length - 12));
      const to = from + 12 + Math.floor(random() * (long.length - from - 12));
      const piece = long.slice(from, to);
      const out = r.secretOnly(`before ${piece} after`);
      expect(out, `${from}..${to}`).toBe('before [redacted] after');
    }
    expect(r.secretOnly(`an ordinary answer, ${long.slice(0, 11)} and ${long.slice(100, 111)} (11 characters each)`)).toBe(`an ordinary answer, ${long.slice(0, 11)} and ${long.slice(100, 111)} (11 characters each)`);
  });

  it('an OAuth access token (a JWT) is removed whole and by runs of its signature, never by its header or claims, which other tokens share', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const header = b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    const jwt = (sub: string, signature: string) => `${header}.${b64({ iss: 'https://idp.example', aud: 'https://mcp.example/mcp', sub })}.${signature}`;
    const signature = 'Q2x5ZGUgc2lnbmF0dXJlIGJ5dGVz'.repeat(12).slice(0, 342);
    const access = jwt('carol@example.com', signature);
    const r = createRedactor(KEY, access);
    expect(r.secretOnly(`token ${access} end`)).toBe('token [redacted] end');
    // A stream cut in the middle of the signature keeps no usable part of it.
    expect(r.secretOnly(`cut ${access.slice(0, access.length - 100)}`)).toBe(`cut ${access.slice(0, access.lastIndexOf('.') + 1)}[redacted]`);
    // Another token of the same issuer, and the header alone, are not this secret.
    const other = jwt('dave@example.com', 'ZGF2ZSBzaWduYXR1cmUgYnl0ZXM'.repeat(12).slice(0, 342));
    expect(r.secretOnly(`other ${other}`)).toBe(`other ${other}`);
    expect(r.secretOnly(`{"header": "${header}"}`)).toBe(`{"header": "${header}"}`);
  });
});
