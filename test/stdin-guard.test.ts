/** The stdin line guard: lines under the cap pass byte for byte, longer lines are dropped. */
import { describe, expect, it } from 'vitest';
import { StdinLineGuard } from '../src/transports/stdin-guard.js';

async function run(chunks: string[], max: number): Promise<{ out: string; dropped: number[]; ids: unknown[] }> {
  const dropped: number[] = [];
  const ids: unknown[] = [];
  const guard = new StdinLineGuard(max, ({ bytes, id }) => {
    dropped.push(bytes);
    ids.push(id);
  });
  const out: Buffer[] = [];
  guard.on('data', (c: Buffer) => out.push(Buffer.from(c)));
  const done = new Promise((r) => guard.on('end', r));
  for (const c of chunks) guard.write(Buffer.from(c));
  guard.end();
  await done;
  return { out: Buffer.concat(out).toString(), dropped, ids };
}

describe('StdinLineGuard', () => {
  it('passes lines under the cap unchanged, however they are chunked', async () => {
    const text = '{"a":1}\n{"b":2}\n{"c":3}\n';
    for (let i = 1; i < text.length; i++) {
      expect((await run([text.slice(0, i), text.slice(i)], 10)).out).toBe(text);
    }
  });

  it('drops a long line and keeps the next one', async () => {
    const { out, dropped } = await run(['{"ok":1}\n', 'x'.repeat(25), 'y'.repeat(25), '\n{"ok":2}\n'], 20);
    expect(out).toBe('{"ok":1}\n{"ok":2}\n');
    expect(dropped).toEqual([51]);
  });

  it.each([
    ['id last, as the SDK writes it', `{"method":"tools/call","params":{"x":"${'a'.repeat(2000)}"},"jsonrpc":"2.0","id":42}`, 42],
    ['id first', `{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"x":"${'a'.repeat(2000)}"}}`, 'req-7'],
    ['a nested id is not the request id', `{"jsonrpc":"2.0","method":"x","params":{"id":5,"x":"${'a'.repeat(2000)}"},"z":1}`, undefined],
  ])('reports the dropped request id (%s)', async (_name, line, id) => {
    const mid = Math.floor(line.length / 2);
    const { ids } = await run([line.slice(0, mid), line.slice(mid) + '\n'], 100);
    expect(ids).toEqual([id]);
  });

  it('ends a partly passed long line with a newline so the next message parses', async () => {
    const { out } = await run(['xxxxx', 'x'.repeat(30) + '\n{"ok":3}\n'], 20);
    expect(out).toBe('xxxxx\n{"ok":3}\n');
  });
});
