/**
 * Power tools (issue 11): `compare` (several models at once) and `files` as context, against the
 * emulator, which records every request body.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ListRootsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFiles } from '../src/files/read-files.js';
import { errorMeta, startHarness, textOf, waitFor, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const structured = (r: CallToolResult): Record<string, unknown> => (r.structuredContent ?? {}) as Record<string, unknown>;
type Answer = { model: string; text?: string; error?: { code: string; message: string }; usage?: { completion_tokens?: number }; truncated?: { uri: string; returned_chars: number; total_chars: number } };
const answersOf = (r: CallToolResult): Answer[] => structured(r)['answers'] as Answer[];
const lastUserText = (body: unknown): string => {
  const messages = (body as { messages: { role: string; content: string }[] }).messages;
  return messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
};

describe('compare: several models at once', () => {
  it('three models, one failing: two answers and one error, concurrently, with summed usage', async () => {
    const t = (h = await startHarness());
    t.emulator.script({ kind: 'stream', text: 'answer from gpt', frameDelayMs: 30, chunkChars: 3 }, { model: 'gpt-5.2' });
    t.emulator.script({ kind: 'stream', text: 'answer from deepseek', frameDelayMs: 30, chunkChars: 3 }, { model: 'deepseek-v4-pro' });
    t.emulator.script({ kind: 'error', status: 403, body: { error: { code: 'access_denied', message: 'nope', type: 'new_api_error' } } }, { model: 'glm-5.1' });
    // No request is answered until all three have arrived: a compare that sent them one by one would never finish.
    t.emulator.hold(3);
    const r = await t.call('compare', { prompt: 'which is best?', models: ['gpt-5.2', 'deepseek-v4-pro', 'glm-5.1'] });
    expect(r.isError).toBeFalsy();
    const answers = answersOf(r);
    expect(answers.map((a) => a.model)).toEqual(['gpt-5.2', 'deepseek-v4-pro', 'glm-5.1']);
    expect(answers[0]).toMatchObject({ text: 'answer from gpt', surface: 'openai', finish_reason: 'stop' });
    expect(answers[1]).toMatchObject({ text: 'answer from deepseek' });
    expect(answers[2]?.error?.code).toBe('model_unavailable');
    const usage = structured(r)['usage'] as { completion_tokens: number };
    expect(usage.completion_tokens).toBe((answers[0]?.usage?.completion_tokens ?? 0) + (answers[1]?.usage?.completion_tokens ?? 0));
    // The upstream requests overlapped: all three were in flight at once (held until the third arrived).
    expect(t.emulator.inFlight.peak).toBeGreaterThanOrEqual(3);
    expect(t.emulator.count('/v1/chat')).toBe(3);
    expect(textOf(r)).toMatch(/## gpt-5\.2 \(openai, finish: stop.*\n\nanswer from gpt[\s\S]*## glm-5\.1\n\nFAILED: /);
  });

  it('every model failing is isError; a model named twice is refused', async () => {
    const t = (h = await startHarness());
    const r = await t.call('compare', { prompt: 'x', models: ['no-such-a', 'no-such-b'] });
    expect(r.isError).toBe(true);
    expect(answersOf(r).every((a) => a.error?.code === 'model_unavailable')).toBe(true);
    const twice = await t.call('compare', { prompt: 'x', models: ['gpt-5.2', 'gpt-5.2'] });
    expect(errorMeta(twice)?.code).toBe('invalid_request');
  });

  it('cancellation aborts every upstream request', async () => {
    const t = (h = await startHarness());
    for (const model of ['gpt-5.2', 'gpt-5.1', 'kimi-k2.6']) t.emulator.script({ kind: 'stream', text: 'slow '.repeat(50), chunkChars: 5, stallAfterFrames: 2 }, { model });
    const controller = new AbortController();
    const call = t.call('compare', { prompt: 'x', models: ['gpt-5.2', 'gpt-5.1', 'kimi-k2.6'] }, { signal: controller.signal }).catch(() => undefined);
    await waitFor(() => (t.emulator.requests.filter((r) => r.path === '/v1/chat/completions').length === 3 ? true : undefined));
    controller.abort();
    await call;
    const closed = await Promise.all(t.emulator.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.closed));
    expect(closed).toEqual([{ aborted: true }, { aborted: true }, { aborted: true }]);
  });

  it("the budget is split between the answers; each one that does not fit links to all of it", async () => {
    const t = (h = await startHarness({ clientName: 'codex-mcp-client' }));
    const texts = { 'gpt-5.2': 'g'.repeat(30_000), 'gpt-5.1': 'short answer', 'kimi-k2.6': 'k'.repeat(30_000) };
    for (const [model, text] of Object.entries(texts)) t.emulator.script({ kind: 'stream', text, chunkChars: 1000 }, { model });
    const r = await t.call('compare', { prompt: 'x', models: Object.keys(texts) });
    const response = t.received.filter((m) => m.includes('"answers"')).at(-1) ?? '';
    expect(Buffer.byteLength(response)).toBeLessThanOrEqual(20_480);
    const answers = answersOf(r);
    expect(answers[1]).toMatchObject({ text: 'short answer' });
    expect(answers[1]?.truncated).toBeUndefined();
    for (const i of [0, 2]) {
      const a = answers[i]!;
      expect(a.truncated?.total_chars).toBe(30_000);
      expect(a.text!.length).toBeGreaterThan(2_000);
      const rest = await t.client.readResource({ uri: `${a.truncated!.uri}?offset=0` });
      expect(texts[a.model as keyof typeof texts].startsWith((rest.contents[0] as { text: string }).text)).toBe(true);
    }
    expect(r.content.filter((c) => c.type === 'resource_link')).toHaveLength(2);
  });
});

describe('files as context', () => {
  let base: string;
  let root: string;
  let outside: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'ezrouter-files-'));
    root = join(base, 'project');
    outside = join(base, 'elsewhere');
    mkdirSync(join(root, 'src'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'src', 'main.ts'), 'export const answer = 42;\n// ```fenced``` inside\n');
    writeFileSync(join(root, 'binary.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    writeFileSync(join(root, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    writeFileSync(join(root, 'big.txt'), 'b'.repeat(500));
    writeFileSync(join(outside, 'secret.txt'), 'not for the model');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const sendWith = async (t: Harness, files: string[]): Promise<CallToolResult> => t.call('complete', { prompt: 'review this', model: 'gpt-5.2', files });

  it('a file inside a root is sent verbatim, in a fenced block labelled with its path', async () => {
    const t = (h = await startHarness({ env: { EZROUTER_FILE_ROOTS: root } }));
    const r = await sendWith(t, ['src/main.ts']);
    expect(r.isError).toBeFalsy();
    const sent = lastUserText(t.emulator.requests.at(-1)!.body);
    expect(sent).toBe('review this\n\nFile: src/main.ts\n````\nexport const answer = 42;\n// ```fenced``` inside\n````');
  });

  it('outside the roots, through a symlink or "..", a directory, a binary, a non-UTF-8 and an oversized file are each refused with a precise sentence', async () => {
    const t = (h = await startHarness({ env: { EZROUTER_FILE_ROOTS: root, EZROUTER_FILE_MAX_BYTES: '100' } }));
    const cases: [string, RegExp][] = [
      [join(outside, 'secret.txt'), /is outside the allowed roots/],
      ['link.txt', /"link.txt" is outside the allowed roots .*after following links/],
      ['../elsewhere/secret.txt', /is outside the allowed roots/],
      ['src', /"src" is a directory/],
      ['binary.bin', /"binary.bin" is a binary file/],
      ['latin1.txt', /"latin1.txt" is not UTF-8 text/],
      ['big.txt', /"big.txt" has 500 bytes, over the 100-byte limit per file \(EZROUTER_FILE_MAX_BYTES\)/],
      ['missing.txt', /"missing.txt" cannot be read: it does not exist/],
    ];
    for (const [path, message] of cases) {
      const r = await sendWith(t, ['src/main.ts', path]);
      expect(errorMeta(r)?.code, path).toBe('invalid_request');
      expect(textOf(r), path).toMatch(message);
    }
    expect(t.emulator.count('/v1/chat')).toBe(0);
  });

  it('the total of a call is capped too', async () => {
    const t = (h = await startHarness({ env: { EZROUTER_FILE_ROOTS: root, EZROUTER_FILES_MAX_BYTES: '520' } }));
    const r = await sendWith(t, ['src/main.ts', 'big.txt']);
    expect(textOf(r)).toMatch(/"big.txt" would bring the files to \d+ bytes, over the 520-byte limit per call/);
  });

  it('with neither client roots nor EZROUTER_FILE_ROOTS, files are refused, saying how to allow them', async () => {
    const t = (h = await startHarness());
    const r = await sendWith(t, ['src/main.ts']);
    expect(textOf(r)).toMatch(/Files are not allowed: .*Set EZROUTER_FILE_ROOTS/);
  });

  it("the client's roots are honoured, and updated when it says they changed", async () => {
    let roots = [root];
    const t = (h = await startHarness({
      env: { EZROUTER_FILE_ROOTS: outside }, // the client's roots win over the variable
      clientCapabilities: { roots: { listChanged: true } },
      beforeConnect: (client) => client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: roots.map((r) => ({ uri: pathToFileURL(r).href, name: 'project' })) })),
    }));
    expect((await sendWith(t, [join(root, 'src', 'main.ts')])).isError).toBeFalsy();
    expect(textOf(await sendWith(t, [join(outside, 'secret.txt')]))).toMatch(/outside the allowed roots.*the roots this client shared/);
    roots = [outside];
    await t.client.sendRootsListChanged();
    await waitFor(() => (t.logs.some((l) => /the client changed its roots/.test(l)) ? true : undefined));
    expect((await sendWith(t, [join(outside, 'secret.txt')])).isError).toBeFalsy();
    expect(textOf(await sendWith(t, [join(root, 'src', 'main.ts')]))).toMatch(/outside the allowed roots/);
  });

  it('a path swapped for a link between the check and the open cannot escape the roots', async () => {
    const dir = mkdtempSync(join(base, 'swap-'));
    const inside = join(dir, 'root');
    const away = join(dir, 'away');
    mkdirSync(join(inside, 'sub'), { recursive: true });
    mkdirSync(away);
    writeFileSync(join(inside, 'sub', 'notes.txt'), 'harmless notes');
    writeFileSync(join(inside, 'plain.txt'), 'harmless too');
    writeFileSync(join(away, 'notes.txt'), 'swapped-in secret');
    writeFileSync(join(away, 'plain.txt'), 'swapped-in secret');
    const caps = { fileMaxBytes: 1000, filesMaxBytes: 1000 };
    // The check (realpath) sees the real file; right after it, the attacker swaps the path.
    const swapping = (swap: () => void) => {
      let done = false;
      return {
        realpath: async (path: string) => {
          const real = await realpath(path);
          if (!done && path.endsWith('.txt')) {
            done = true;
            swap();
          }
          return real;
        },
      };
    };
    // A directory on the way replaced by a link to outside (O_NOFOLLOW alone would not catch it).
    const viaDirectory = await readFiles(['sub/notes.txt'], [inside], caps, swapping(() => {
      renameSync(join(inside, 'sub'), join(inside, 'sub-old'));
      symlinkSync(away, join(inside, 'sub'));
    }));
    expect(viaDirectory).toMatch(/^File "sub\/notes.txt" changed while it was checked \(it no longer leads inside the allowed roots\), so it is not read\.$/);
    // The file itself replaced by a link to outside.
    const viaFile = await readFiles(['plain.txt'], [inside], caps, swapping(() => {
      rmSync(join(inside, 'plain.txt'));
      symlinkSync(join(away, 'plain.txt'), join(inside, 'plain.txt'));
    }));
    expect(viaFile).toMatch(/^File "plain.txt" was replaced by a link while it was checked/);
    expect(JSON.stringify([viaDirectory, viaFile])).not.toContain('secret');
    // Unswapped, the same files are read.
    expect(await readFiles(['sub-old/notes.txt'], [inside], caps)).toEqual([{ path: 'sub-old/notes.txt', text: 'harmless notes' }]);
  });

  it('a file:// root of another host is reported as not local, not as an unanswered roots/list; local roots beside it still work', async () => {
    let uris = ['file://fileserver/share/project'];
    const t = (h = await startHarness({
      clientCapabilities: { roots: { listChanged: true } },
      beforeConnect: (client) => client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: uris.map((uri) => ({ uri, name: 'project' })) })),
    }));
    const refused = await sendWith(t, ['src/main.ts']);
    expect(errorMeta(refused)?.code).toBe('invalid_request');
    expect(textOf(refused)).toMatch(/None of this client's roots is a folder on this machine \(for example "file:\/\/fileserver\/share\/project", a file:\/\/ URI of another host\)/);
    expect(textOf(refused)).not.toMatch(/did not answer/);
    expect(t.logs.some((l) => /not a local folder/.test(l))).toBe(true);
    uris = ['file://fileserver/share/project', pathToFileURL(root).href];
    await t.client.sendRootsListChanged();
    await waitFor(() => (t.logs.some((l) => /the client changed its roots/.test(l)) ? true : undefined));
    expect((await sendWith(t, [join(root, 'src', 'main.ts')])).isError).toBeFalsy();
  });

  it('a server for remote callers (the HTTP mode) never reads files', async () => {
    const t = (h = await startHarness({ env: { EZROUTER_FILE_ROOTS: root }, deps: { readsFiles: false } }));
    expect(textOf(await sendWith(t, ['src/main.ts']))).toMatch(/HTTP mode, where it never reads its own disk/);
  });

  it('compare sends the same files to every model', async () => {
    const t = (h = await startHarness({ env: { EZROUTER_FILE_ROOTS: root } }));
    const r = await t.call('compare', { prompt: 'review', models: ['gpt-5.2', 'gpt-5.1'], files: ['src/main.ts'] });
    expect(r.isError).toBeFalsy();
    const bodies = t.emulator.requests.filter((q) => q.path === '/v1/chat/completions').map((q) => lastUserText(q.body));
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(body).toContain('File: src/main.ts\n````\nexport const answer = 42;');
  });
});
