/**
 * Every error code the emulator can produce, through the real server: isError results with
 * `_meta.error`, an actionable sentence ending with the code and request id, the number of
 * upstream requests, partial answers, and the key never shown.
 */
import { createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorMeta, startHarness, textOf, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const ask = (model = 'gpt-5.2') => h.call('complete', { prompt: 'question', model });

function expectTail(text: string, code: string, requestId?: string): void {
  expect(text).toMatch(requestId ? new RegExp(`\\(ezrouter error: ${code}, request id: ${requestId}\\)$`) : new RegExp(`\\(ezrouter error: ${code}(, request id: [^)]+)?\\)$`));
}

describe('complete: upstream errors', () => {
  it('missing_api_key: no request is sent', async () => {
    h = await startHarness({ env: { EZROUTER_API_KEY: '' } });
    const result = await ask();
    expect(result.isError).toBe(true);
    expect(errorMeta(result)).toEqual({ code: 'missing_api_key', retryable: false });
    expect(textOf(result)).toMatch(/EZROUTER_API_KEY/);
    expect(h.emulator.count()).toBe(0);
  });

  it('invalid_api_key: 401, the echoed key redacted everywhere', async () => {
    const wrongKey = 'sk-wrong-0123456789abcdef0123456789abcdef';
    h = await startHarness({ env: { EZROUTER_API_KEY: wrongKey } });
    const result = await ask();
    const meta = errorMeta(result)!;
    expect(meta).toMatchObject({ code: 'invalid_api_key', retryable: false, status: 401, upstream_code: 'invalid_api_key' });
    const recorded = h.emulator.requests.at(-1)!;
    expect(meta.request_id).toBe(recorded.id);
    expectTail(textOf(result), 'invalid_api_key', recorded.id);
    const everything = JSON.stringify(result) + h.logs.join('\n');
    expect(everything).not.toContain(wrongKey);
    expect(h.emulator.count('/v1/chat/completions')).toBe(1);
  });

  it('model_unavailable: 403 access_denied, suggests close catalog ids', async () => {
    h = await startHarness();
    const result = await ask('claude-sonet-4-6');
    expect(errorMeta(result)).toMatchObject({ code: 'model_unavailable', retryable: false, status: 403, upstream_code: 'access_denied' });
    expect(textOf(result)).toMatch(/Closest catalog ids: claude-sonnet-4-6/);
    expect(textOf(result).match(/Closest catalog ids: ([^.]+(?:\.\d[^.]*)*)\./)?.[1]?.split(', ').length).toBeLessThanOrEqual(5);
  });

  it.each([
    { status: 402, code: 'insufficient_balance', upstream: 'insufficient_user_quota', said: /用户额度不足/ },
    { status: 403, body: { error: { code: 'insufficient_user_quota', message: '用户额度不足 (request id: x)', type: 'new_api_error' } }, code: 'insufficient_balance', upstream: 'insufficient_user_quota' },
    { status: 403, body: { error: { code: 'pre_consume_token_quota_failed', message: '预扣费额度失败', type: 'new_api_error' } }, code: 'insufficient_balance' },
    { status: 403, body: { error: { code: 'sensitive_words_detected', message: 'blocked', type: 'new_api_error' } }, code: 'permission_denied' },
    { status: 400, code: 'invalid_request' },
    { status: 413, code: 'invalid_request', upstream: 'read_request_body_failed' },
    { status: 422, body: { error: { code: '', message: 'bad', type: 'new_api_error' } }, code: 'invalid_request' },
    { status: 404, code: 'not_supported' },
    { status: 501, body: { error: { code: 'api_not_implemented', message: 'no', type: 'new_api_error' } }, code: 'not_supported' },
  ])('HTTP $status → $code, no retry', async ({ status, body, code, upstream, said }) => {
    h = await startHarness();
    h.emulator.script({ kind: 'error', status, ...(body ? { body } : {}) });
    const result = await ask();
    const meta = errorMeta(result)!;
    expect(result.isError).toBe(true);
    expect(meta.code).toBe(code);
    expect(meta.status).toBe(status);
    expect(meta.retryable).toBe(false);
    if (upstream) expect(meta.upstream_code).toBe(upstream);
    expect(meta.request_id).toBe(h.emulator.requests.find((r) => r.path === '/v1/chat/completions')!.id);
    expectTail(textOf(result), code, meta.request_id);
    if (said) expect(textOf(result)).toMatch(said);
    expect(h.emulator.count('/v1/chat/completions')).toBe(1);
  });

  it('rate_limited: 429 is retried, then reported with the attempt count', async () => {
    h = await startHarness();
    for (let i = 0; i < 3; i++) h.emulator.script({ kind: 'error', status: 429 });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'rate_limited', retryable: true, status: 429 });
    expect(textOf(result)).toMatch(/after 3 attempts/);
    expect(h.emulator.count('/v1/chat/completions')).toBe(3);
    expect(h.logs.filter((l) => / info: retrying POST \/v1\/chat\/completions/.test(l))).toHaveLength(2);
  });

  it('upstream_error: an HTML 502 is retried and never dumped', async () => {
    h = await startHarness({ env: { EZROUTER_MAX_RETRIES: '1' } });
    for (let i = 0; i < 2; i++) h.emulator.script({ kind: 'error', status: 502, body: '<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>' });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'upstream_error', retryable: true, status: 502 });
    expect(textOf(result)).not.toMatch(/<html|nginx/);
    expect(h.emulator.count('/v1/chat/completions')).toBe(2);
  });

  it('a 500 followed by success returns the answer', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'error', status: 500 });
    const result = await ask();
    expect(result.isError).toBeFalsy();
    expect(h.emulator.count('/v1/chat/completions')).toBe(2);
  });

  it('timeout: a stalled head is retried, then reported naming the variable', async () => {
    h = await startHarness({ env: { EZROUTER_IDLE_TIMEOUT_MS: '150', EZROUTER_MAX_RETRIES: '1' } });
    h.emulator.script({ kind: 'stall' });
    h.emulator.script({ kind: 'stall' });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'timeout', retryable: true });
    expect(textOf(result)).toMatch(/EZROUTER_IDLE_TIMEOUT_MS/);
    expect(h.emulator.count('/v1/chat/completions')).toBe(2);
  });

  it('timeout mid-stream keeps the partial answer, marked incomplete', async () => {
    h = await startHarness({ env: { EZROUTER_IDLE_TIMEOUT_MS: '200' } });
    h.emulator.script({ kind: 'stream', text: 'abcdefghijklmnop', chunkChars: 4, stallAfterFrames: 3 });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'timeout' });
    expect(textOf(result, 1)).toMatch(/^INCOMPLETE ANSWER/);
    expect(textOf(result, 1)).toMatch(/abcdefgh$/);
    expect(h.emulator.count('/v1/chat/completions')).toBe(1);
  });

  it('the call deadline bounds keep-alive pings, naming EZROUTER_TIMEOUT_MS', async () => {
    h = await startHarness({ env: { EZROUTER_TIMEOUT_MS: '400', EZROUTER_IDLE_TIMEOUT_MS: '300' } });
    h.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 2, pingEveryMs: 50 });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'timeout' });
    expect(textOf(result)).toMatch(/EZROUTER_TIMEOUT_MS/);
    expect(textOf(result, 1)).toMatch(/abcd$/);
    const closed = await h.emulator.requests[0]!.closed;
    expect(closed.aborted).toBe(true);
  });

  it('network_error: connection refused, after retries', async () => {
    const port = await freePort();
    h = await startHarness({ env: { EZROUTER_BASE_URL: `http://127.0.0.1:${port}`, EZROUTER_MAX_RETRIES: '1' } });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'network_error', retryable: true });
    expect(textOf(result)).toMatch(/ECONNREFUSED/);
    expect(textOf(result)).toMatch(/after 2 attempts/);
  });

  it('stream_interrupted: the stream ends without [DONE], partial text returned', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', text: 'abcdefghijkl', chunkChars: 4, endAfterFrames: 3 });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'stream_interrupted', retryable: true });
    expect(textOf(result, 1)).toMatch(/abcdefgh$/);
  });

  it('stream_interrupted: the Anthropic stream ends without message_stop', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', text: 'abcdefghijkl', chunkChars: 4, endAfterFrames: 5 });
    const result = await ask('claude-sonnet-4-6');
    expect(errorMeta(result)?.code).toBe('stream_interrupted');
    expect(textOf(result, 1)).toMatch(/INCOMPLETE ANSWER[\s\S]*abcd/);
  });

  it.each(['gpt-5.2', 'claude-haiku-4-5'])('stream_interrupted: an error frame mid-stream on %s', async (model) => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', text: 'abcdefghijkl', chunkChars: 4, errorFrameAfterFrames: 4 });
    const result = await ask(model);
    expect(errorMeta(result)?.code).toBe('stream_interrupted');
    expect(textOf(result, 1)).toMatch(/abcd/);
    expect(h.emulator.count()).toBeLessThanOrEqual(2);
  });

  it('stream_interrupted: the connection is reset mid-stream', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', text: 'abcdefghijkl', chunkChars: 4, resetAfterFrames: 3 });
    const result = await ask();
    expect(errorMeta(result)?.code).toBe('stream_interrupted');
    expect(textOf(result, 1)).toMatch(/abcdefgh$/);
  });

  it('bad_response: a 200 with the wrong content type', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', contentType: 'text/html' });
    const result = await ask();
    expect(errorMeta(result)).toMatchObject({ code: 'bad_response', retryable: false, status: 200 });
    expect(textOf(result)).toMatch(/text\/html/);
  });

  it('bad_response: a malformed JSON frame keeps the partial text', async () => {
    h = await startHarness();
    h.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, malformedAfterFrames: 2 });
    const result = await ask();
    expect(errorMeta(result)?.code).toBe('bad_response');
    expect(textOf(result, 1)).toMatch(/abcd$/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
