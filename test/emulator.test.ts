import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { defaultReply, startEmulator, splitDeltas, type Emulator } from '../src/emulator/index.js';

let emu: Emulator;

beforeEach(async () => {
  emu = await startEmulator();
});

afterEach(async () => {
  await emu.close();
});

const auth = (): Record<string, string> => ({ authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' });

function chat(body: object, headers: Record<string, string> = auth(), signal?: AbortSignal): Promise<Response> {
  return fetch(`${emu.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal: signal ?? null });
}

const hello = { model: 'gpt-5.2', messages: [{ role: 'user', content: 'hi there' }] };

/** The payloads of the `data:` lines of an SSE body. */
function dataLines(body: string): string[] {
  return body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
}

/** Waits for a condition the test cannot await as an event (a request reaching the server). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

describe('emulator', () => {
  it('lists models with the request id and version headers', async () => {
    const res = await fetch(`${emu.url}/v1/models`, { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-oneapi-request-id')).toMatch(/^\d{17}[0-9a-f]{12}$/);
    expect(res.headers.get('x-new-api-version')).toBe('v0.9.0-emu');
    const body = (await res.json()) as { object: string; success: boolean; data: Record<string, unknown>[] };
    expect(body.object).toBe('list');
    expect(body.success).toBe(true);
    expect(body.data).toContainEqual({
      id: 'claude-sonnet-4-6',
      object: 'model',
      created: 1626777600,
      owned_by: 'vertex-ai',
      supported_endpoint_types: ['anthropic', 'openai'],
    });
    expect(emu.requests[0]?.id).toBe(res.headers.get('x-oneapi-request-id'));
  });

  it('answers 401 and echoes a wrong key', async () => {
    const res = await fetch(`${emu.url}/v1/models`, { headers: { authorization: 'Bearer sk-wrong-123' } });
    expect(res.status).toBe(401);
    const id = res.headers.get('x-oneapi-request-id');
    const body = (await res.json()) as { error: { code: string; message: string; type: string } };
    expect(body.error.code).toBe('invalid_api_key');
    expect(body.error.type).toBe('authentication_error');
    expect(body.error.message).toBe(`Incorrect API key provided: sk-wrong-123. (request id: ${id})`);
  });

  it('answers 403 access_denied for a model outside the catalog', async () => {
    const res = await chat({ ...hello, model: 'no-such-model' });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('access_denied');
    expect(body.error.message).toContain('no-such-model');
  });

  it('always streams chat completions, ending with usage and [DONE]', async () => {
    const res = await chat({ ...hello, stream: false });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const lines = dataLines(await res.text());
    expect(lines.at(-1)).toBe('[DONE]');
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, any>);
    expect(chunks[0]?.choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(defaultReply('gpt-5.2', 'hi there'));
    const deltas = splitDeltas(text, 4).length;
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: deltas, total_tokens: 2 + deltas, output_tokens: 0 });
  });

  it('honours max_tokens with finish_reason length', async () => {
    const lines = dataLines(await (await chat({ ...hello, max_tokens: 2 })).text());
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, any>);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello fr');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('length');
    expect(chunks.at(-1)?.usage.completion_tokens).toBe(2);
  });

  it('streams Anthropic events in order, ending with message_stop', async () => {
    const res = await fetch(`${emu.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'yo' }] }),
    });
    const body = await res.text();
    const events = body.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
    const deltas = splitDeltas(defaultReply('claude-haiku-4-5', 'yo'), 4).length;
    expect(events).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array<string>(deltas).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const messageDelta = dataLines(body).map((l) => JSON.parse(l)).find((d) => d.type === 'message_delta');
    expect(messageDelta).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: deltas } });
  });

  it('rejects an Anthropic request without max_tokens in the Anthropic shape', async () => {
    const res = await fetch(`${emu.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': emu.apiKey },
      body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'yo' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  });

  it('plays a scripted error once, before auth, and records the request', async () => {
    emu.script({ kind: 'error', status: 429 });
    const first = await chat(hello, { 'content-type': 'application/json' });
    expect(first.status).toBe(429);
    const id = first.headers.get('x-oneapi-request-id');
    expect(await first.json()).toEqual({
      error: { code: 'rate_limit_exceeded', message: `Too many requests (request id: ${id})`, type: 'new_api_error' },
    });
    emu.script({ kind: 'error', status: 502, body: '<html>bad gateway</html>' });
    const html = await chat(hello);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toBe('<html>bad gateway</html>');
    expect((await chat(hello)).status).toBe(200);
    expect(emu.count('/v1/chat')).toBe(3);
    expect(emu.requests[0]?.body).toEqual(hello);
  });

  it('ends without [DONE] on endAfterFrames', async () => {
    emu.script({ kind: 'stream', endAfterFrames: 3 });
    const lines = dataLines(await (await chat(hello)).text());
    expect(lines).toHaveLength(3);
    expect(lines).not.toContain('[DONE]');
  });

  it('writes the same bytes when split at random byte boundaries', async () => {
    const text = 'héllo wörld 😀 ünïcödé '.repeat(20);
    const normalise = (s: string): string => s.replace(/msg_01\w+/g, 'ID').replace(/"created":\d+/g, '"created":0');
    emu.script({ kind: 'stream', text });
    const whole = normalise(await (await chat(hello)).text());
    emu.script({ kind: 'stream', text, byteSplits: 'random' });
    const split = normalise(await (await chat(hello)).text());
    expect(split).toBe(whole);
    expect(whole).toContain('[DONE]');
  });

  it('close() ends a stalled request without hanging', async () => {
    emu.script({ kind: 'stall' });
    const pending = chat(hello).then(
      () => 'answered',
      () => 'failed',
    );
    await until(() => emu.count() === 1);
    await emu.close();
    expect(await pending).toBe('failed');
    expect(await emu.requests[0]?.closed).toEqual({ aborted: true });
  });

  it('resolves closed with aborted=true when the client aborts mid-stall', async () => {
    emu.script({ kind: 'stream', stallAfterFrames: 2 });
    const ctrl = new AbortController();
    const res = await chat(hello, auth(), ctrl.signal);
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    const rec = emu.requests[0]!;
    expect(rec.aborted).toBe(false);
    ctrl.abort();
    expect(await rec.closed).toEqual({ aborted: true });
    expect(rec.aborted).toBe(true);
  });

  it('counts TCP connections', async () => {
    const a = new Agent({ connections: 1 });
    const b = new Agent({ connections: 1 });
    try {
      for (const dispatcher of [a, a, b]) {
        const res = await request(`${emu.url}/v1/models`, { headers: auth(), dispatcher });
        await res.body.text();
      }
      expect(emu.connections.total).toBe(2);
      expect(emu.connections.open).toBe(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    await until(() => emu.connections.open === 0);
    expect(emu.connections.total).toBe(2);
    expect((await emu.requests[2]?.closed)?.aborted).toBe(false);
  });

  it('splits deltas on code points, never inside a surrogate pair', () => {
    expect(splitDeltas('a😀bc😀', 2)).toEqual(['a😀', 'bc', '😀']);
    expect(splitDeltas('', 4)).toEqual([]);
  });
});
