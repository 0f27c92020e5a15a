/** Progress notifications while text streams, and cancellation reaching the upstream socket. */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, textOf, waitFor, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('progress', () => {
  it('sends strictly increasing, throttled progress while text streams, none after the result', async () => {
    h = await startHarness();
    const text = 'x'.repeat(240);
    // 60 frames of 4 characters, 10 ms apart: ~600 ms of streaming.
    h.emulator.script({ kind: 'stream', text, chunkChars: 4, frameDelayMs: 10 });
    const events: { progress: number; message?: string; at: number }[] = [];
    let resultAt = 0;
    const result = await h.call('complete', { prompt: 'q', model: 'gpt-5.2' }, {
      onprogress: (p) => events.push({ progress: p.progress, message: p.message, at: Date.now() }),
    });
    resultAt = Date.now();
    expect(textOf(result)).toBe(text);
    expect(events.length).toBeGreaterThanOrEqual(2);
    // At most ~10 per second: 600 ms of streaming can't give more than a handful.
    expect(events.length).toBeLessThanOrEqual(12);
    for (let i = 1; i < events.length; i++) expect(events[i]!.progress).toBeGreaterThan(events[i - 1]!.progress);
    expect(events.at(-1)!.progress).toBeLessThanOrEqual(text.length);
    expect(events[0]!.message).toMatch(/characters received/);
    const countAtResult = events.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(events.length).toBe(countAtResult);
    expect(events.every((e) => e.at <= resultAt)).toBe(true);
  });

  it('sends nothing without a progress token', async () => {
    h = await startHarness();
    let notifications = 0;
    h.client.fallbackNotificationHandler = async () => {
      notifications++;
    };
    h.emulator.script({ kind: 'stream', text: 'y'.repeat(100), chunkChars: 4, frameDelayMs: 5 });
    await h.call('complete', { prompt: 'q', model: 'gpt-5.2' });
    expect(notifications).toBe(0);
  });
});

describe('cancellation', () => {
  it.each(['gpt-5.2', 'claude-sonnet-4-6'])('aborts the upstream request on %s: the emulator sees the socket close', async (model) => {
    h = await startHarness({ env: { EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' } });
    h.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 3, pingEveryMs: 50 });
    const controller = new AbortController();
    const pending = h.call('complete', { prompt: 'q', model }, { signal: controller.signal });
    const request = await waitFor(() => h.emulator.requests.find((r) => r.method === 'POST'));
    await new Promise((r) => setTimeout(r, 100));
    const cancelledAt = Date.now();
    controller.abort('user pressed stop');
    await expect(pending).rejects.toThrow();
    const closed = await request.closed;
    expect(closed.aborted).toBe(true);
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
  });
});

describe('shutdown', () => {
  it('closing the server (what stdin close and SIGTERM do) aborts every in-flight upstream request', async () => {
    h = await startHarness({ env: { EZROUTER_IDLE_TIMEOUT_MS: '20000', EZROUTER_TIMEOUT_MS: '30000' } });
    h.emulator.script({ kind: 'stall' });
    h.emulator.script({ kind: 'stream', text: 'abcdefgh', chunkChars: 4, stallAfterFrames: 2, pingEveryMs: 50 });
    const pending = [
      h.call('complete', { prompt: 'one', model: 'gpt-5.2' }).catch(() => undefined),
      h.call('complete', { prompt: 'two', model: 'gpt-5.2' }).catch(() => undefined),
    ];
    await waitFor(() => (h.emulator.requests.filter((r) => r.method === 'POST').length === 2 ? true : undefined));
    await h.server.close();
    const closed = await Promise.all(h.emulator.requests.map((r) => r.closed));
    expect(closed).toEqual([{ aborted: true }, { aborted: true }]);
    await Promise.all(pending);
  });
});
