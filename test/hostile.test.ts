/**
 * Hostile input: what an attacker (a malicious caller, a compromised or broken gateway, a proxy
 * in between) can send, one row per class of issue 8. Every row checks its own expectation and,
 * after it, that the key and its fragments (whole, without `sk-`, any 12-character run,
 * URL-encoded, base64 at every alignment) appear in no output at all: every message the client
 * received and every log line at debug. Time bounds here are hang detectors, not performance
 * targets (BENCHMARKS.md has the figures).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../src/commands/doctor/doctor.js';
import { loadConfig } from '../src/config.js';
import { DEFAULT_MODELS, startEmulator, type Emulator, type EmulatorModel } from '../src/emulator/index.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { suggestModels } from '../src/ezrouter/catalog.js';
import { MAX_MODEL_ID_CHARS } from '../src/tools/complete-call.js';
import { EzrouterClient } from '../src/ezrouter/client.js';
import { silentLogger } from '../src/log.js';
import { createRedactor, MIN_WHOLE_TOKEN, unredactableKeyWarning } from '../src/redact.js';
import { createServer } from '../src/server.js';
import { errorMeta, startHarness, textOf, waitFor, type Harness } from './harness.js';
import { expectNoFragment, keyFragments } from './support/key-fragments.js';

/** A key with characters that URL-encoding changes, so its encoded form is a distinct needle. */
const KEY = 'sk-h0st+ile/Key=0123456789abcdefABCDEFxyz';
const BODY = KEY.slice(3);
const BIN = join(import.meta.dirname, '..', 'dist', 'cli.js');

/** Every form of the key that must never be seen (test/support/key-fragments.ts). */
const FRAGMENTS = keyFragments(KEY);

function expectNoKey(where: string, text: string): void {
  expectNoFragment(where, text, FRAGMENTS);
}

let h: Harness | undefined;
afterEach(async () => {
  if (h) {
    // The row's own checks ran; now the invariant: nothing the server said or logged holds the key.
    expectNoKey('a message to the client', h.received.join('\n'));
    expectNoKey('a log line', h.logs.join('\n'));
    await h.close();
    h = undefined;
  }
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness({ ...options, emulator: { apiKey: KEY, ...options.emulator } });
  return h;
}

const stream = (e: Emulator, script: Parameters<Emulator['script']>[0] & { kind: 'stream' }): void => e.script(script);
const structured = (r: CallToolResult): Record<string, unknown> => (r.structuredContent ?? {}) as Record<string, unknown>;

/** A raw HTTP response (the emulator writes these bytes as they are). */
function raw(status: string, headers: Record<string, string>, body: string): string {
  const lines = Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)) }).map(([k, v]) => `${k}: ${v}\r\n`);
  return `HTTP/1.1 ${status}\r\n${lines.join('')}\r\n${body}`;
}

const sse = (frames: { event?: string; data: string }[]): string => frames.map((f) => `${f.event ? `event: ${f.event}\n` : ''}data: ${f.data}\n\n`).join('');

describe('1. one redaction boundary: the key never leaves the process', () => {
  it('the fragment check itself covers every 12-character run of every form, at every alignment', () => {
    const has = (text: string): boolean => FRAGMENTS.some((f) => text.includes(f));
    const runs = (form: string): string[] => Array.from({ length: form.length - 11 }, (_, i) => form.slice(i, i + 12));
    for (const form of [KEY, BODY, encodeURIComponent(KEY), encodeURIComponent(BODY)]) for (const run of runs(form)) expect(has(`<${run}>`)).toBe(true);
    for (const prefix of ['', 'u', 'us', 'user:', 'Authorization: ']) {
      const encoded = Buffer.from(`${prefix}${KEY}`).toString('base64');
      const url = Buffer.from(`${prefix}${KEY}`).toString('base64url');
      // The characters that depend on the key's bytes alone: every 12-run of them is caught (the tail too).
      const from = Math.ceil((Buffer.byteLength(prefix) * 8) / 6);
      const to = Math.floor((Buffer.byteLength(prefix + KEY) * 8) / 6);
      for (const run of [...runs(encoded.slice(from, to)), ...runs(url.slice(from, to))]) expect(has(run)).toBe(true);
    }
    expect(has('an ordinary sentence with sk- and 0123456789 in it')).toBe(false);
  });

  it('answer text that echoes the key and the key without sk-', async () => {
    const t = await harness();
    stream(t.emulator, { kind: 'stream', text: `Your key is ${KEY}, or ${BODY} without the prefix.` });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe('Your key is [redacted], or [redacted] without the prefix.');
    expect(structured(r)['text']).toBe('Your key is [redacted], or [redacted] without the prefix.');
  });

  it('an answer cut at EZROUTER_MAX_ANSWER_CHARS in the middle of the key keeps none of it', async () => {
    const t = await harness({ env: { EZROUTER_MAX_ANSWER_CHARS: '1000' } });
    stream(t.emulator, { kind: 'stream', text: 'a'.repeat(980) + KEY + 'tail', chunkChars: 1 });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(r)?.code).toBe('bad_response');
    // 20 characters of the key arrived before the cap: the run is gone, the rest of the text stays.
    expect(textOf(r, 1)).toMatch(/a{980}\[redacted\]$/);
  });

  it('a stream that breaks off in the middle of the key', async () => {
    const t = await harness();
    stream(t.emulator, { kind: 'stream', text: `hello ${KEY} more`, chunkChars: 4, endAfterFrames: 8 });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(r)?.code).toBe('stream_interrupted');
    expect(textOf(r, 1)).toMatch(/hello \[redacted\]/);
  });

  it("the stream's model field and the request id header carry the key", async () => {
    const t = await harness();
    stream(t.emulator, { kind: 'stream', text: 'fine', model: KEY, headers: { 'x-oneapi-request-id': `req-${KEY}` } });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(r.isError).toBeFalsy();
    expect(structured(r)['model']).toBe('[redacted]');
    expect(structured(r)['request_id']).toBe('req-[redacted]');
  });

  it('catalog ids and owned_by that carry the key: list_models, resources, completion', async () => {
    const t = await harness();
    t.emulator.setModels([...DEFAULT_MODELS, { id: `m-${KEY}`, owned_by: KEY, supported_endpoint_types: ['openai'] }]);
    const listed = await t.call('list_models', {});
    expect(textOf(listed)).toContain('m-[redacted]');
    const resources = await t.client.listResources();
    expect(resources.resources.some((r) => r.name === 'm-[redacted]')).toBe(true);
    await t.client.readResource({ uri: 'ezrouter://models' });
    await t.client.complete({ ref: { type: 'ref/resource', uri: 'ezrouter://models/{id}' }, argument: { name: 'id', value: 'm-' } });
  });

  it('balance fields (values and property names) that carry the key', async () => {
    const t = await harness();
    t.emulator.setBalance({ data: { balance: 1, currency: KEY, note: `for ${KEY}`, [KEY]: 2 } });
    const r = await t.call('get_balance', {});
    expect(r.isError).toBeFalsy();
    expect(structured(r)['currency']).toBe('[redacted]');
  });

  it('error messages with the key without sk-, URL-encoded, and base64-encoded', async () => {
    const t = await harness();
    const basic = Buffer.from(`user:${KEY}`).toString('base64');
    t.emulator.script({ kind: 'error', status: 400, body: { error: { code: 'invalid_request', message: `bad key ${BODY} ${encodeURIComponent(KEY)} Basic ${basic}`, type: 'x' } } });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(r)?.code).toBe('invalid_request');
    expect(textOf(r)).toMatch(/bad key \[redacted\] \[redacted\] Basic dXNlcjp\[redacted\]/);
  });

  it('a short key (a local test gateway\'s "test") is removed only as a whole token', () => {
    const redact = createRedactor('test');
    expect(redact.secretOnly('a test of testing, attest; test.')).toBe('a [redacted] of testing, attest; [redacted].');
  });

  it('a short key: its body, URL-encoded and base64 forms are removed as whole tokens, never inside words', () => {
    const short = 'sk-abc+def/gh';
    const body = short.slice(3);
    const redact = createRedactor(short);
    const b64 = (t: string, url = false): string => Buffer.from(t).toString(url ? 'base64url' : 'base64');
    const rows: [string, string][] = [
      [`key ${short}.`, 'key [redacted].'],
      [`body ${body}.`, 'body [redacted].'],
      [`url ${encodeURIComponent(short)} ${encodeURIComponent(body)}`, 'url [redacted] [redacted]'],
      [`b64 ${b64(short)} ${b64(body)} ${b64(short, true)} ${b64(body, true)}`, 'b64 [redacted] [redacted] [redacted] [redacted]'],
      [`unpadded ${b64(body).replace(/=+$/, '')};`, 'unpadded [redacted];'],
      // Inside ordinary words nothing is touched.
      [`x${body} ${body}x sk-abc+def/ghi`, `x${body} ${body}x sk-abc+def/ghi`],
    ];
    for (const [input, expected] of rows) expect(redact.secretOnly(input)).toBe(expected);
    // Inside a longer base64 string (Basic auth), its stable base64 run is removed.
    const basic = b64(`user:${short}`);
    expect(redact.secretOnly(`Basic ${basic}`)).not.toContain(basic.slice(8, 20));
    expect(redact.secretOnly(`Basic ${basic}`)).toMatch(/\[redacted\]/);
  });

  it('a short key echoed by the gateway in each form reaches no output (stdio harness)', async () => {
    const short = 'sk-abc+def/gh';
    const body = short.slice(3);
    const t = await harness({ emulator: { apiKey: short } });
    const said = `${short} ${body} ${encodeURIComponent(body)} ${Buffer.from(body).toString('base64')} Basic ${Buffer.from(`u:${short}`).toString('base64')}`;
    t.emulator.script({ kind: 'error', status: 400, body: { error: { code: 'invalid_request', message: said, type: 'x' } } });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(r)?.code).toBe('invalid_request');
    const out = [...t.received, ...t.logs].join('\n');
    for (const form of [short, body, encodeURIComponent(body), Buffer.from(body).toString('base64').replace(/=+$/, '')]) expect(out).not.toContain(form);
  });

  it('a key under 4 characters is not redacted at all (it would take ordinary words with it)', () => {
    expect(MIN_WHOLE_TOKEN).toBe(4);
    expect(createRedactor('abc').secretOnly('abc is abc')).toBe('abc is abc');
    // So the server says so at startup.
    expect(unredactableKeyWarning('abc')).toMatch(/under 4 characters: it is not redacted/);
    expect(unredactableKeyWarning('test')).toBeUndefined();
  });

  it('stdout and stderr of the stdio server at debug, through a whole session', async () => {
    const emulator = await startEmulator({ apiKey: KEY });
    try {
      emulator.script({ kind: 'stream', text: `echo ${KEY}`, model: BODY });
      emulator.script({ kind: 'error', status: 500, body: { error: { code: '', message: `upstream said ${KEY}`, type: 'upstream_error' } } });
      const env = { ...process.env, EZROUTER_API_KEY: KEY, EZROUTER_BASE_URL: emulator.url, EZROUTER_LOG_LEVEL: 'debug', EZROUTER_MAX_RETRIES: '0' } as Record<string, string>;
      const transport = new StdioClientTransport({ command: process.execPath, args: [BIN], env, stderr: 'pipe' });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const seen: string[] = [];
      const client = new Client({ name: 'hostile-stdio', version: '0' });
      await client.connect(transport);
      const onmessage = transport.onmessage;
      transport.onmessage = (message) => {
        seen.push(JSON.stringify(message));
        onmessage?.(message);
      };
      const ok = (await client.callTool({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } })) as CallToolResult;
      expect(textOf(ok)).toBe('echo [redacted]');
      const failed = (await client.callTool({ name: 'complete', arguments: { prompt: 'x', model: 'gpt-5.2' } })) as CallToolResult;
      expect(errorMeta(failed)?.code).toBe('upstream_error');
      await client.close();
      expect(seen.length).toBeGreaterThan(1);
      expectNoKey('stdout', seen.join('\n'));
      expect(stderr).toMatch(/ready on stdio/);
      expectNoKey('stderr', stderr);
    } finally {
      await emulator.close();
    }
  });

  it('the configuration-error line on stderr', async () => {
    // A key pasted into the wrong variable: the line names the variable, never the key.
    const { code, stderr } = await runCli([], { EZROUTER_API_KEY: KEY, EZROUTER_BASE_URL: KEY });
    expect(code).toBe(2);
    expect(stderr).toMatch(/EZROUTER_BASE_URL must be an http/);
    expectNoKey('stderr', stderr);
  });

  it('the doctor report, with the key echoed back by a gateway that rejects it', async () => {
    const emulator = await startEmulator(); // its own key: ours is wrong, and echoed in the 401
    try {
      let out = '';
      const exit = await runDoctor({ env: { EZROUTER_API_KEY: KEY, EZROUTER_BASE_URL: emulator.url }, write: (text) => (out += text) });
      expect(exit).toBe(1);
      expect(out).toMatch(/invalid_api_key/);
      expectNoKey('doctor', out);
    } finally {
      await emulator.close();
    }
  });
});

describe('2. bounded work on caller input', () => {
  it('a 1 MB model id: refused unsent with a short error, and the server answers a ping meanwhile', async () => {
    const t = await harness();
    const model = `claude-sonet-4-6${'x'.repeat(1024 * 1024)}`;
    const call = t.call('complete', { prompt: 'x', model });
    const started = Date.now();
    await t.client.ping();
    const pingMs = Date.now() - started;
    const r = await call;
    expect(errorMeta(r)?.code).toBe('invalid_request');
    expect(textOf(r).length).toBeLessThan(700);
    expect(t.emulator.count('/v1/chat')).toBe(0);
    // A hang detector (a few ms are normal): comparing a 1 MB id with the catalog took seconds.
    expect(pingMs).toBeLessThan(250);
  });

  it('suggestions compare a bounded prefix of the requested id', async () => {
    const started = Date.now();
    const models = DEFAULT_MODELS.map((m) => ({ id: m.id, surfaces: [], endpointTypes: m.supported_endpoint_types }));
    expect(suggestModels(`claude-sonet-4-6${'x'.repeat(1024 * 1024)}`, models)[0]).toBe('claude-sonnet-4-6');
    expect(Date.now() - started).toBeLessThan(250); // hang detector: the full comparison took seconds
    const t = await harness();
    const r = await t.call('complete', { prompt: 'x', model: `claude-sonet-4-6${'x'.repeat(200)}`, surface: 'openai' });
    expect(errorMeta(r)?.code).toBe('model_unavailable');
    expect(textOf(r)).toMatch(/Closest catalog ids: claude-sonnet-4-6/);
    expect(textOf(r).length).toBeLessThan(700);
  });

  it('suggestions reached with a valid-length adversarial id against a large catalog of long ids stay bounded', async () => {
    const t = await harness();
    // 4,000 ids of 1,000 characters (about 4 MB of catalog, under the 8 MiB the server reads), all near the request.
    const many = Array.from({ length: 4_000 }, (_, i) => ({ id: `claude-${String(i).padStart(4, '0')}-${'y'.repeat(988)}`, owned_by: 'x', supported_endpoint_types: ['openai'] }));
    t.emulator.setModels(many);
    const model = `claude-${'y'.repeat(MAX_MODEL_ID_CHARS - 'claude-'.length)}`; // as long as the length check lets through
    expect(model).toHaveLength(MAX_MODEL_ID_CHARS);
    // Hang guard: the longest the event loop was blocked during the call (scoring all of it blocked it for seconds).
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const r = await t.call('complete', { prompt: 'x', model, surface: 'openai' });
    loop.disable();
    expect(loop.max / 1e6).toBeLessThan(1_000);
    expect(t.emulator.count('/v1/chat')).toBe(1); // the suggestion code was reached: the gateway refused the model
    expect(errorMeta(r)?.code).toBe('model_unavailable');
    const hint = /Closest catalog ids: (.*?)\. Call list_models/.exec(textOf(r))?.[1];
    expect(hint).toBeDefined();
    const suggestions = hint!.split(', ');
    expect(suggestions.length).toBeGreaterThan(0);
    expect(suggestions.length).toBeLessThanOrEqual(5);
    for (const s of suggestions) expect(s.length).toBeLessThanOrEqual(64);
    // Five 1,000-character ids quoted whole made a 5,000-character error; the gateway's own (echoed) sentence follows the hint.
    expect(textOf(r).length).toBeLessThan(1_000);
  });

  it('huge upstream codes, request ids and Location headers are quoted as short excerpts', async () => {
    const t = await harness();
    t.emulator.script({ kind: 'error', status: 403, body: { error: { code: 'c'.repeat(10_000), message: 'm'.repeat(30_000), type: 'x' } }, headers: { 'x-oneapi-request-id': 'r'.repeat(10_000) } });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(r)?.upstream_code?.length).toBeLessThanOrEqual(80);
    expect(errorMeta(r)?.request_id?.length).toBeLessThanOrEqual(80);
    expect(textOf(r).length).toBeLessThan(700);

    t.emulator.script({ kind: 'error', status: 302, headers: { location: `https://elsewhere.example/${'p'.repeat(10_000)}` } });
    const redirect = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(redirect)?.code).toBe('bad_response');
    expect(textOf(redirect).length).toBeLessThan(700);
  });

  it('a 1 MB unknown resource id is refused with a short message', async () => {
    const t = await harness();
    const error = await t.client.readResource({ uri: `ezrouter://models/${'z'.repeat(1024 * 1024)}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((error as McpError).message.length).toBeLessThan(500);
  });

  it('a 10 kB currency is shown as an excerpt', async () => {
    const t = await harness();
    t.emulator.setBalance({ balance: 3, currency: 'Q'.repeat(10_000) });
    const r = await t.call('get_balance', {});
    expect(textOf(r).length).toBeLessThan(300);
  });
});

describe('3. no prototype lookups of upstream strings', () => {
  for (const reason of ['constructor', '__proto__', 'toString', 'valueOf']) {
    it(`stop_reason / finish_reason "${reason}" is an unknown value, the answer kept`, async () => {
      const t = await harness();
      stream(t.emulator, { kind: 'stream', text: 'kept', finishReason: reason });
      const anthropic = await t.call('complete', { prompt: 'x', model: 'claude-sonnet-4-6', surface: 'anthropic' });
      expect(anthropic.isError).toBeFalsy();
      expect(structured(anthropic)).toMatchObject({ text: 'kept', finish_reason: reason });
      stream(t.emulator, { kind: 'stream', text: 'kept', finishReason: reason });
      const openai = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
      expect(structured(openai)).toMatchObject({ text: 'kept', finish_reason: reason });
    });
  }

  it('error types and codes named after Object.prototype members map to the generic code', async () => {
    const t = await harness();
    const body = sse([{ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'constructor', message: 'odd' } }) }]);
    t.emulator.script({ kind: 'raw', data: raw('200 OK', { 'content-type': 'text/event-stream' }, body) });
    const anthropic = await t.call('complete', { prompt: 'x', model: 'claude-sonnet-4-6', surface: 'anthropic' });
    expect(errorMeta(anthropic)?.code).toBe('upstream_error');
    t.emulator.script({ kind: 'error', status: 403, body: { error: { code: '__proto__', message: 'odd', type: 'toString' } } });
    const denied = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(denied)).toMatchObject({ code: 'permission_denied', upstream_code: '__proto__' });
  });
});

describe('4. resources survive hostile catalog ids', () => {
  const hostile: EmulatorModel[] = [
    { id: 'bad\uD800id', owned_by: 'x', supported_endpoint_types: ['openai'] },
    { id: 'ctl\u0001id', owned_by: 'x', supported_endpoint_types: ['openai'] },
    { id: '.', owned_by: 'x', supported_endpoint_types: ['openai'] },
    { id: '..', owned_by: 'x', supported_endpoint_types: ['openai'] },
    { id: 'with/slash?and#hash', owned_by: 'x', supported_endpoint_types: ['openai'] },
  ];

  it('an id that cannot be a URI is left out (logged once); every listed URI reads its own model', async () => {
    const t = await harness();
    t.emulator.setModels([...DEFAULT_MODELS, ...hostile]);
    const first = await t.client.listResources();
    await t.client.listResources();
    const names = first.resources.map((r) => r.name);
    expect(names).not.toContain('bad\uD800id');
    expect(names).toEqual(expect.arrayContaining(['ctl\u0001id', '.', '..', 'with/slash?and#hash', 'gpt-5.2']));
    expect(t.logs.filter((l) => /cannot be written as a resource URI/.test(l))).toHaveLength(1);
    for (const resource of first.resources.filter((r) => r.uri.startsWith('ezrouter://models/'))) {
      const read = await t.client.readResource({ uri: resource.uri });
      const body = JSON.parse((read.contents[0] as { text: string }).text) as { id: string };
      expect(body.id).toBe(resource.name);
    }
    // The dot ids are written %2E: no URL normalisation can turn them into the catalog itself.
    expect(first.resources.find((r) => r.name === '..')?.uri).toBe('ezrouter://models/%2E%2E');
  });

  it('ezrouter://models/.. names the model "..", never the catalog or another model', async () => {
    const t = await harness();
    const missing = await t.client.readResource({ uri: 'ezrouter://models/..' }).catch((e: unknown) => e);
    expect((missing as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((missing as McpError).data).toEqual({ uri: 'ezrouter://models/..' });
  });

  it('a malformed percent-escape is -32602 with a hint, not an internal error', async () => {
    const t = await harness();
    const error = await t.client.readResource({ uri: 'ezrouter://models/claude%E0%A4%A' }).catch((e: unknown) => e);
    expect((error as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((error as McpError).message).toMatch(/malformed percent-escape/);
    expect((error as McpError).data).toEqual({ uri: 'ezrouter://models/claude%E0%A4%A' });
  });

  it('an unknown resource is -32602 with data.uri, as the specification shows', async () => {
    const t = await harness();
    for (const uri of ['ezrouter://models/no-such-model', 'ezrouter://nothing/here', 'not a uri']) {
      const error = await t.client.readResource({ uri }).catch((e: unknown) => e);
      expect((error as McpError).code).toBe(ErrorCode.InvalidParams);
      expect((error as McpError).data).toEqual({ uri });
    }
  });
});

describe('5. honest codes for odd failures', () => {
  const deep = `{"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;

  it('a catalog and a balance nested too deep to handle are bad_response, not retried', async () => {
    const t = await harness();
    t.emulator.script({ kind: 'raw', data: raw('200 OK', { 'content-type': 'application/json' }, deep) }, { path: '/v1/models' });
    const models = await t.call('list_models', {});
    expect(errorMeta(models)).toMatchObject({ code: 'bad_response', retryable: false });
    t.emulator.script({ kind: 'raw', data: raw('200 OK', { 'content-type': 'application/json' }, deep) }, { path: '/v1/user/balance' });
    const balance = await t.call('get_balance', {});
    expect(errorMeta(balance)).toMatchObject({ code: 'bad_response', retryable: false });
    expect(t.emulator.count('/v1/user/balance')).toBe(1);
  });

  it('a bug inside the server is internal_error, not retryable', async () => {
    const emulator = await startEmulator({ apiKey: KEY });
    const config = loadConfig({ EZROUTER_API_KEY: KEY, EZROUTER_BASE_URL: emulator.url });
    class BuggyClient extends EzrouterClient {
      override balance(): never {
        throw new TypeError(`cannot read properties of undefined (key ${KEY})`);
      }
    }
    const buggy = new BuggyClient({ config, log: silentLogger, userAgent: 'test' });
    const { server, close } = createServer(config, { client: buggy, log: silentLogger });
    const client = new Client({ name: 'buggy', version: '0' });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(b), client.connect(a)]);
    try {
      const r = (await client.callTool({ name: 'get_balance', arguments: {} })) as CallToolResult;
      expect(errorMeta(r)).toMatchObject({ code: 'internal_error', retryable: false });
      expect(textOf(r)).toMatch(/TypeError: cannot read properties of undefined/);
      expectNoKey('internal error', textOf(r));
    } finally {
      await client.close();
      await close();
      await buggy.close();
      await emulator.close();
    }
  });

  const oddResponses: { name: string; data: string; message: RegExp }[] = [
    {
      name: 'a compressed body nobody asked for',
      data: raw('200 OK', { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' }, '\u001f\u008b\u0008\u0000garbage'),
      message: /compressed body \("gzip"\)/,
    },
    {
      name: 'response headers over the parser limit',
      data: raw('200 OK', { 'content-type': 'text/event-stream', 'x-padding': 'p'.repeat(70_000) }, 'data: [DONE]\n\n'),
      message: /headers larger than/,
    },
    {
      name: 'an unsolicited 100 Continue',
      data: `HTTP/1.1 100 Continue\r\n\r\n${raw('200 OK', { 'content-type': 'text/event-stream' }, 'data: [DONE]\n\n')}`,
      message: /interim response .*100 Continue/,
    },
  ];
  for (const odd of oddResponses) {
    it(`${odd.name} is bad_response with its own sentence, not retried`, async () => {
      const t = await harness();
      t.emulator.script({ kind: 'raw', data: odd.data });
      const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
      expect(errorMeta(r)).toMatchObject({ code: 'bad_response', retryable: false });
      expect(textOf(r)).toMatch(odd.message);
      expect(textOf(r)).not.toMatch(/Could not reach/);
      expect(t.emulator.count('/v1/chat')).toBe(1);
    });
  }

  it('a key with a newline (or another character a header cannot carry) is a configuration error, exit 2', async () => {
    for (const key of [`${KEY}\nsecond line`, `${KEY}\u0007`, `${KEY}é€`]) {
      const { code, stderr } = await runCli([], { EZROUTER_API_KEY: key });
      expect(code).toBe(2);
      expect(stderr).toMatch(/EZROUTER_API_KEY contains a character that cannot be sent in an HTTP header/);
      expectNoKey('stderr', stderr);
    }
  });

  it('every tool input schema is closed, nested objects included; an unknown argument is refused', async () => {
    const t = await harness();
    const { tools } = await t.client.listTools();
    for (const tool of tools) expect(tool.inputSchema, tool.name).toMatchObject({ additionalProperties: false });
    const complete = tools.find((x) => x.name === 'complete')!;
    const messages = (complete.inputSchema.properties as Record<string, { items?: unknown }>)['messages'];
    expect(messages?.items).toMatchObject({ additionalProperties: false });
    const r = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', promt: 'typo' });
    expect(r.isError).toBe(true);
    expect(t.emulator.count('/v1/chat')).toBe(0);
  });
});

describe('6. bounded under pressure', () => {
  it('while GET /v1/models hangs, auto waits about 2 s for the catalog, then uses OpenAI', async () => {
    const t = await harness({ env: { EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' } });
    t.emulator.script({ kind: 'stall' }, { path: '/v1/models' });
    const started = Date.now();
    const r = await t.call('complete', { prompt: 'x', model: 'claude-sonnet-4-6' });
    const elapsed = Date.now() - started;
    expect(structured(r)['surface']).toBe('openai');
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000); // not the 20 s idle timeout
  });

  it('upstream calls in flight are bounded (EZROUTER_MAX_CONCURRENCY, default 16); the rest queue and succeed', async () => {
    const t = await harness();
    for (let i = 0; i < 40; i++) stream(t.emulator, { kind: 'stream', text: 'y'.repeat(64), chunkChars: 8, frameDelayMs: 5 });
    const results = await Promise.all(Array.from({ length: 40 }, () => t.call('complete', { prompt: 'x', model: 'gpt-5.2' })));
    expect(results.every((r) => !r.isError)).toBe(true);
    expect(t.emulator.count('/v1/chat')).toBe(40);
    expect(t.emulator.inFlight.peak).toBeLessThanOrEqual(16);
    expect(t.emulator.inFlight.peak).toBeGreaterThan(1);
  });

  it('the call deadline covers the wait for a slot, and a call cancelled in the queue never goes upstream', async () => {
    // A background job runs on EZROUTER_TIMEOUT_MS (20 s) and holds the only slot; plain calls get
    // the client's shorter deadline (EZROUTER_CLIENT_TIMEOUT_MS 2,600 minus the 2,000 margin = 600 ms),
    // so they end while the slot is still taken: no two deadlines race for it.
    const t = await harness({ env: { EZROUTER_MAX_CONCURRENCY: '1', EZROUTER_TIMEOUT_MS: '20000', EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_CLIENT_TIMEOUT_MS: '2600', EZROUTER_MAX_RETRIES: '0' } });
    t.emulator.script({ kind: 'stall' });
    const started = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', background: true });
    const { id } = structured(started)['job'] as { id: string };
    const holding = await waitFor(() => t.emulator.requests.find((r) => r.path === '/v1/chat/completions'));

    const queued = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(queued)?.code).toBe('timeout');
    expect(textOf(queued)).toMatch(/waited its whole deadline \(600 ms\) for a free slot and never reached ezrouter/);

    const controller = new AbortController();
    const cancelled = t.call('complete', { prompt: 'x', model: 'gpt-5.2' }, { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 50);
    expect(await cancelled).toBeInstanceOf(Error);
    expect(t.emulator.count('/v1/chat')).toBe(1);

    // Freeing the slot: the job's upstream request closes, and the next call is the second to go upstream.
    await t.call('complete', { job_id: id, cancel: true });
    expect(await holding.closed).toEqual({ aborted: true });
    const after = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(after.isError).toBeFalsy();
    expect(t.emulator.count('/v1/chat')).toBe(2);
  });

  it('past EZROUTER_MAX_QUEUE waiting calls, a call is refused at once (rate_limited), not queued', async () => {
    // As above: a background job (on EZROUTER_TIMEOUT_MS) holds the only slot for the whole test;
    // plain calls get the client's 600 ms deadline.
    const t = await harness({ env: { EZROUTER_MAX_CONCURRENCY: '1', EZROUTER_MAX_QUEUE: '1', EZROUTER_TIMEOUT_MS: '20000', EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_CLIENT_TIMEOUT_MS: '2600', EZROUTER_MAX_RETRIES: '0' } });
    t.emulator.script({ kind: 'stall' });
    const started = await t.call('complete', { prompt: 'x', model: 'gpt-5.2', background: true });
    const { id } = structured(started)['job'] as { id: string };
    await waitFor(() => (t.emulator.count('/v1/chat') === 1 ? true : undefined));
    const queued = t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await t.call('complete', { prompt: 'x', model: 'gpt-5.2' });
    expect(errorMeta(refused)).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(textOf(refused)).toMatch(/ezrouter-mcp is busy: 1 calls are in flight and 1 more are waiting/);
    // The queued call waited (and timed out there); only the job ever went upstream.
    expect(textOf(await queued)).toMatch(/for a free slot and never reached ezrouter/);
    await t.call('complete', { job_id: id, cancel: true });
    expect(t.emulator.count('/v1/chat')).toBe(1);
  });

  it('a huge catalog is paginated in resources/list; completion reports total and hasMore truthfully', async () => {
    const t = await harness();
    const many = Array.from({ length: 1200 }, (_, i) => ({ id: `m-${String(i).padStart(4, '0')}`, owned_by: 'x', supported_endpoint_types: ['openai'] }));
    t.emulator.setModels(many);
    const uris: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.client.listResources(cursor === undefined ? {} : { cursor });
      expect(page.resources.length).toBeLessThanOrEqual(500);
      uris.push(...page.resources.map((r) => r.uri));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(uris).toHaveLength(1201);
    expect(new Set(uris).size).toBe(1201);
    const bad = await t.client.listResources({ cursor: 'not-a-cursor' }).catch((e: unknown) => e);
    expect((bad as McpError).code).toBe(ErrorCode.InvalidParams);
    const completion = await t.client.complete({ ref: { type: 'ref/resource', uri: 'ezrouter://models/{id}' }, argument: { name: 'id', value: 'm-' } });
    expect(completion.completion).toMatchObject({ total: 1200, hasMore: true });
    expect(completion.completion.values).toHaveLength(100);
  });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}
