/** The stdin line guard: lines under the cap pass byte for byte, longer lines are dropped. */
import { describe, expect, it } from 'vitest';
import { StdinLineGuard } from '../src/stdin-guard.js';

async function run(chunks: string[], max: number): Promise<{ out: string; dropped: number[] }> {
  const dropped: number[] = [];
  const guard = new StdinLineGuard(max, (n) => dropped.push(n));
  const out: Buffer[] = [];
  guard.on('data', (c: Buffer) => out.push(Buffer.from(c)));
  const done = new Promise((r) => guard.on('end', r));
  for (const c of chunks) guard.write(Buffer.from(c));
  guard.end();
  await done;
  return { out: Buffer.concat(out).toString(), dropped };
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

  it('ends a partly passed long line with a newline so the next message parses', async () => {
    const { out } = await run(['xxxxx', 'x'.repeat(30) + '\n{"ok":3}\n'], 20);
    expect(out).toBe('xxxxx\n{"ok":3}\n');
  });
});
