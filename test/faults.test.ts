/**
 * Fault injection against the emulator: one test per row of the table below
 * (fault → expected code, retryable flag, number of upstream requests, partial text, time bound).
 * Limits are configured short so the suite stays fast. The time bound is a "never hangs" check
 * derived from those limits, not a performance target; measured times are printed at the end.
 */
import { createServer as createNetServer } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Emulator } from '../src/emulator/index.js';
import { defaultReply } from '../src/emulator/index.js';
import { errorMeta, startHarness, textOf, waitFor, type Harness } from './harness.js';

interface FaultRow {
  fault: string;
  env?: Record<string, string>;
  model?: string;
  /** Scripts the emulator; may return a replacement base URL (connection refused). */
  arrange?: (emulator: Emulator) => void | Promise<string | void>;
  harness?: { retryBaseDelayMs?: number };
  /** 'ok' for a successful answer. */
  code: string;
  retryable?: boolean;
  /** POSTs that reached the emulator's completion endpoints. */
  requests: number;
  /** The partial answer in content[1]; null = there must be none. */
  partial: RegExp | null;
  /** Upper bound for the whole call (a hang detector). */
  withinMs: number;
  check?: (result: CallToolResult, h: Harness, elapsedMs: number) => void;
}

const TEXT12 = 'abcdefghijkl';
const WRONG_KEY = 'sk-wrong-5f1e9a7c3b2d4e6f8a0b1c2d3e4f5a6b';
const HTML_502 = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';

const FAULTS: FaultRow[] = [
  {
    fault: '500, then success',
    arrange: (e) => e.script({ kind: 'error', status: 500 }),
    code: 'ok', requests: 2, partial: null, withinMs: 3000,
  },
  {
    fault: '503 forever',
    arrange: (e) => { for (let i = 0; i < 3; i++) e.script({ kind: 'error', status: 503, body: { error: { code: 'do_request_failed', message: 'upstream unavailable', type: 'upstream_error' } } }); },
    code: 'upstream_error', retryable: true, requests: 3, partial: null, withinMs: 3000,
    check: (r) => expect(textOf(r)).toMatch(/gave up after 3 attempts/),
  },
  {
    fault: '429 forever',
    arrange: (e) => { for (let i = 0; i < 3; i++) e.script({ kind: 'error', status: 429 }); },
    code: 'rate_limited', retryable: true, requests: 3, partial: null, withinMs: 3000,
  },
  {
    fault: '429 with retry-after-ms, then success',
    harness: { retryBaseDelayMs: 5 },
    arrange: (e) => e.script({ kind: 'error', status: 429, headers: { 'retry-after-ms': '150' } }),
    code: 'ok', requests: 2, partial: null, withinMs: 3000,
    check: (_r, h, elapsed) => {
      expect(h.logs.some((l) => /retrying POST \/v1\/chat\/completions in 150 ms after rate_limited/.test(l))).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(150);
    },
  },
  {
    fault: '400, never retried',
    arrange: (e) => e.script({ kind: 'error', status: 400 }),
    code: 'invalid_request', retryable: false, requests: 1, partial: null, withinMs: 2000,
  },
  {
    fault: 'connection refused',
    arrange: async () => `http://127.0.0.1:${await closedPort()}`,
    code: 'network_error', retryable: true, requests: 0, partial: null, withinMs: 3000,
    check: (r) => expect(textOf(r)).toMatch(/ECONNREFUSED.*gave up after 3 attempts/),
  },
  {
    fault: 'connection reset before the head',
    arrange: (e) => { for (let i = 0; i < 3; i++) e.script({ kind: 'reset' }); },
    code: 'network_error', retryable: true, requests: 3, partial: null, withinMs: 3000,
  },
  {
    fault: 'connection reset mid-stream',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, resetAfterFrames: 3 }),
    code: 'stream_interrupted', retryable: true, requests: 1, partial: /abcdefgh$/, withinMs: 2000,
  },
  {
    fault: 'stall before the head (retried, then timeout)',
    env: { EZROUTER_IDLE_TIMEOUT_MS: '150' },
    arrange: (e) => { for (let i = 0; i < 3; i++) e.script({ kind: 'stall' }); },
    code: 'timeout', retryable: true, requests: 3, partial: null, withinMs: 6000,
    check: (r) => expect(textOf(r)).toMatch(/EZROUTER_IDLE_TIMEOUT_MS/),
  },
  {
    fault: 'stall mid-stream',
    env: { EZROUTER_IDLE_TIMEOUT_MS: '150' },
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, stallAfterFrames: 3 }),
    code: 'timeout', retryable: true, requests: 1, partial: /abcdefgh$/, withinMs: 3000,
    check: (r) => expect(textOf(r)).toMatch(/EZROUTER_IDLE_TIMEOUT_MS/),
  },
  {
    fault: 'keep-alive pings past the deadline',
    env: { EZROUTER_TIMEOUT_MS: '400', EZROUTER_IDLE_TIMEOUT_MS: '300' },
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, stallAfterFrames: 2, pingEveryMs: 40 }),
    code: 'timeout', retryable: true, requests: 1, partial: /abcd$/, withinMs: 1500,
    check: (r) => expect(textOf(r)).toMatch(/EZROUTER_TIMEOUT_MS/),
  },
  {
    fault: 'the deadline stops retries and backoff',
    env: { EZROUTER_TIMEOUT_MS: '300' },
    harness: { retryBaseDelayMs: 1000 },
    arrange: (e) => { for (let i = 0; i < 3; i++) e.script({ kind: 'error', status: 503, body: '' }); },
    code: 'upstream_error', retryable: true, requests: 1, partial: null, withinMs: 1000,
  },
  {
    fault: 'the catalog lookup for auto stalls past the deadline',
    env: { EZROUTER_TIMEOUT_MS: '500', EZROUTER_IDLE_TIMEOUT_MS: '5000' },
    model: 'claude-sonnet-4-6',
    arrange: (e) => e.script({ kind: 'stall' }, { path: '/v1/models' }),
    code: 'timeout', retryable: true, requests: 0, partial: null, withinMs: 1500,
    check: (r) => expect(textOf(r)).toMatch(/EZROUTER_TIMEOUT_MS/),
  },
  {
    fault: 'the catalog lookup for auto stalls past the idle timeout',
    env: { EZROUTER_IDLE_TIMEOUT_MS: '300', EZROUTER_MAX_RETRIES: '0' },
    model: 'claude-sonnet-4-6',
    arrange: (e) => e.script({ kind: 'stall' }, { path: '/v1/models' }),
    // auto falls back to the OpenAI surface, which covers every model.
    code: 'ok', requests: 1, partial: null, withinMs: 3000,
    check: (r) => expect((r.structuredContent as { surface: string }).surface).toBe('openai'),
  },
  {
    fault: 'a complete answer, then the socket stalls',
    env: { EZROUTER_IDLE_TIMEOUT_MS: '5000' },
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, stallAfterFrames: 10_000 }),
    // Returned a short grace after [DONE], not when the idle timeout (5 s) would fire.
    code: 'ok', requests: 1, partial: null, withinMs: 1500,
    check: (r) => expect(textOf(r)).toBe(TEXT12),
  },
  {
    fault: 'early end without [DONE] (OpenAI)',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, endAfterFrames: 3 }),
    code: 'stream_interrupted', retryable: true, requests: 1, partial: /abcdefgh$/, withinMs: 2000,
  },
  {
    fault: 'early end without message_stop (Anthropic)',
    model: 'claude-sonnet-4-6',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, endAfterFrames: 5 }),
    code: 'stream_interrupted', retryable: true, requests: 1, partial: /abcd/, withinMs: 2000,
  },
  {
    fault: 'error frame mid-stream (OpenAI)',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, errorFrameAfterFrames: 3 }),
    code: 'stream_interrupted', retryable: true, requests: 1, partial: /abcdefgh$/, withinMs: 2000,
    check: (r) => expect(errorMeta(r)?.upstream_code).toBe('do_request_failed'),
  },
  {
    fault: 'error event mid-stream (Anthropic)',
    model: 'claude-haiku-4-5',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, errorFrameAfterFrames: 4 }),
    code: 'stream_interrupted', retryable: true, requests: 1, partial: /abcd/, withinMs: 2000,
    check: (r) => expect(textOf(r)).toMatch(/Overloaded/),
  },
  {
    fault: 'malformed JSON in a frame',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, malformedAfterFrames: 2 }),
    code: 'bad_response', retryable: false, requests: 1, partial: /abcd$/, withinMs: 2000,
  },
  {
    fault: 'a 200 with the wrong content type',
    arrange: (e) => e.script({ kind: 'stream', contentType: 'text/html; charset=utf-8' }),
    code: 'bad_response', retryable: false, requests: 1, partial: null, withinMs: 2000,
  },
  {
    fault: 'HTML 502 from a proxy (retried)',
    arrange: (e) => { for (let i = 0; i < 3; i++) e.script({ kind: 'error', status: 502, body: HTML_502 }); },
    code: 'upstream_error', retryable: true, requests: 3, partial: null, withinMs: 3000,
    check: (r) => expect(textOf(r)).not.toMatch(/<|nginx/),
  },
  {
    fault: '1 MB error body',
    arrange: (e) => e.script({ kind: 'error', status: 400, body: { error: { code: 'invalid_request', message: 'x'.repeat(1024 * 1024), type: 'new_api_error' } } }),
    code: 'invalid_request', retryable: false, requests: 1, partial: null, withinMs: 2000,
  },
  {
    fault: '1 MB HTML 500 body',
    env: { EZROUTER_MAX_RETRIES: '0' },
    arrange: (e) => e.script({ kind: 'error', status: 500, body: `<html>${'<p>oops</p>'.repeat(100_000)}</html>` }),
    code: 'upstream_error', retryable: true, requests: 1, partial: null, withinMs: 2000,
  },
  {
    fault: 'the key echoed back in an error (wrong key)',
    env: { EZROUTER_API_KEY: WRONG_KEY },
    code: 'invalid_api_key', retryable: false, requests: 1, partial: null, withinMs: 2000,
  },
  {
    fault: 'the key echoed back in an error (5xx message)',
    env: { EZROUTER_MAX_RETRIES: '0' },
    arrange: (e) => e.script({ kind: 'error', status: 500, body: { error: { code: 'do_request_failed', message: `upstream rejected key ${e.apiKey} (request id: x)`, type: 'upstream_error' } } }),
    code: 'upstream_error', retryable: true, requests: 1, partial: null, withinMs: 2000,
    check: (r) => expect(textOf(r)).toMatch(/upstream rejected key \[redacted\]/),
  },
  {
    fault: 'an answer past the size cap',
    env: { EZROUTER_MAX_ANSWER_CHARS: '1000' },
    arrange: (e) => e.script({ kind: 'stream', text: 'z'.repeat(5000), chunkChars: 100 }),
    code: 'bad_response', retryable: false, requests: 1, partial: /\n\nz{1000}$/, withinMs: 2000,
    check: (r) => expect(textOf(r)).toMatch(/past 1000 characters.*EZROUTER_MAX_ANSWER_CHARS/),
  },
  {
    fault: 'a complete answer, then keep-alive pings forever',
    env: { EZROUTER_IDLE_TIMEOUT_MS: '5000', EZROUTER_TIMEOUT_MS: '6000' },
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, chunkChars: 4, stallAfterFrames: 10_000, pingEveryMs: 50 }),
    code: 'ok', requests: 1, partial: null, withinMs: 1500,
    check: (r) => expect(textOf(r)).toBe(TEXT12),
  },
  {
    fault: 'a single stream event over 8 MiB',
    env: { EZROUTER_MAX_ANSWER_CHARS: String(32 * 1024 * 1024) },
    arrange: (e) => e.script({ kind: 'stream', text: 'q'.repeat(9 * 1024 * 1024), chunkChars: 9 * 1024 * 1024 }),
    code: 'bad_response', retryable: false, requests: 1, partial: null, withinMs: 5000,
    check: (r) => expect(textOf(r)).toMatch(/single stream event larger than this server accepts \(8 MiB\)/),
  },
  {
    fault: 'a redirect (base URL not the API root)',
    arrange: (e) => e.script({ kind: 'error', status: 301, headers: { location: 'https://www.ezrouter.dev/v1/chat/completions' }, body: '<html>Moved</html>' }),
    code: 'bad_response', retryable: false, requests: 1, partial: null, withinMs: 2000,
    check: (r) => {
      expect(textOf(r)).toMatch(/redirect \(HTTP 301 to https:\/\/www\.ezrouter\.dev\/v1\/chat\/completions\).*EZROUTER_BASE_URL/);
      expect(errorMeta(r)?.status).toBe(301);
    },
  },
  {
    fault: 'usage counts whose sum is not a safe integer',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, usage: { prompt_tokens: Number.MAX_SAFE_INTEGER, completion_tokens: 5, total_tokens: undefined } }),
    code: 'ok', requests: 1, partial: null, withinMs: 2000,
    check: (r) => expect((r.structuredContent as { usage: object }).usage).toEqual({ prompt_tokens: Number.MAX_SAFE_INTEGER, completion_tokens: 5, cached_tokens: 0 }),
  },
  {
    fault: 'absurd numbers in usage',
    arrange: (e) => e.script({ kind: 'stream', text: TEXT12, usage: { prompt_tokens: -3, completion_tokens: 1e308, total_tokens: 'many' } }),
    code: 'ok', requests: 1, partial: null, withinMs: 2000,
    check: (r) => expect((r.structuredContent as { usage: object }).usage).toEqual({ cached_tokens: 0 }),
  },
];

const measured: { fault: string; ms: number; code: string }[] = [];
let h: Harness;
afterEach(async () => {
  await h?.close();
});
afterAll(() => {
  const lines = measured.map((m) => `${m.fault.padEnd(48)} ${m.code.padEnd(20)} ${String(m.ms).padStart(6)} ms`);
  process.stderr.write(`\nfault-injection timings (this run):\n${lines.join('\n')}\n`);
});

describe('fault injection', () => {
  it.each(FAULTS)('$fault → $code', async (row) => {
    let baseUrl: string | undefined;
    h = await startHarness({
      env: { EZROUTER_MAX_RETRIES: '2', ...row.env },
      ...row.harness,
    });
    if (row.arrange) baseUrl = (await row.arrange(h.emulator)) ?? undefined;
    if (baseUrl) {
      await h.close();
      h = await startHarness({ env: { EZROUTER_MAX_RETRIES: '2', ...row.env, EZROUTER_BASE_URL: baseUrl }, ...row.harness });
    }
    const model = row.model ?? 'gpt-5.2';
    const started = Date.now();
    const result = await h.call('complete', { prompt: 'question', model });
    const elapsed = Date.now() - started;
    measured.push({ fault: row.fault, ms: elapsed, code: row.code });

    if (row.code === 'ok') {
      expect(result.isError, textOf(result)).toBeFalsy();
      if (!row.check) expect(textOf(result)).toBe(defaultReply(model, 'question'));
    } else {
      expect(result.isError).toBe(true);
      const meta = errorMeta(result)!;
      expect(meta.code).toBe(row.code);
      expect(meta.retryable).toBe(row.retryable);
      expect(textOf(result)).toMatch(new RegExp(`\\(ezrouter error: ${row.code}(, request id: [^)]+)?\\)$`));
      // Short enough for a person or a model to read, whatever the upstream sent.
      expect(textOf(result).length).toBeLessThan(700);
    }
    const posts = h.emulator.requests.filter((r) => r.method === 'POST').length;
    expect(posts).toBe(row.requests);
    if (row.partial) {
      // The failure came after a 200 head: the status is reported (contract: whenever received).
      expect(errorMeta(result)?.status).toBe(200);
      expect(textOf(result, 1)).toMatch(/^INCOMPLETE ANSWER/);
      expect(textOf(result, 1)).toMatch(row.partial);
    } else {
      expect(result.content.filter((b) => b.type === 'text' && b.text.startsWith('INCOMPLETE ANSWER'))).toHaveLength(0);
    }
    expect(elapsed).toBeLessThan(row.withinMs);
    // The key never leaks: not in the result, not in the logs (stderr).
    const everything = JSON.stringify(result) + h.logs.join('\n');
    expect(everything).not.toContain(h.emulator.apiKey);
    expect(everything).not.toContain(WRONG_KEY);
    row.check?.(result, h, elapsed);
  });
});

describe('connections', () => {
  it.each([
    ['an error frame', { errorFrameAfterFrames: 2, holdOpen: true }],
    ['malformed JSON', { malformedAfterFrames: 2, holdOpen: true }],
    ['an idle timeout', { stallAfterFrames: 2 }],
  ])('reuses the keep-alive socket after a good answer, never after %s mid-response', async (_name, fault) => {
    // One socket per origin makes reuse deterministic: a second socket means the first was dropped.
    // The faulty response is left unfinished (holdOpen), so its socket is in an unknown state and
    // must be closed. (A fault inside a response that did finish, e.g. an error frame followed by
    // the end of the body, leaves a healthy socket that undici may reuse.)
    h = await startHarness({ maxSocketsPerOrigin: 1, env: { EZROUTER_IDLE_TIMEOUT_MS: '200' } });
    await h.call('complete', { prompt: 'a', model: 'gpt-5.2' });
    await h.call('complete', { prompt: 'b', model: 'gpt-5.2' });
    expect(h.emulator.connections.total).toBe(1);
    h.emulator.script({ kind: 'stream', text: TEXT12, chunkChars: 4, ...fault });
    expect((await h.call('complete', { prompt: 'c', model: 'gpt-5.2' })).isError).toBe(true);
    // The client closed that connection in the middle of the response: it cannot be reused.
    const faulty = h.emulator.requests.at(-1)!;
    expect(await faulty.closed).toEqual({ aborted: true });
    const next = await h.call('complete', { prompt: 'd', model: 'gpt-5.2' });
    expect(next.isError).toBeFalsy();
  });

  it('100 concurrent complete calls all succeed with a bounded number of sockets', async () => {
    h = await startHarness({ env: { EZROUTER_TIMEOUT_MS: '20000' } });
    const calls = Array.from({ length: 100 }, (_, i) =>
      h.call('complete', { prompt: `question ${i}`, model: i % 2 ? 'gpt-5.2' : 'claude-sonnet-4-6' }),
    );
    const results = await Promise.all(calls);
    results.forEach((r, i) => {
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r)).toBe(defaultReply(i % 2 ? 'gpt-5.2' : 'claude-sonnet-4-6', `question ${i}`));
    });
    expect(h.emulator.connections.total).toBeLessThanOrEqual(64);
  });

  it('cancellation mid-stream closes the upstream socket within 1 s', async () => {
    h = await startHarness({ env: { EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' } });
    h.emulator.script({ kind: 'stream', text: TEXT12, chunkChars: 4, stallAfterFrames: 3, pingEveryMs: 50 });
    const controller = new AbortController();
    const pending = h.call('complete', { prompt: 'q', model: 'gpt-5.2' }, { signal: controller.signal });
    const request = await waitFor(() => h.emulator.requests.find((r) => r.method === 'POST'));
    const cancelledAt = Date.now();
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await request.closed).aborted).toBe(true);
    const ms = Date.now() - cancelledAt;
    measured.push({ fault: 'cancellation mid-stream (socket closed)', ms, code: 'cancelled' });
    expect(ms).toBeLessThan(1000);
  });
});

/** A port with nothing listening (bound, then released). */
function closedPort(): Promise<number> {
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
