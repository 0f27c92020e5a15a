/**
 * The Redis implementations of the state ports against a real redis-server (skipped, saying
 * so, when redis-server is not installed): answers with TTL and the size cap, tasks shared by
 * two stores (two replicas) with a cancel on one aborting the work on the other, limits shared
 * by two replicas, store_unavailable while Redis is down and recovery without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EzrouterError } from '../src/ezrouter/errors.js';
import { createLogger } from '../src/log.js';
import { createRedactor } from '../src/redact.js';
import { RedisAnswerStore } from '../src/store/redis-answer-store.js';
import { RedisConnection } from '../src/store/redis-connection.js';
import { REPLICA_STOPPED, RedisTaskStore } from '../src/tasks/redis-task-store.js';
import { JOB_RESULT_BYTES } from '../src/tasks/job-result.js';
import { FallbackLimits } from '../src/transports/http/fallback-limits.js';
import { InMemoryLimits } from '../src/transports/http/limits.js';
import { RedisLimits } from '../src/transports/http/redis-limits.js';
import { startHarness } from './harness.js';
import { redisBinary, startRedis, type RedisServer } from './support/redis-server.js';

const binary = redisBinary();
if (!binary) process.stderr.write('redis-store.test.ts: SKIPPED, redis-server is not installed (apt-get install redis-server)\n');

const TASKS = { defaultTtlMs: 60_000, leaseMs: 60_000 };
/**
 * The lease of the replica that crashes in the lease tests: its heartbeat (every third of it) must
 * miss for longer than two beats (1.3 s) before a live owner reads as gone, so a stall of the
 * event loop or of Redis under a loaded CI machine cannot fail them.
 */
const CRASH_LEASE_MS = 2_000;
const CALL = { method: 'tools/call', params: {} };
const quiet = createLogger('error', createRedactor(undefined), { write: () => true });
const until = async (check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(!binary)('Redis-backed state (real redis-server)', () => {
  let redis: RedisServer;
  let a: RedisConnection;
  let b: RedisConnection;

  beforeAll(async () => {
    redis = await startRedis();
    a = await RedisConnection.open(redis.url, quiet, 'test:');
    b = await RedisConnection.open(redis.url, quiet, 'test:');
    await until(() => a.ready && b.ready);
  });

  afterAll(async () => {
    a?.close();
    b?.close();
    await redis?.stop();
  });

  it('an answer stored through one connection is read through the other; unknown ids are undefined', async () => {
    const id = await new RedisAnswerStore(a, { maxChars: 1000, ttlMs: 60_000 }).put({ text: 'hello there', model: 'm' });
    const got = await new RedisAnswerStore(b, { maxChars: 1000, ttlMs: 60_000 }).get(id);
    expect(got).toMatchObject({ text: 'hello there', model: 'm' });
    expect(await new RedisAnswerStore(b, { maxChars: 1000, ttlMs: 60_000 }).get('nope')).toBeUndefined();
  });

  it('answers expire after their TTL and the oldest are evicted past the size cap (a too-large one is kept alone)', async () => {
    const store = new RedisAnswerStore(a, { maxChars: 10, ttlMs: 60_000 });
    const first = await store.put({ text: '123456', model: 'm' });
    const second = await store.put({ text: '7890ab', model: 'm' });
    expect(await store.get(first)).toBeUndefined();
    expect((await store.get(second))?.text).toBe('7890ab');
    const big = await store.put({ text: 'x'.repeat(50), model: 'm' });
    expect(await store.get(second)).toBeUndefined();
    expect((await store.get(big))?.text).toHaveLength(50);
    const short = new RedisAnswerStore(a, { maxChars: 1000, ttlMs: 50 });
    const gone = await short.put({ text: 'brief', model: 'm' });
    await new Promise((r) => setTimeout(r, 120));
    expect(await short.get(gone)).toBeUndefined();
  });

  it('a task created on one store is read, finished and listed on the other, scoped by session', async () => {
    const one = await RedisTaskStore.open(a, TASKS);
    const two = await RedisTaskStore.open(b, TASKS);
    const task = await one.createTask({ ttl: 60_000 }, 1, { method: 'tools/call', params: {} }, 'alice');
    expect((await two.getTask(task.taskId, 'alice'))?.status).toBe('working');
    expect(await two.getTask(task.taskId, 'bob')).toBeNull();
    await two.updateTaskStatus(task.taskId, 'working', 'half way', 'alice');
    expect((await one.getTask(task.taskId, 'alice'))?.statusMessage).toBe('half way');
    await one.storeTaskResult(task.taskId, 'completed', { content: [{ type: 'text', text: 'done' }] }, 'alice');
    expect(await two.getTaskResult(task.taskId, 'alice')).toEqual({ content: [{ type: 'text', text: 'done' }] });
    await expect(two.updateTaskStatus(task.taskId, 'cancelled', undefined, 'alice')).rejects.toThrow(/terminal/);
    expect((await two.listTasks(undefined, 'alice')).tasks.map((t) => t.taskId)).toContain(task.taskId);
    expect((await two.listTasks(undefined, 'bob')).tasks).toEqual([]);
    await one.close();
    await two.close();
  });

  it('cancelling on one replica aborts the work running on the other', async () => {
    const one = await RedisTaskStore.open(a, TASKS);
    const two = await RedisTaskStore.open(b, TASKS);
    const task = await one.createTask({ ttl: 60_000 }, 1, { method: 'tools/call', params: {} }, 'alice');
    const work = new AbortController();
    one.track(task.taskId, work);
    await two.updateTaskStatus(task.taskId, 'cancelled', 'by the caller', 'alice');
    await until(() => work.signal.aborted);
    expect((await one.getTask(task.taskId, 'alice'))?.status).toBe('cancelled');
    await one.close();
    await two.close();
  });

  it('a replica that closes (SIGTERM drain) aborts its running jobs and marks them failed, saying why', async () => {
    const one = await RedisTaskStore.open(a, TASKS);
    const two = await RedisTaskStore.open(b, TASKS);
    const task = await one.createTask({ ttl: 60_000 }, 1, CALL, 'alice');
    const work = new AbortController();
    one.track(task.taskId, work);
    const ended = await one.createTask({ ttl: 60_000 }, 2, CALL, 'alice');
    await one.storeTaskResult(ended.taskId, 'completed', { content: [{ type: 'text', text: 'done' }] }, 'alice');
    await one.close();
    expect(work.signal.aborted).toBe(true);
    expect(await two.getTask(task.taskId, 'alice')).toMatchObject({ status: 'failed', statusMessage: REPLICA_STOPPED });
    expect(await two.getTaskResult(task.taskId, 'alice')).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringContaining(REPLICA_STOPPED) }] });
    expect((await two.getTask(ended.taskId, 'alice'))?.status).toBe('completed');
    await two.close();
  });

  it('a crashed replica\'s running job reads as failed on another replica once its lease expires; a live owner\'s job does not', async () => {
    const c = await RedisConnection.open(redis.url, quiet, 'test:');
    await until(() => c.ready);
    const owner = await RedisTaskStore.open(c, { defaultTtlMs: 60_000, leaseMs: CRASH_LEASE_MS });
    const reader = await RedisTaskStore.open(b, TASKS);
    const task = await owner.createTask({ ttl: 60_000 }, 1, CALL, 'alice');
    owner.track(task.taskId, new AbortController());
    // Longer than the lease: the owner's heartbeat keeps its job working.
    await new Promise((r) => setTimeout(r, CRASH_LEASE_MS + 500));
    expect((await reader.getTask(task.taskId, 'alice'))?.status).toBe('working');
    c.close(); // the crash: no close(), no status written, the heartbeat stops
    await until(async () => (await reader.getTask(task.taskId, 'alice'))?.status === 'failed', 10_000);
    expect(await reader.getTask(task.taskId, 'alice')).toMatchObject({ statusMessage: REPLICA_STOPPED });
    expect(await reader.getTaskResult(task.taskId, 'alice')).toMatchObject({ isError: true });
    expect((await reader.listTasks(undefined, 'alice')).tasks.find((t) => t.taskId === task.taskId)?.status).toBe('failed');
    await owner.close();
    await reader.close();
  });

  it("a background job's long answer lives in the Redis answer store (the task keeps a small result), and another replica collects it whole", async () => {
    const answers = new RedisAnswerStore(a, { maxChars: 1_000_000, ttlMs: 60_000 });
    const tasksA = await RedisTaskStore.open(a, TASKS);
    const tasksB = await RedisTaskStore.open(b, TASKS);
    const one = await startHarness({ clientName: 'claude-ai', deps: { answers, tasks: tasksA } });
    const two = await startHarness({ clientName: 'claude-ai', deps: { answers: new RedisAnswerStore(b, { maxChars: 1_000_000, ttlMs: 60_000 }), tasks: tasksB } });
    try {
      const answer = 'redis job answer, '.repeat(2_000);
      one.emulator.script({ kind: 'stream', text: answer, chunkChars: 5_000 });
      const started = await one.call('complete', { prompt: 'x', model: 'gpt-5.2', background: true });
      const { id } = (started.structuredContent as { job: { id: string } }).job;
      await until(async () => (await tasksA.getTask(id))?.status === 'completed');
      const kept = (await tasksB.getTaskResult(id)) as CallToolResult;
      expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(JOB_RESULT_BYTES);
      const uri = (kept.structuredContent as { truncated: { uri: string } }).truncated.uri;
      expect((await answers.get(uri.split('/').at(-1)!))?.text === answer).toBe(true);
      const collected = await two.call('complete', { job_id: id });
      expect((collected.structuredContent as { text: string }).text === answer).toBe(true);
    } finally {
      await one.close();
      await two.close();
      await tasksA.close();
      await tasksB.close();
    }
  });

  it('plain-call tasks stay in memory and work while Redis is unreachable', async () => {
    const dead = await RedisConnection.open('redis://127.0.0.1:1', quiet, 'test:');
    const store = await RedisTaskStore.open(dead, TASKS);
    const task = await store.createCallTask({ ttl: 1000 }, 1, { method: 'tools/call', params: {} });
    await store.storeTaskResult(task.taskId, 'completed', { content: [] });
    expect((await store.getTask(task.taskId))?.status).toBe('completed');
    await expect(store.createTask({ ttl: 1000 }, 2, { method: 'tools/call', params: {} })).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
    dead.close();
  });

  it('limits hold across two replicas: rate and in-flight slots', async () => {
    const options = { ratePerMinute: 3, maxInFlight: 1, leaseMs: 60_000 };
    const one = new RedisLimits(a, options);
    const two = new RedisLimits(b, options);
    const principal = `p-${Date.now()}`;
    const first = await one.acquire(principal, { slot: true });
    expect(first.admitted).toBe(true);
    expect(await two.acquire(principal, { slot: true })).toMatchObject({ admitted: false, limit: 'in_flight' });
    if (first.admitted) first.release();
    await until(async () => {
      const again = await two.acquire(`${principal}-probe`, { slot: false });
      return again.admitted;
    });
    expect((await two.acquire(principal, { slot: false })).admitted).toBe(true);
    expect((await one.acquire(principal, { slot: false })).admitted).toBe(true);
    expect(await one.acquire(principal, { slot: false })).toMatchObject({ admitted: false, limit: 'rate' });
  });

  it('a replica cut off from Redis for longer than its lease stops the jobs it runs (the others now read them as failed)', async () => {
    const c = await RedisConnection.open(redis.url, quiet, 'test:');
    await until(() => c.ready);
    const cutOff = await RedisTaskStore.open(c, { defaultTtlMs: 60_000, leaseMs: CRASH_LEASE_MS });
    const task = await cutOff.createTask({ ttl: 60_000 }, 1, CALL, 'alice');
    const work = new AbortController();
    cutOff.track(task.taskId, work);
    c.close(); // the partition: this store lives on, its heartbeat fails
    await until(() => work.signal.aborted, 10_000);
    expect(String(work.signal.reason)).toMatch(/lost its lease/);
    const reader = await RedisTaskStore.open(b, TASKS);
    expect(await reader.getTask(task.taskId, 'alice')).toMatchObject({ status: 'failed', statusMessage: REPLICA_STOPPED });
    await reader.close();
    await cutOff.close();
  });

  it("a crashed replica's in-flight slots stop counting once its lease expires, not after the slot lease (the call deadline)", async () => {
    const c = await RedisConnection.open(redis.url, quiet, 'test:');
    await until(() => c.ready);
    const crashing = await RedisTaskStore.open(c, { defaultTtlMs: 60_000, leaseMs: CRASH_LEASE_MS });
    const survivor = await RedisTaskStore.open(b, TASKS);
    const options = { ratePerMinute: 0, maxInFlight: 1, leaseMs: 600_000 };
    const onCrashing = new RedisLimits(c, { ...options, replica: crashing.replica });
    const onSurvivor = new RedisLimits(b, { ...options, replica: survivor.replica });
    const principal = `crash-${Date.now()}`;
    expect((await onCrashing.acquire(principal, { slot: true })).admitted).toBe(true);
    // Longer than the replica lease: its heartbeat keeps its slot counted.
    await new Promise((r) => setTimeout(r, CRASH_LEASE_MS + 500));
    expect(await onSurvivor.acquire(principal, { slot: true })).toMatchObject({ admitted: false, limit: 'in_flight' });
    c.close(); // the crash: the slot is never released, the heartbeat stops
    await until(async () => (await onSurvivor.acquire(principal, { slot: true })).admitted, 10_000);
    // The survivor's own slot is live: it counts, whatever the other replica's lease says.
    expect(await onSurvivor.acquire(principal, { slot: true })).toMatchObject({ admitted: false, limit: 'in_flight' });
    await crashing.close();
    await survivor.close();
  });

  it('while Redis is down: store_unavailable, limits fall back to this process, and it recovers by itself', async () => {
    const store = new RedisAnswerStore(a, { maxChars: 1000, ttlMs: 60_000 });
    const limits = new FallbackLimits(new RedisLimits(a, { ratePerMinute: 100, maxInFlight: 5, leaseMs: 60_000 }), new InMemoryLimits({ ratePerMinute: 100, maxInFlight: 5 }), quiet);
    await redis.stop();
    await until(() => !a.ready);
    const failure = await store.put({ text: 'x', model: 'm' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(EzrouterError);
    expect((failure as EzrouterError).code).toBe('store_unavailable');
    expect((await limits.acquire('p', { slot: true })).admitted).toBe(true);
    await redis.start();
    await until(() => a.ready && b.ready);
    const id = await store.put({ text: 'back', model: 'm' });
    expect((await new RedisAnswerStore(b, { maxChars: 1000, ttlMs: 60_000 }).get(id))?.text).toBe('back');
  });
});
