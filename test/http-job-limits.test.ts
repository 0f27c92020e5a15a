/**
 * Detached work and the per-principal in-flight limit, over loopback HTTP with the real SDK
 * client, the emulator as the gateway, and (for the shared limits) a real redis-server: a
 * background job or MCP task keeps its principal's slot until it ends, fails or is cancelled,
 * so EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT bounds a principal's upstream work however it is
 * started; a start over the limit is refused like any call over it (429, Retry-After); the
 * requests that only poll or cancel (tasks/get, tasks/cancel, complete with job_id + cancel)
 * take no slot, so a principal at its limit can still reach its own jobs.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness.js';
import { bearer, startHttpHarness, tokensFile, toolCall, type HttpHarness } from './http-harness.js';
import { redisBinary, startRedis, type RedisServer } from './support/redis-server.js';

const BOB_TOKEN = 'bob-token-b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
const ALICE_TOKEN = 'alice-token-a1a1a1a1a1a1a1a1a1a1a1a1';
/** Holds the upstream stream open (a frame, then only keep-alive pings) until it is aborted. */
const STALLED = { kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 1, pingEveryMs: 50 } as const;
const ASK = { prompt: 'q', model: 'gpt-5.2' };

const binary = redisBinary();
if (!binary) process.stderr.write('http-job-limits.test.ts: the Redis cases are SKIPPED, redis-server is not installed (apt-get install redis-server)\n');

let redis: RedisServer | undefined;
let h: HttpHarness | undefined;
let cleanup: (() => void)[] = [];
let prefixes = 0;

beforeAll(async () => {
  if (binary) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const fn of cleanup) fn();
  cleanup = [];
});

async function harness(store: 'memory' | 'redis', env: Record<string, string> = {}): Promise<HttpHarness> {
  const file = tokensFile([
    { principal: 'alice', token: ALICE_TOKEN },
    { principal: 'bob', token: BOB_TOKEN },
  ]);
  cleanup.push(file.remove);
  const shared = store === 'redis' ? { EZROUTER_REDIS_URL: redis!.url, EZROUTER_REDIS_PREFIX: `jobs-${process.pid}-${++prefixes}:` } : {};
  h = await startHttpHarness({
    env: { EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: file.path, EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT: '1', EZROUTER_IDLE_TIMEOUT_MS: '20000', ...shared, ...env },
  });
  return h;
}

/** The JSON-RPC answer with this id in a JSON or SSE response body. */
async function answer(response: Response, id: number): Promise<Record<string, unknown>> {
  const body = await response.text();
  const candidates = response.headers.get('content-type')?.includes('text/event-stream')
    ? body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6))
    : [body];
  const found = candidates.map((c) => JSON.parse(c) as Record<string, unknown>).find((m) => m['id'] === id);
  if (!found) throw new Error(`no answer with id ${id} in ${body.slice(0, 200)}`);
  return found;
}

const chatRequests = (hh: HttpHarness) => hh.emulator.requests.filter((r) => r.path === '/v1/chat/completions');

/** Polls with a fresh POST until it is admitted (a release through Redis lands a moment later). */
async function admitted(hh: HttpHarness, make: (id: number) => unknown, token = BOB_TOKEN): Promise<{ response: Response; id: number }> {
  let id = 1000;
  for (const until = Date.now() + 5000; ; ) {
    const response = await hh.post(make(++id), bearer(token));
    if (response.status !== 429) return { response, id };
    await response.text();
    if (Date.now() > until) throw new Error('still refused (429): the slot was never released');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const stores: ('memory' | 'redis')[] = ['memory', ...(binary ? (['redis'] as const) : [])];

describe.each(stores)('detached work holds its principal\'s in-flight slot (%s limits)', (store) => {
  it('a running background job holds the slot: another job, task or call of that principal is 429; cancelling the job frees it', async () => {
    const hh = await harness(store);
    hh.emulator.script(STALLED);
    const bob = await hh.connect(bearer(BOB_TOKEN));
    const started = (await bob.callTool({ name: 'complete', arguments: { ...ASK, background: true } })) as CallToolResult;
    const jobId = (started.structuredContent as { job: { id: string } }).job.id;
    await waitFor(() => chatRequests(hh)[0]);

    // The starting request has ended, but its slot went with the job.
    for (const body of [
      toolCall(2, 'complete', { ...ASK, background: true }),
      toolCall(3, 'complete', ASK),
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'complete', arguments: ASK, task: { ttl: 60_000 } } },
    ]) {
      const refused = await hh.post(body, bearer(BOB_TOKEN));
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/over its limit of calls in flight/);
    }
    // Another principal is unaffected.
    const other = await hh.post(toolCall(5, 'complete', ASK), bearer(ALICE_TOKEN));
    expect(other.status).toBe(200);
    await other.text();
    expect(chatRequests(hh)).toHaveLength(2);

    // Cancelling takes no slot: the job's upstream request is aborted and its slot freed.
    const cancel = await hh.post(toolCall(6, 'complete', { job_id: jobId, cancel: true }), bearer(BOB_TOKEN));
    expect(cancel.status).toBe(200);
    expect(JSON.stringify(await answer(cancel, 6))).toContain('is cancelled');
    expect(await chatRequests(hh)[0]!.closed).toEqual({ aborted: true });
    const { response: next } = await admitted(hh, (id) => toolCall(id, 'complete', { ...ASK, background: true }));
    expect(next.status).toBe(200);
    await next.text();
  });

  it('a job that ends, or fails, frees its slot; while it runs, collecting it waits for the slot', async () => {
    const hh = await harness(store);
    hh.emulator.script({ kind: 'stream', text: 'the job answer', chunkChars: 2, frameDelayMs: 30 });
    hh.emulator.script({ kind: 'error', status: 400 });
    for (const expected of ['the job answer', 'invalid_request']) {
      const start = await hh.post(toolCall(1, 'complete', { ...ASK, background: true }), bearer(BOB_TOKEN));
      expect(start.status).toBe(200);
      const started = (await answer(start, 1))['result'] as { structuredContent: { job: { id: string } } };
      const collected = await admitted(hh, (id) => toolCall(id, 'complete', { job_id: started.structuredContent.job.id }));
      expect(collected.response.status).toBe(200);
      expect(JSON.stringify(await answer(collected.response, collected.id))).toContain(expected);
    }
    // Both jobs are over: a plain call is admitted at once.
    const plain = await hh.post(toolCall(9, 'complete', ASK), bearer(BOB_TOKEN));
    expect(plain.status).toBe(200);
    await plain.text();
    expect(chatRequests(hh)).toHaveLength(3);
  });

  it('an MCP task holds the slot while it runs; tasks/get and tasks/cancel still get through, and cancelling frees it', async () => {
    const hh = await harness(store);
    hh.emulator.script(STALLED);
    const start = await hh.post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'complete', arguments: ASK, task: { ttl: 60_000 } } }, bearer(BOB_TOKEN));
    expect(start.status).toBe(200);
    const { task } = (await answer(start, 1))['result'] as { task: { taskId: string } };
    await waitFor(() => chatRequests(hh)[0]);

    const refused = await hh.post(toolCall(2, 'complete', ASK), bearer(BOB_TOKEN));
    expect(refused.status).toBe(429);
    await refused.text();
    const polled = await hh.post({ jsonrpc: '2.0', id: 3, method: 'tasks/get', params: { taskId: task.taskId } }, bearer(BOB_TOKEN));
    expect(polled.status).toBe(200);
    expect((await answer(polled, 3))['result']).toMatchObject({ status: 'working' });
    const cancelled = await hh.post({ jsonrpc: '2.0', id: 4, method: 'tasks/cancel', params: { taskId: task.taskId } }, bearer(BOB_TOKEN));
    expect(cancelled.status).toBe(200);
    await cancelled.text();
    expect(await chatRequests(hh)[0]!.closed).toEqual({ aborted: true });
    const { response: next } = await admitted(hh, (id) => toolCall(id, 'complete', ASK));
    expect(next.status).toBe(200);
    await next.text();
  });
});
