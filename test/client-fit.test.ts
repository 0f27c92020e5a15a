/**
 * Fitting every client (issue 10): result size budgets per client identity, the answer store
 * and paging, the effective deadline, progress messages, token-limit notes, MCP tasks and
 * background jobs. The sizes measured here are the JSON-RPC responses as the server sent them.
 */
import type { CallToolResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { callLimits } from '../src/clients/limits.js';
import { CLIENT_PROFILES, profileFor, UNKNOWN_CLIENT, type ClientProfile } from '../src/clients/profiles.js';
import { loadConfig } from '../src/config.js';
import { MemoryAnswerStore } from '../src/store/answer-store.js';
import { JOB_RESULT_BYTES } from '../src/tasks/job-result.js';
import { CompletionTaskStore } from '../src/tasks/task-store.js';
import { errorMeta, startHarness, textOf, waitFor, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A million characters that exercise JSON escaping: quotes, backslashes, newlines, CJK, emoji. */
const PIECE = 'plain text "quoted" back\\slash\nnew line 中文字符 😀 tab\t. ';
const MILLION = PIECE.repeat(Math.ceil(1_000_000 / PIECE.length)).slice(0, 1_000_000 - 1) + '!';

const structured = (r: CallToolResult): Record<string, unknown> => (r.structuredContent ?? {}) as Record<string, unknown>;

/** The bytes of the last tools/call response the client received. */
function lastResponseBytes(t: Harness): number {
  const responses = t.received.filter((m) => m.includes('"result"') && m.includes('"content"'));
  return Buffer.byteLength(responses.at(-1) ?? '');
}

/** Reads an answer URI page by page; returns the text and the number of pages. */
async function readAll(t: Harness, uri: string, from: number): Promise<{ text: string; pages: number; largest: number }> {
  let text = '';
  let offset: number | undefined = from;
  let pages = 0;
  let largest = 0;
  while (offset !== undefined) {
    const page: ReadResourceResult = await t.client.readResource({ uri: `${uri}?offset=${offset}` });
    largest = Math.max(largest, Buffer.byteLength(t.received.at(-1) ?? ''));
    const content = page.contents[0] as { text: string; _meta?: { next_offset?: number } };
    text += content.text;
    offset = content._meta?.next_offset;
    pages++;
  }
  return { text, pages, largest };
}

const measured: { client: string; budget: number; bytes: number; returned: number; pages: number }[] = [];
afterAll(() => {
  if (measured.length === 0) return;
  console.log('\nA 1,000,000-character answer, per client identity (bytes of the tools/call response):');
  for (const m of measured) {
    console.log(`  ${m.client.padEnd(28)} budget ${String(m.budget).padStart(7)}  response ${String(m.bytes).padStart(7)}  head ${String(m.returned).padStart(6)} chars  pages to read the rest ${m.pages}`);
  }
});

describe('a size budget per client', () => {
  const identities = [...CLIENT_PROFILES.map((p) => ({ name: p.names[0]!, profile: p })), { name: 'some-other-client', profile: UNKNOWN_CLIENT }];
  for (const { name, profile } of identities) {
    it(`${profile.label} (${name}): a 1,000,000-character answer fits its budget, and paging gives it back exactly`, async () => {
      const t = (h = await startHarness({ clientName: name, env: { EZROUTER_TIMEOUT_MS: '30000' } }));
      t.emulator.script({ kind: 'stream', text: MILLION, chunkChars: 4000 });
      const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
      expect(r.isError).toBeFalsy();
      const bytes = lastResponseBytes(t);
      expect(bytes).toBeLessThanOrEqual(profile.resultBytes);
      const s = structured(r);
      const truncated = s['truncated'] as { total_chars: number; returned_chars: number; uri: string };
      expect(truncated.total_chars).toBe(1_000_000);
      const head = s['text'] as string;
      expect(head.length).toBe(truncated.returned_chars);
      expect(MILLION.startsWith(head)).toBe(true);
      expect(head.length).toBeGreaterThan(profile.resultBytes / 8);
      expect(textOf(r).startsWith(head)).toBe(true);
      expect(textOf(r)).toMatch(/\[ezrouter-mcp: This answer has 1,000,000 characters.*resources\/read of ezrouter:\/\/answers\/[\w-]+\?offset=\d+/);
      expect(s['notes']).toEqual([expect.stringMatching(/characters are missing here/)]);
      expect(r.content).toContainEqual(expect.objectContaining({ type: 'resource_link', uri: truncated.uri, mimeType: 'text/plain' }));
      const rest = await readAll(t, truncated.uri, truncated.returned_chars);
      expect(head + rest.text).toBe(MILLION);
      expect(rest.largest).toBeLessThanOrEqual(profile.resultBytes);
      measured.push({ client: `${profile.label} (${name})`, budget: profile.resultBytes, bytes, returned: head.length, pages: rest.pages });
    });
  }

  it('an answer that fits is returned whole, with no marker and no link', async () => {
    const t = (h = await startHarness({ clientName: 'claude-code' }));
    t.emulator.script({ kind: 'stream', text: 'short answer' });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(textOf(r)).toBe('short answer');
    expect(structured(r)['truncated']).toBeUndefined();
    expect(r.content.some((c) => c.type === 'resource_link')).toBe(false);
  });

  it('every tool declares _meta["anthropic/maxResultSizeChars"] in tools/list (else Claude Code spills past 25,000 tokens)', async () => {
    const t = (h = await startHarness());
    const { tools } = await t.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['compare', 'complete', 'get_balance', 'list_models']);
    for (const tool of tools) expect(tool._meta, tool.name).toMatchObject({ 'anthropic/maxResultSizeChars': 500_000 });
    const complete = tools.find((tool) => tool.name === 'complete')!;
    expect(complete.execution).toMatchObject({ taskSupport: 'optional' });
  });

  it('MAX_MCP_OUTPUT_TOKENS in the server environment lowers the budget; EZROUTER_RESULT_BUDGET_BYTES overrides it', async () => {
    const t = (h = await startHarness({ clientName: 'claude-code', deps: { env: { MAX_MCP_OUTPUT_TOKENS: '5000' } } }));
    t.emulator.script({ kind: 'stream', text: MILLION.slice(0, 200_000), chunkChars: 4000 });
    await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(lastResponseBytes(t)).toBeLessThanOrEqual(30_000);
    await t.close();
    const o = (h = await startHarness({ clientName: 'claude-code', env: { EZROUTER_RESULT_BUDGET_BYTES: '50000' }, deps: { env: { MAX_MCP_OUTPUT_TOKENS: '5000' } } }));
    o.emulator.script({ kind: 'stream', text: MILLION.slice(0, 200_000), chunkChars: 4000 });
    await o.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    const bytes = lastResponseBytes(o);
    expect(bytes).toBeLessThanOrEqual(50_000);
    expect(bytes).toBeGreaterThan(30_000);
  });

  it('a partial answer too large for the budget (a stream that broke) is fitted too, with a link to all of it', async () => {
    const t = (h = await startHarness({ clientName: 'codex-mcp-client' }));
    const partial = MILLION.slice(0, 100_000);
    t.emulator.script({ kind: 'stream', text: partial + MILLION.slice(0, 1000), chunkChars: 1000, endAfterFrames: 101 });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(r)?.code).toBe('stream_interrupted');
    expect(lastResponseBytes(t)).toBeLessThanOrEqual(20_480);
    const link = r.content.find((c) => c.type === 'resource_link') as { uri: string } | undefined;
    expect(link).toBeDefined();
    const whole = await readAll(t, link!.uri, 0);
    expect(partial.startsWith(whole.text.slice(0, 1000))).toBe(true);
    expect(whole.text.length).toBeGreaterThanOrEqual(99_000);
  });

  it('list_models fits the budget too: a huge catalog lists what fits and says how many are left out', async () => {
    const t = (h = await startHarness());
    t.emulator.setModels(Array.from({ length: 1200 }, (_, i) => ({ id: `vendor-model-${String(i).padStart(4, '0')}`, owned_by: 'custom', supported_endpoint_types: ['openai'] })));
    const r = await t.call('list_models', {});
    expect(lastResponseBytes(t)).toBeLessThanOrEqual(UNKNOWN_CLIENT.resultBytes);
    const s = structured(r);
    expect(s['count']).toBe(1200);
    expect(s['shown']).toBeGreaterThan(50);
    expect((s['models'] as unknown[]).length).toBe(s['shown']);
    expect(textOf(r)).toMatch(new RegExp(`\\[ezrouter-mcp: ${1200 - (s['shown'] as number)} more models did not fit`));
    const narrowed = await t.call('list_models', { query: 'model-000' });
    expect(structured(narrowed)['shown']).toBeUndefined();
    expect(structured(narrowed)['count']).toBe(10);
  });

  it('an unknown or expired answer id is -32602 saying so; a bad offset too', async () => {
    const t = (h = await startHarness());
    const unknown = await t.client.readResource({ uri: 'ezrouter://answers/nope' }).catch((e: unknown) => e);
    expect((unknown as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((unknown as McpError).message).toMatch(/expired .* or was never issued/);
    expect((unknown as McpError).data).toEqual({ uri: 'ezrouter://answers/nope' });
    const bad = await t.client.readResource({ uri: 'ezrouter://answers/nope?offset=-1' }).catch((e: unknown) => e);
    expect((bad as McpError).code).toBe(ErrorCode.InvalidParams);
  });
});

describe('a time budget per client', () => {
  it('the effective deadline is below each known client limit (the default table)', () => {
    const config = loadConfig({});
    for (const profile of CLIENT_PROFILES) {
      const { deadlineMs } = callLimits(profile, config, {});
      if (profile.callLimitMs === undefined) expect(deadlineMs).toBe(config.timeoutMs);
      else expect(deadlineMs).toBeLessThan(profile.callLimitMs);
    }
    expect(callLimits(profileFor('claude-ai'), config, {}).deadlineMs).toBe(230_000);
    expect(callLimits(profileFor('codex-mcp-client'), config, {}).deadlineMs).toBe(54_000);
    expect(callLimits(profileFor('claude-code (via mcp-remote 0.1.30)'), config, {}).client).toBe('Claude Code');
    expect(callLimits(profileFor('claude-code'), config, { MCP_TOOL_TIMEOUT: '600000', CLAUDE_CODE_MCP_AUTO_BACKGROUND_MS: '900000' }).deadlineMs).toBe(300_000);
    expect(callLimits(profileFor('claude-ai'), loadConfig({ EZROUTER_CLIENT_TIMEOUT_MS: '0' }), {}).deadlineMs).toBe(300_000);
  });

  it("Claude Desktop's identity with a short limit in the same table: the partial answer arrives before the limit", async () => {
    const desktop = CLIENT_PROFILES.find((p) => p.names.includes('claude-ai'))!;
    const profiles: ClientProfile[] = [{ ...desktop, callLimitMs: 3_000 }];
    const t = (h = await startHarness({ clientName: 'claude-ai', env: { EZROUTER_TIMEOUT_MS: '20000', EZROUTER_IDLE_TIMEOUT_MS: '20000' }, deps: { clientProfiles: profiles } }));
    t.emulator.script({ kind: 'stream', text: 'abcdefgh'.repeat(10), chunkChars: 4, stallAfterFrames: 3 });
    const started = Date.now();
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    const elapsed = Date.now() - started;
    expect(errorMeta(r)?.code).toBe('timeout');
    expect(textOf(r, 1)).toMatch(/INCOMPLETE ANSWER/);
    expect(elapsed).toBeLessThan(3_000);
    expect(t.logs.some((l) => /effective limits for this call .*"client":"Claude Desktop","deadlineMs":1000/.test(l))).toBe(true);
  });
});

describe('progress a person can read', () => {
  it('each message has the model, the seconds elapsed, the characters so far and the last words, in at most 200 characters', async () => {
    const t = (h = await startHarness());
    t.emulator.script({ kind: 'stream', text: 'one two three four five six seven eight nine ten '.repeat(8), chunkChars: 10, frameDelayMs: 15 });
    const messages: string[] = [];
    await t.call('complete', { prompt: 'x', model: 'gpt-5.2' }, { onprogress: (p) => messages.push(p.message ?? '') });
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(200);
      expect(m).toMatch(/^gpt-5\.2 · \d+ s · [\d,]+ characters received · ".*(one|two|three|four|five|six|seven|eight|nine|ten).*"$/);
    }
  });
});

describe('truncation is never silent', () => {
  it('a stop at max_tokens is marked in the text and in structuredContent.notes', async () => {
    const t = (h = await startHarness());
    const r = await t.call('complete', { prompt: 'a long one please', model: 'gpt-5.2', max_tokens: 2 });
    expect(structured(r)['finish_reason']).toBe('length');
    expect(structured(r)['notes']).toEqual([expect.stringMatching(/max_tokens limit \(2 tokens\).*raise max_tokens/)]);
    expect(textOf(r)).toMatch(/\n\n\[ezrouter-mcp: The model stopped at the max_tokens limit \(2 tokens\)/);
    expect(textOf(r).startsWith(structured(r)['text'] as string)).toBe(true);
  });

  it("the Anthropic surface's default max_tokens is named when it cut the answer", async () => {
    const t = (h = await startHarness({ env: { EZROUTER_ANTHROPIC_MAX_TOKENS: '3' } }));
    const r = await t.call('complete', { prompt: 'a long one please', model: 'claude-sonnet-4-6', surface: 'anthropic' });
    expect(structured(r)['finish_reason']).toBe('length');
    expect((structured(r)['notes'] as string[])[0]).toMatch(/max_tokens 3, the default this server sends on the Anthropic surface .*EZROUTER_ANTHROPIC_MAX_TOKENS/);
  });
});

describe('long calls started now, collected later', () => {
  it('as an MCP task: status, progress and the full answer on tasks/result', async () => {
    const t = (h = await startHarness());
    const answer = 'task answer '.repeat(50);
    t.emulator.script({ kind: 'stream', text: answer, chunkChars: 20, frameDelayMs: 5 });
    const seen: string[] = [];
    let result: CallToolResult | undefined;
    for await (const message of t.client.experimental.tasks.callToolStream({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } }, undefined, { task: { ttl: 60_000 } })) {
      seen.push(message.type);
      if (message.type === 'result') result = message.result as CallToolResult;
    }
    expect(seen[0]).toBe('taskCreated');
    expect(seen.at(-1)).toBe('result');
    expect(structured(result!)['text']).toBe(answer);
    // A plain call's carrier task is not listed; the real one is.
    await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    const { tasks } = await t.client.experimental.tasks.listTasks();
    expect(tasks).toHaveLength(1);
  });

  it('cancelling a task aborts its upstream request (the socket closes)', async () => {
    const t = (h = await startHarness());
    t.emulator.script({ kind: 'stream', text: 'x'.repeat(100), chunkChars: 2, stallAfterFrames: 3 });
    const seen: string[] = [];
    for await (const message of t.client.experimental.tasks.callToolStream({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } }, undefined, { task: {} })) {
      seen.push(message.type);
      if (message.type === 'taskCreated') {
        const upstream = await waitFor(() => t.emulator.requests.find((r) => r.path === '/v1/chat/completions'));
        await t.client.experimental.tasks.cancelTask(message.task.taskId);
        expect(await upstream.closed).toEqual({ aborted: true });
      }
    }
    // Fails (rather than passing with no assertion run) when the call did not run as a task.
    expect(seen[0]).toBe('taskCreated');
    expect(t.emulator.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1);
  });

  it("an MCP task keeps a small result: a long answer lives in the answer store, the client's ttl is clamped", async () => {
    const answers = new MemoryAnswerStore({ maxChars: 1_000_000, ttlMs: 60_000 });
    const t = (h = await startHarness({ clientName: 'claude-ai', deps: { answers } }));
    const answer = 'long task answer, '.repeat(5_000);
    t.emulator.script({ kind: 'stream', text: answer, chunkChars: 5_000 });
    let created: { ttl: number | null } | undefined;
    let result: CallToolResult | undefined;
    const tenHours = 36_000_000;
    for await (const message of t.client.experimental.tasks.callToolStream({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } }, undefined, { task: { ttl: tenHours } })) {
      if (message.type === 'taskCreated') created = message.task;
      if (message.type === 'result') result = message.result as CallToolResult;
    }
    expect(created?.ttl).toBe(t.config.answerTtlMs);
    expect(answers.size).toEqual({ answers: 1, chars: answer.length });
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(JOB_RESULT_BYTES);
    const truncated = structured(result!)['truncated'] as { uri: string; returned_chars: number };
    expect(result!.content.some((b) => b.type === 'resource_link' && b.uri === truncated.uri)).toBe(true);
    const rest = await readAll(t, truncated.uri, truncated.returned_chars);
    expect((structured(result!)['text'] as string) + rest.text).toBe(answer);
  });

  it('a background job keeps a small task result; its long answer lives in the answer store and is collected whole', async () => {
    const answers = new MemoryAnswerStore({ maxChars: 1_000_000, ttlMs: 60_000 });
    const tasks = new CompletionTaskStore();
    const t = (h = await startHarness({ clientName: 'claude-ai', deps: { answers, tasks } }));
    const answer = 'long job answer, '.repeat(2_000);
    t.emulator.script({ kind: 'stream', text: answer, chunkChars: 5_000 });
    const started = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', background: true });
    const { id } = structured(started)['job'] as { id: string };
    const collected = await t.call('complete', { job_id: id });
    const got = structured(collected)['text'] as string;
    expect(got === answer).toBe(true);
    expect(structured(collected)['truncated']).toBeUndefined();
    expect(structured(collected)['finish_reason']).toBe('stop');
    expect(answers.size).toEqual({ answers: 1, chars: answer.length });
    expect(Buffer.byteLength(JSON.stringify(await tasks.getTaskResult(id)))).toBeLessThanOrEqual(JOB_RESULT_BYTES);
    tasks.close();
  });

  it("a job whose answer the bounded answer store evicted says so when collected", async () => {
    const answers = new MemoryAnswerStore({ maxChars: 100_000, ttlMs: 60_000 });
    const t = (h = await startHarness({ clientName: 'claude-ai', deps: { answers } }));
    const ids: string[] = [];
    for (const word of ['first ', 'second ']) {
      const text = word.repeat(8_500);
      t.emulator.script({ kind: 'stream', text, chunkChars: 10_000 });
      const started = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', background: true });
      const { id } = structured(started)['job'] as { id: string };
      // Each answer is over half the store: storing the second evicts the first.
      await waitFor(() => (answers.size.chars === text.length ? true : undefined));
      ids.push(id);
    }
    const evicted = await t.call('complete', { job_id: ids[0] });
    expect(errorMeta(evicted)?.code).toBe('invalid_request');
    expect(textOf(evicted)).toMatch(/no longer kept: it was evicted from the answer store \(EZROUTER_ANSWER_STORE_CHARS\)/);
    expect(structured(await t.call('complete', { job_id: ids[1] }))['text'] === 'second '.repeat(8_500)).toBe(true);
  });

  it('as a background job: a job id at once, then the full answer by job_id', async () => {
    const t = (h = await startHarness({ clientName: 'claude-ai' }));
    const answer = 'job answer '.repeat(40);
    t.emulator.script({ kind: 'stream', text: answer, chunkChars: 10, frameDelayMs: 5 });
    const started = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', background: true });
    const job = structured(started)['job'] as { id: string; status: string };
    expect(job.status).toBe('working');
    expect(textOf(started)).toMatch(/Started background job .* job_id/);
    const collected = await t.call('complete', { job_id: job.id });
    expect(structured(collected)['text']).toBe(answer);
    const unknown = await t.call('complete', { job_id: 'no-such-job' });
    expect(errorMeta(unknown)?.code).toBe('invalid_request');
  });

  it('a job still running says so within the caller\'s deadline; cancelling it closes the upstream socket', async () => {
    const profiles: ClientProfile[] = [{ ...UNKNOWN_CLIENT, names: ['short-client'], callLimitMs: 2_400 }];
    const t = (h = await startHarness({ clientName: 'short-client', env: { EZROUTER_TIMEOUT_MS: '20000', EZROUTER_IDLE_TIMEOUT_MS: '20000' }, deps: { clientProfiles: profiles } }));
    t.emulator.script({ kind: 'stream', text: 'y'.repeat(100), chunkChars: 2, stallAfterFrames: 3 });
    const started = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', background: true });
    const { id } = structured(started)['job'] as { id: string };
    const upstream = await waitFor(() => t.emulator.requests.find((r) => r.path === '/v1/chat/completions'));
    const running = await t.call('complete', { job_id: id });
    expect(structured(running)['job']).toMatchObject({ id, status: 'working' });
    expect(textOf(running)).toMatch(/still running/);
    const cancelled = await t.call('complete', { job_id: id, cancel: true });
    expect(structured(cancelled)['job']).toMatchObject({ status: 'cancelled' });
    expect(await upstream.closed).toEqual({ aborted: true });
  });
});
