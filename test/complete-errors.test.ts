/**
 * Error results for HTTP error responses, through the real server: isError results with
 * `_meta.error`, an actionable sentence ending with the code and request id, no retry for
 * 4xx, and the key never shown. Retries, timeouts and broken streams: test/faults.test.ts.
 */
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
});
