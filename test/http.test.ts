/**
 * The HTTP mode end to end over loopback: the SDK's Streamable HTTP client against the real
 * HTTP service, the emulator as the gateway (it records which key reached it).
 */
import { connect } from 'node:net';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, defaultReply } from '../src/emulator/index.js';
import { waitFor } from './harness.js';
import { bearer, jsonLines, startHttpHarness, tokensFile, toolCall, upstreamKeys, type HttpHarness } from './http-harness.js';
import { expectNoFragment, keyFragments } from './support/key-fragments.js';

const ALICE_KEY = 'sk-alice-0000000000000000000000000001';
const BOB_TOKEN = 'bob-token-b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
const ALICE_TOKEN = 'alice-token-a1a1a1a1a1a1a1a1a1a1a1a1';

let h: HttpHarness | undefined;
let cleanup: (() => void)[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const fn of cleanup) fn();
  cleanup = [];
});

/** tokens mode: alice has her own key, bob uses the server's. */
async function tokensHarness(env: Record<string, string> = {}, emulator = {}) {
  const file = tokensFile([
    { principal: 'alice', token: ALICE_TOKEN, api_key: ALICE_KEY },
    { principal: 'bob', token: BOB_TOKEN },
  ]);
  cleanup.push(file.remove);
  h = await startHttpHarness({
    env: { EZROUTER_HTTP_AUTH: 'tokens', EZROUTER_HTTP_TOKENS_FILE: file.path, ...env },
    emulator: { extraKeys: [ALICE_KEY], ...emulator },
  });
  return { harness: h, file };
}

const text = (r: CallToolResult, i = 0): string => {
  const block = r.content[i];
  return block?.type === 'text' ? block.text : '';
};

describe('MCP over HTTP', () => {
  it("each principal gets its client's limits, from the clientInfo it sent at initialize (stateless: later requests never see it)", async () => {
    const { harness } = await tokensHarness();
    const long = 'long answer text '.repeat(6_000); // ~100k characters: over the unknown client's budget, within Claude Code's
    harness.emulator.script({ kind: 'stream', text: long, chunkChars: 2000 });
    const code = await harness.connect(bearer(BOB_TOKEN), 'claude-code');
    const fits = (await code.callTool({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } })) as CallToolResult;
    expect((fits.structuredContent as { text: string; truncated?: unknown }).truncated).toBeUndefined();
    expect((fits.structuredContent as { text: string }).text).toBe(long);
    harness.emulator.script({ kind: 'stream', text: long, chunkChars: 2000 });
    const other = await harness.connect(bearer(ALICE_TOKEN));
    const cut = (await other.callTool({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } })) as CallToolResult;
    expect((cut.structuredContent as { truncated?: { total_chars: number } }).truncated?.total_chars).toBe(long.length);
  });

  it('serves the tools and resources over stateless Streamable HTTP', async () => {
    const { harness } = await tokensHarness();
    const client = await harness.connect(bearer(BOB_TOKEN));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['compare', 'complete', 'get_balance', 'list_models']);

    const openai = (await client.callTool({ name: 'complete', arguments: { prompt: 'Hi there', model: 'gpt-5.2' } })) as CallToolResult;
    expect(openai.isError).toBeFalsy();
    expect(text(openai)).toBe(defaultReply('gpt-5.2', 'Hi there'));
    const anthropic = (await client.callTool({ name: 'complete', arguments: { prompt: 'Hi there', model: 'claude-sonnet-4-6' } })) as CallToolResult;
    expect((anthropic.structuredContent as { surface: string }).surface).toBe('anthropic');

    const models = (await client.callTool({ name: 'list_models', arguments: {} })) as CallToolResult;
    expect((models.structuredContent as { count: number }).count).toBeGreaterThan(0);
    const balance = (await client.callTool({ name: 'get_balance', arguments: {} })) as CallToolResult;
    expect((balance.structuredContent as { balance: number }).balance).toBe(42.5);

    const catalog = await client.readResource({ uri: 'ezrouter://models' });
    expect(JSON.parse((catalog.contents[0] as { text: string }).text).models.length).toBeGreaterThan(0);
    const one = await client.readResource({ uri: 'ezrouter://models/claude-sonnet-4-6' });
    expect(JSON.parse((one.contents[0] as { text: string }).text)).toMatchObject({ id: 'claude-sonnet-4-6', recommended_surface: 'anthropic' });
  });

  it('answers quick requests as JSON and calls as an SSE stream; GET and DELETE are 405', async () => {
    const { harness } = await tokensHarness();
    const list = await harness.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, bearer(BOB_TOKEN));
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await list.json()) as { result: { tools: unknown[] } }).result.tools).toHaveLength(4);

    const call = await harness.post(toolCall(2, 'complete', { prompt: 'q', model: 'gpt-5.2' }), bearer(BOB_TOKEN));
    expect(call.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await call.text()).toContain(defaultReply('gpt-5.2', 'q'));
    expect(call.headers.get('mcp-session-id')).toBeNull();

    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(harness.url, { method, headers: { ...bearer(BOB_TOKEN), accept: 'text/event-stream' } });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
  });

  it('sends progress notifications over the SSE stream', async () => {
    const { harness } = await tokensHarness();
    const client = await harness.connect(bearer(BOB_TOKEN));
    const answer = 'p'.repeat(200);
    harness.emulator.script({ kind: 'stream', text: answer, chunkChars: 4, frameDelayMs: 10 });
    const progress: number[] = [];
    const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    })) as CallToolResult;
    expect(text(result)).toBe(answer);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1]!);
  });

  it('cancellation (notifications/cancelled, a POST of its own) closes the upstream socket', async () => {
    const { harness } = await tokensHarness({ EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' });
    const client = await harness.connect(bearer(BOB_TOKEN));
    harness.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 2, pingEveryMs: 50 });
    const controller = new AbortController();
    const pending = client.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } }, undefined, { signal: controller.signal });
    const upstream = await waitFor(() => harness.emulator.requests.find((r) => r.path === '/v1/chat/completions'));
    controller.abort('stop');
    await expect(pending).rejects.toThrow();
    expect(await upstream.closed).toEqual({ aborted: true });
    await waitFor(() => jsonLines(harness.logs).find((l) => l['tool'] === 'complete' && l['outcome'] === 'cancelled'));
  });

  it('a client that goes away mid-call closes the upstream socket', async () => {
    const { harness } = await tokensHarness({ EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' });
    harness.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 2, pingEveryMs: 50 });
    const controller = new AbortController();
    const res = await fetch(harness.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(BOB_TOKEN) },
      body: JSON.stringify(toolCall(7, 'complete', { prompt: 'q', model: 'claude-sonnet-4-6' })),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const upstream = await waitFor(() => harness.emulator.requests.find((r) => r.path === '/anthropic/v1/messages'));
    controller.abort();
    expect(await upstream.closed).toEqual({ aborted: true });
  });

  it('keeps a long SSE answer going past the request and headers timeouts (they bound receiving the request only)', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_HEADERS_TIMEOUT_MS: '200', EZROUTER_HTTP_REQUEST_TIMEOUT_MS: '300', EZROUTER_HTTP_IDLE_TIMEOUT_MS: '400' });
    const client = await harness.connect(bearer(BOB_TOKEN));
    const answer = 'z'.repeat(60);
    // ~900 ms of streaming, longer than every server timeout above; keep-alives fill the silences.
    harness.emulator.script({ kind: 'stream', text: answer, chunkChars: 2, frameDelayMs: 30 });
    const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } })) as CallToolResult;
    expect(text(result)).toBe(answer);
  });
});

describe('authentication', () => {
  it('tokens: each token is its principal; the upstream key is that principal\'s (or the server\'s)', async () => {
    const { harness } = await tokensHarness();
    const alice = await harness.connect(bearer(ALICE_TOKEN));
    const bob = await harness.connect(bearer(BOB_TOKEN));
    await alice.callTool({ name: 'complete', arguments: { prompt: 'from alice', model: 'gpt-5.2' } });
    await bob.callTool({ name: 'complete', arguments: { prompt: 'from bob', model: 'claude-sonnet-4-6', surface: 'anthropic' } });
    expect(upstreamKeys(harness.emulator)).toEqual([ALICE_KEY, harness.emulator.apiKey]);
    // The caller's token never goes upstream.
    for (const r of harness.emulator.requests) expect(JSON.stringify(r.headers)).not.toMatch(/token-/);
  });

  it('two principals calling at once each get their own key upstream', async () => {
    const { harness } = await tokensHarness();
    const alice = await harness.connect(bearer(ALICE_TOKEN));
    const bob = await harness.connect(bearer(BOB_TOKEN));
    harness.emulator.script({ kind: 'stream', text: 'one two three four', chunkChars: 2, frameDelayMs: 10 });
    harness.emulator.script({ kind: 'stream', text: 'five six seven eight', chunkChars: 2, frameDelayMs: 10 });
    const calls = [];
    for (let i = 0; i < 3; i++) {
      calls.push(alice.callTool({ name: 'complete', arguments: { prompt: `alice ${i}`, model: 'gpt-5.2' } }));
      calls.push(bob.callTool({ name: 'complete', arguments: { prompt: `bob ${i}`, model: 'gpt-5.2' } }));
    }
    const results = (await Promise.all(calls)) as CallToolResult[];
    expect(results.every((r) => !r.isError)).toBe(true);
    const posts = harness.emulator.requests.filter((r) => r.path === '/v1/chat/completions');
    expect(posts).toHaveLength(6);
    for (const post of posts) {
      const prompt = (post.body as { messages: { content: string }[] }).messages.at(-1)!.content;
      const expected = prompt.startsWith('alice') ? ALICE_KEY : harness.emulator.apiKey;
      expect(post.headers['authorization']).toBe(`Bearer ${expected}`);
    }
  });

  it('tokens: a missing, wrong or malformed credential is 401 with WWW-Authenticate: Bearer and the same body', async () => {
    const { harness } = await tokensHarness();
    const attempts: Record<string, string>[] = [
      {},
      bearer('not-a-token-anyone-has'),
      bearer(ALICE_KEY), // an ezrouter key is no token here
      { authorization: `Basic ${Buffer.from(`alice:${ALICE_TOKEN}`).toString('base64')}` },
      { authorization: `Bearer ${ALICE_TOKEN} extra` },
      { authorization: ALICE_TOKEN },
    ];
    const bodies = new Set<string>();
    for (const headers of attempts) {
      const res = await harness.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      bodies.add(await res.text());
    }
    expect(bodies.size).toBe(1);
    expect([...bodies][0]).not.toMatch(/token|alice|expired|unknown|missing/i);
    expect(harness.emulator.count()).toBe(0);
  });

  it('tokens: a change to the file is picked up; a broken file keeps the tokens loaded before', async () => {
    const { harness, file } = await tokensHarness();
    const carol = 'carol-token-c3c3c3c3c3c3c3c3c3c3c3c3';
    expect((await harness.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, bearer(carol))).status).toBe(401);
    file.write([
      { principal: 'bob', token: BOB_TOKEN },
      { principal: 'carol', token: carol },
    ]);
    await waitFor(() => (harness.logs.some((l) => l.includes('tokens file reloaded')) ? true : undefined));
    expect((await harness.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, bearer(carol))).status).toBe(200);
    expect((await harness.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, bearer(ALICE_TOKEN))).status).toBe(401);

    file.write('{ "tokens": [ { "principal": "x", "token": "plaintext" } ] }');
    await waitFor(() => (harness.logs.some((l) => l.includes('tokens file not reloaded')) ? true : undefined));
    expect((await harness.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, bearer(carol))).status).toBe(200);
    const refusal = harness.logs.find((l) => l.includes('tokens file not reloaded'))!;
    expect(refusal).toContain('never the token');
    expect(refusal).not.toContain('plaintext');
  });

  it('byok: the caller\'s own key goes upstream for that request only; anything not shaped like a key is 401', async () => {
    const callerKey = 'sk-caller-1111111111111111111111111111';
    h = await startHttpHarness({ env: { EZROUTER_HTTP_AUTH: 'byok', EZROUTER_API_KEY: undefined }, emulator: { extraKeys: [callerKey] } });
    const client = await h.connect(bearer(callerKey));
    const models = (await client.callTool({ name: 'list_models', arguments: {} })) as CallToolResult;
    expect(models.isError).toBeFalsy();
    const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'mine', model: 'claude-sonnet-4-6' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    for (const r of h.emulator.requests) {
      expect([r.headers['authorization'], r.headers['x-api-key']]).toContain(r.path === '/anthropic/v1/messages' ? callerKey : `Bearer ${callerKey}`);
    }
    // A wrong key is the gateway's to refuse: the caller learns it as a tool error.
    const stranger = await h.connect(bearer('sk-stranger-22222222222222222222222'));
    const refused = (await stranger.callTool({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } })) as CallToolResult;
    expect((refused._meta as { error: { code: string } }).error.code).toBe('invalid_api_key');
    for (const headers of [{}, bearer('not-an-ezrouter-key-at-all'), bearer('sk-short')]) {
      const res = await h.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    const lines = h.logs.join('\n');
    expect(lines).not.toContain(callerKey);
    expect(lines).not.toContain('sk-stranger-22222222222222222222222');
    expect(lines).toMatch(/"principal":"key:[0-9a-f]{12}"/);
  });

  it('none: no credentials needed on loopback, the server key goes upstream', async () => {
    h = await startHttpHarness({ env: { EZROUTER_HTTP_AUTH: 'none' } });
    const client = await h.connect();
    const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(upstreamKeys(h.emulator)).toEqual([h.emulator.apiKey]);
    expect(jsonLines(h.logs).some((l) => l['principal'] === 'anonymous')).toBe(true);
  });
});

describe('state across requests', () => {
  it('an answer too long for one result is read back through its ezrouter://answers link by a later request', async () => {
    const { harness } = await tokensHarness({ EZROUTER_RESULT_BUDGET_BYTES: '8192' });
    const long = 'long answer '.repeat(2000);
    harness.emulator.script({ kind: 'stream', text: long, chunkChars: 400 });
    const first = await harness.connect(bearer(BOB_TOKEN));
    const result = (await first.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } })) as CallToolResult;
    const truncated = (result.structuredContent as { truncated?: { uri: string; total_chars: number } }).truncated;
    expect(truncated?.total_chars).toBe(long.length);
    // Another connection: another POST, another per-request server, the same store.
    const later = await harness.connect(bearer(BOB_TOKEN));
    let read = '';
    let uri: string | undefined = truncated!.uri;
    while (uri) {
      const page = await later.readResource({ uri });
      const content = page.contents[0] as { text: string; _meta?: { next_offset?: number } };
      read += content.text;
      uri = content._meta?.next_offset === undefined ? undefined : `${truncated!.uri}?offset=${content._meta.next_offset}`;
    }
    expect(read).toBe(long);
  });

  it('a background job started by one request is collected by another; another principal cannot see or collect it', async () => {
    const { harness } = await tokensHarness();
    harness.emulator.script({ kind: 'stream', text: 'the job answer', chunkChars: 2, frameDelayMs: 20 });
    const alice = await harness.connect(bearer(ALICE_TOKEN));
    const started = (await alice.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2', background: true } })) as CallToolResult;
    const jobId = (started.structuredContent as { job: { id: string } }).job.id;
    // The job outlives its request: it runs with alice's key, collected on a new request.
    const collected = (await alice.callTool({ name: 'complete', arguments: { job_id: jobId } })) as CallToolResult;
    expect(text(collected)).toContain('the job answer');
    expect(upstreamKeys(harness.emulator)).toEqual([ALICE_KEY]);

    const bob = await harness.connect(bearer(BOB_TOKEN));
    const stolen = (await bob.callTool({ name: 'complete', arguments: { job_id: jobId } })) as CallToolResult;
    expect(stolen.isError).toBe(true);
    expect(text(stolen)).toMatch(/No background job has the id/);
    const listed = await (await harness.post({ jsonrpc: '2.0', id: 5, method: 'tasks/list', params: {} }, bearer(BOB_TOKEN))).text();
    expect(listed).not.toContain(jobId);
    const own = await (await harness.post({ jsonrpc: '2.0', id: 6, method: 'tasks/list', params: {} }, bearer(ALICE_TOKEN))).text();
    expect(own).toContain(jobId);
  });
});

describe('files', () => {
  it('are never read from the server\'s disk for a remote caller', async () => {
    const { harness } = await tokensHarness({ EZROUTER_FILE_ROOTS: process.cwd() });
    const client = await harness.connect(bearer(BOB_TOKEN));
    const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2', files: ['package.json'] } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/HTTP mode, where it never reads its own disk/);
    expect(harness.emulator.count('/v1/chat')).toBe(0);
  });
});

describe('network safety', () => {
  it('a Host that is not this server is 403 (DNS rebinding), before credentials are even looked at', async () => {
    const { harness } = await tokensHarness();
    const port = new URL(harness.url).port;
    for (const host of [`evil.example:${port}`, `127.0.0.2:${port}`, 'attacker.localhost']) {
      const status = await rawStatus(port, 'POST', '/mcp', { host, ...bearer(BOB_TOKEN) });
      expect(status).toBe(403);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      expect(await rawStatus(port, 'POST', '/mcp', { host })).toBe(401); // past the Host check
    }
    expect(harness.emulator.count()).toBe(0);
  });

  it('EZROUTER_HTTP_ALLOWED_HOSTS replaces the default list', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_ALLOWED_HOSTS: 'mcp.example.com, mcp.internal:8443' });
    const port = new URL(harness.url).port;
    expect(await rawStatus(port, 'POST', '/mcp', { host: 'mcp.example.com' })).toBe(401);
    expect(await rawStatus(port, 'POST', '/mcp', { host: 'MCP.example.com:443' })).toBe(401);
    expect(await rawStatus(port, 'POST', '/mcp', { host: 'mcp.internal:8443' })).toBe(401);
    expect(await rawStatus(port, 'POST', '/mcp', { host: 'mcp.internal:9000' })).toBe(403);
    expect(await rawStatus(port, 'POST', '/mcp', { host: `localhost:${port}` })).toBe(403);
    // Probes answer whatever the Host: orchestrators call them by pod address.
    expect(await rawStatus(port, 'GET', '/healthz', { host: '10.1.2.3:8787' })).toBe(200);
  });

  it('an Origin not on the list is 403; no Origin, or a listed one, is fine', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_ALLOWED_ORIGINS: 'https://app.example.com' });
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    expect((await harness.post(ping, { ...bearer(BOB_TOKEN), origin: 'https://evil.example' })).status).toBe(403);
    expect((await harness.post(ping, { ...bearer(BOB_TOKEN), origin: 'null' })).status).toBe(403);
    expect((await harness.post(ping, { ...bearer(BOB_TOKEN), origin: 'http://app.example.com' })).status).toBe(403);
    expect((await harness.post(ping, { ...bearer(BOB_TOKEN), origin: 'https://app.example.com' })).status).toBe(200);
    expect((await harness.post(ping, bearer(BOB_TOKEN))).status).toBe(200);
  });

  it('a body over EZROUTER_HTTP_MAX_BODY_BYTES is 413 before it is parsed, declared or streamed', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_MAX_BODY_BYTES: '2048' });
    const big = JSON.stringify(toolCall(1, 'complete', { prompt: 'x'.repeat(4000), model: 'gpt-5.2' }));
    const declared = await harness.post(big, bearer(BOB_TOKEN));
    expect(declared.status).toBe(413);
    expect(await declared.text()).toContain('EZROUTER_HTTP_MAX_BODY_BYTES');
    // Chunked, no Content-Length: refused once the count passes the bound. Not JSON at all: never parsed.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('{'.repeat(512)));
        controller.close();
      },
    });
    const streamed = await fetch(harness.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(BOB_TOKEN) },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(harness.emulator.count()).toBe(0);
    // Under the bound, the same server answers.
    expect((await harness.post({ jsonrpc: '2.0', id: 2, method: 'ping' }, bearer(BOB_TOKEN))).status).toBe(200);
  });

  it('the headers timeout closes a connection that never finishes its request head', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_HEADERS_TIMEOUT_MS: '200', EZROUTER_HTTP_REQUEST_TIMEOUT_MS: '400' });
    const socket = connect(Number(new URL(harness.url).port), '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // and never the end of the head
    await new Promise((resolve) => socket.once('close', resolve));
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('the idle timeout closes a connection that sends nothing', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_IDLE_TIMEOUT_MS: '200' });
    const socket = connect(Number(new URL(harness.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(socket.bytesWritten).toBe(0);
  });
});

describe('limits', () => {
  it('past its request rate a principal gets 429 with Retry-After; other principals are unaffected', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_PRINCIPAL_RATE_PER_MINUTE: '3' });
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    for (let i = 0; i < 3; i++) expect((await harness.post(ping, bearer(BOB_TOKEN))).status).toBe(200);
    const limited = await harness.post(ping, bearer(BOB_TOKEN));
    expect(limited.status).toBe(429);
    // 3 per minute: the next request fits in 20 s.
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    expect((await harness.post(ping, bearer(ALICE_TOKEN))).status).toBe(200);
    const line = jsonLines(harness.logs).find((l) => l['status'] === 429)!;
    expect(line).toMatchObject({ principal: 'bob', refused: 'rate' });
  });

  it('a batch with more than one call is refused (400) before anything starts: one POST holds one slot', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT: '1' });
    const batch = [toolCall(1, 'complete', { prompt: 'q', model: 'gpt-5.2', background: true }), toolCall(2, 'complete', { prompt: 'q', model: 'gpt-5.2' }), toolCall(3, 'complete', { prompt: 'q', model: 'gpt-5.2' })];
    const refused = await harness.post(batch, bearer(BOB_TOKEN));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: number; message: string } }).error).toMatchObject({ code: -32600, message: expect.stringMatching(/^One call per request/) });
    expect(harness.emulator.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0);
    expect(jsonLines(harness.logs).find((l) => l['status'] === 400)).toMatchObject({ principal: 'bob', refused: 'batch' });
    // One call with a ping beside it is still one call.
    const one = await harness.post([toolCall(4, 'complete', { prompt: 'q', model: 'gpt-5.2' }), { jsonrpc: '2.0', id: 5, method: 'ping' }], bearer(BOB_TOKEN));
    expect(one.status).toBe(200);
    await one.text();
  });

  it('past its calls in flight a principal gets 429 with Retry-After until one ends', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT: '1', EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' });
    harness.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 1, pingEveryMs: 50 });
    const controller = new AbortController();
    const first = fetch(harness.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(BOB_TOKEN) },
      body: JSON.stringify(toolCall(1, 'complete', { prompt: 'q', model: 'gpt-5.2' })),
      signal: controller.signal,
    });
    await waitFor(() => harness.emulator.requests.find((r) => r.path === '/v1/chat/completions'));
    const second = await harness.post(toolCall(2, 'complete', { prompt: 'q', model: 'gpt-5.2' }), bearer(BOB_TOKEN));
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    // A notification holds no slot: a cancellation still gets through.
    const cancel = await harness.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'stop' } }, bearer(BOB_TOKEN));
    expect(cancel.status).toBe(202);
    expect(await harness.emulator.requests[0]!.closed).toEqual({ aborted: true });
    await (await first).text();
    controller.abort();
    await waitFor(() => (harness.service.app.inFlight === 0 ? true : undefined));
    expect((await harness.post({ jsonrpc: '2.0', id: 3, method: 'ping' }, bearer(BOB_TOKEN))).status).toBe(200);
  });

  it('past the process-wide bound every principal gets 503 with Retry-After', async () => {
    const { harness } = await tokensHarness({ EZROUTER_HTTP_MAX_IN_FLIGHT: '1', EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' });
    harness.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 1, pingEveryMs: 50 });
    const controller = new AbortController();
    void fetch(harness.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(BOB_TOKEN) },
      body: JSON.stringify(toolCall(1, 'complete', { prompt: 'q', model: 'gpt-5.2' })),
      signal: controller.signal,
    }).catch(() => {});
    await waitFor(() => harness.emulator.requests.find((r) => r.path === '/v1/chat/completions'));
    const other = await harness.post({ jsonrpc: '2.0', id: 2, method: 'ping' }, bearer(ALICE_TOKEN));
    expect(other.status).toBe(503);
    expect(other.headers.get('retry-after')).toBe('1');
    controller.abort();
  });
});

describe('probes', () => {
  it('/healthz and /readyz answer without credentials and carry no secret', async () => {
    const { harness } = await tokensHarness();
    const health = await fetch(`${harness.base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${harness.base}/readyz`);
    expect(ready.status).toBe(200);
    const body = await ready.text();
    expect(JSON.parse(body)).toMatchObject({ status: 'ready' });
    expect(body).not.toContain(harness.emulator.apiKey);
    expect(body).not.toContain(harness.emulator.url);
    expect((await fetch(`${harness.base}/nowhere`)).status).toBe(404);
  });

  it.each([
    ['a server key (the shared catalog)', { EZROUTER_HTTP_AUTH: 'none', EZROUTER_MODELS_TTL_MS: '0' }],
    ['no server key (byok: an unauthenticated probe)', { EZROUTER_HTTP_AUTH: 'byok', EZROUTER_API_KEY: undefined }],
  ])('/readyz is 503 with a reason when the gateway is unreachable, with %s', async (_label, env) => {
    h = await startHttpHarness({ env });
    expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
    await h.emulator.close();
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', reason: 'network_error' });
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });
});

describe('redaction across principals', () => {
  /** The operator's key (EZROUTER_API_KEY): it fetches the shared catalog; alice never uses it. */
  const OPERATOR_KEY = 'sk-0per+ator/Key=9876543210zyxwvuZYXWVUtsr';

  it("a principal with its own key sees neither the operator's key nor its own nor its token: catalog, catalog error, balance error, chat error, logs", async () => {
    const { harness } = await tokensHarness({ EZROUTER_LOG_LEVEL: 'debug' }, { apiKey: OPERATOR_KEY });
    const alice = await harness.connect(bearer(ALICE_TOKEN));
    const echo = (key: string): string => `${key} ${key.slice(3)} ${encodeURIComponent(key)} Basic ${Buffer.from(`u:${key}`).toString('base64')}`;

    // The catalog refresh fails with an error that echoes the operator's key (it is fetched with that key).
    harness.emulator.script({ kind: 'error', status: 400, body: { error: { message: `catalog: ${echo(OPERATOR_KEY)}`, type: 'x', code: 'c' } } }, { path: '/v1/models' });
    const failed = (await alice.callTool({ name: 'list_models', arguments: { refresh: true } })) as CallToolResult;
    expect(failed.isError).toBe(true);
    // A catalog whose ids and owned_by echo the operator's key, and alice's own.
    harness.emulator.setModels([
      ...DEFAULT_MODELS,
      { id: `m-${OPERATOR_KEY}`, owned_by: OPERATOR_KEY, supported_endpoint_types: ['openai'] },
      { id: `a-${ALICE_KEY}`, owned_by: ALICE_KEY, supported_endpoint_types: ['openai'] },
    ]);
    const models = (await alice.callTool({ name: 'list_models', arguments: { refresh: true } })) as CallToolResult;
    expect(models.isError).toBeFalsy();
    expect(text(models)).toContain('m-[redacted]');
    expect(text(models)).toContain('a-[redacted]');
    await alice.listResources();
    await alice.readResource({ uri: 'ezrouter://models' });
    await alice.complete({ ref: { type: 'ref/resource', uri: 'ezrouter://models/{id}' }, argument: { name: 'id', value: 'm-' } });

    // A balance error and a chat error that echo both keys and alice's token.
    const said = `op ${echo(OPERATOR_KEY)} own ${echo(ALICE_KEY)} token ${ALICE_TOKEN}`;
    harness.emulator.script({ kind: 'error', status: 500, body: { error: { message: said, type: 'x', code: 'b' } } }, { path: '/v1/user/balance' });
    const balance = (await alice.callTool({ name: 'get_balance', arguments: {} })) as CallToolResult;
    expect(balance.isError).toBe(true);
    harness.emulator.script({ kind: 'error', status: 400, body: { error: { message: said, type: 'x', code: 'invalid_request' } } });
    const chat = (await alice.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } })) as CallToolResult;
    expect(chat.isError).toBe(true);
    expect(text(chat)).toContain('op [redacted]');
    // An answer that echoes them too.
    harness.emulator.script({ kind: 'stream', text: said, chunkChars: 3 });
    const answer = (await alice.callTool({ name: 'complete', arguments: { prompt: 'q', model: 'gpt-5.2' } })) as CallToolResult;
    expect(answer.isError).toBeFalsy();

    const received = (await harness.received()).join('\n');
    expect(received).toContain('m-[redacted]');
    const logs = harness.logs.join('\n');
    for (const secret of [OPERATOR_KEY, ALICE_KEY, ALICE_TOKEN, BOB_TOKEN]) {
      const fragments = keyFragments(secret);
      expectNoFragment('a response to alice', received, fragments);
      expectNoFragment('a log line', logs, fragments);
    }
  });

  it("a byok caller never sees the operator's key the shared catalog was fetched with", async () => {
    const callerKey = 'sk-caller-1111111111111111111111111111';
    h = await startHttpHarness({ env: { EZROUTER_HTTP_AUTH: 'byok' }, emulator: { apiKey: OPERATOR_KEY, extraKeys: [callerKey] } });
    h.emulator.setModels([...DEFAULT_MODELS, { id: `m-${OPERATOR_KEY}`, owned_by: OPERATOR_KEY, supported_endpoint_types: ['openai'] }]);
    const caller = await h.connect(bearer(callerKey));
    const models = (await caller.callTool({ name: 'list_models', arguments: {} })) as CallToolResult;
    expect(text(models)).toContain('m-[redacted]');
    const received = (await h.received()).join('\n');
    for (const secret of [OPERATOR_KEY, callerKey]) {
      expectNoFragment('a response to the caller', received, keyFragments(secret));
      expectNoFragment('a log line', h.logs.join('\n'), keyFragments(secret));
    }
  });
});

describe('logs', () => {
  it('one JSON object per line; at info no key, token, prompt or answer, but request id, principal, tool, model, status, duration', async () => {
    const { harness } = await tokensHarness();
    const prompt = 'the secret plans for tuesday';
    const alice = await harness.connect(bearer(ALICE_TOKEN));
    const result = (await alice.callTool({ name: 'complete', arguments: { prompt, model: 'gpt-5.2' } })) as CallToolResult;
    const answer = text(result);
    // A gateway that echoes the key it got, inside an error: still redacted.
    harness.emulator.script({ kind: 'error', status: 500, body: { error: { message: `bad key ${ALICE_KEY}`, type: 'x', code: 'boom' } } });
    await alice.callTool({ name: 'complete', arguments: { prompt, model: 'gpt-5.2' } });
    await harness.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, bearer('wrong-token-xxxxxxxxxxxxxxxxxxxx'));
    // A caller that pastes its own token where the model goes: the access line is redacted too.
    await (await harness.post(toolCall(9, 'complete', { prompt, model: ALICE_TOKEN }), bearer(ALICE_TOKEN))).text();

    const lines = jsonLines(harness.logs);
    const all = harness.logs.join('\n');
    for (const secret of [ALICE_KEY, ALICE_TOKEN, BOB_TOKEN, harness.emulator.apiKey, 'wrong-token-xxxxxxxxxxxxxxxxxxxx', prompt, answer]) {
      expect(all).not.toContain(secret);
    }
    const call = lines.find((l) => l['msg'] === 'request' && l['tool'] === 'complete')!;
    expect(call).toMatchObject({ principal: 'alice', http_method: 'POST', path: '/mcp', rpc_method: 'tools/call', model: 'gpt-5.2', status: 200, outcome: 'ok' });
    expect(typeof call['request_id']).toBe('string');
    expect(typeof call['duration_ms']).toBe('number');
    expect(lines.find((l) => l['outcome'] === 'upstream_error')).toBeDefined();
    expect(lines.find((l) => l['status'] === 401)).toMatchObject({ refused: 'auth' });
    expect(lines.every((l) => typeof l['time'] === 'string' && typeof l['level'] === 'string')).toBe(true);
  });
});

/** A request with exactly these headers (fetch would set Host itself); resolves with the status. */
function rawStatus(port: string, method: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const body = method === 'POST' ? '{"jsonrpc":"2.0","id":1,"method":"ping"}' : '';
    const head = [
      `${method} ${path} HTTP/1.1`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      'content-type: application/json',
      'accept: application/json, text/event-stream',
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
    ].join('\r\n');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0)));
    socket.write(`${head}\r\n\r\n${body}`);
  });
}
