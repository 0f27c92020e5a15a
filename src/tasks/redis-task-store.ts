/**
 * MCP tasks and background jobs in Redis, shared by replicas: a job started on replica A is
 * collected (or cancelled) through replica B. The work itself runs where it started; a cancel on
 * any replica is published on a channel, and the replica running the task aborts it (its upstream
 * request is closed). A task is a hash (its fixed fields as JSON, status, message, session,
 * result) that expires `ttl` after it ends; each scope (session id: the principal in the HTTP
 * mode) has an index for tasks/list. Status changes are one Lua script each, so a task that
 * ended stays ended whichever replica writes. The tasks that only carry a plain call's result
 * stay in this process's memory (createCallTask): a plain call needs no shared state.
 *
 * A job never stays `working` after its replica is gone: closing the store (SIGTERM drain)
 * aborts the work and marks each job failed; a crashed replica's jobs carry its lease
 * (replica-lease.ts), and reading a working job whose owner's lease has expired marks it failed
 * (one Lua script, so whichever replica reads first writes it once).
 */
import type { CreateTaskOptions } from '@modelcontextprotocol/sdk/experimental/tasks';
import type { Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { RedisConnection } from '../store/redis-connection.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ReplicaLease } from './replica-lease.js';
import { CompletionTaskStore, type CompletionTasks } from './task-store.js';

const CANCEL_CHANNEL = 'task-cancel';
const PAGE_SIZE = 10;
const SUBSCRIBE_WAIT_MS = 2_000;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** KEYS[1] task. ARGV: scope, status, message, now, ttl ms ('' = keep), result JSON ('' = none). */
const UPDATE = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 'missing' end
local scope = redis.call('HGET', key, 'session')
if ARGV[1] ~= '' and scope and scope ~= '' and scope ~= ARGV[1] then return 'missing' end
local status = redis.call('HGET', key, 'status')
if status == 'completed' or status == 'failed' or status == 'cancelled' then return 'terminal:' .. status end
redis.call('HSET', key, 'status', ARGV[2], 'lastUpdatedAt', ARGV[4])
if ARGV[3] ~= '' then redis.call('HSET', key, 'statusMessage', ARGV[3]) end
if ARGV[6] ~= '' then redis.call('HSET', key, 'result', ARGV[6]) end
if ARGV[5] ~= '' and (ARGV[2] == 'completed' or ARGV[2] == 'failed' or ARGV[2] == 'cancelled') then redis.call('PEXPIRE', key, ARGV[5]) end
return 'ok'
`;

/**
 * KEYS[1] task. ARGV: lease key prefix, message, now, result JSON, default ttl ms, the reading
 * replica's own owner id. Every read: a working task whose owner's lease is gone is marked failed
 * first (never one this replica runs: it is alive, whatever its key says); answers HGETALL.
 */
const READ = `
local key = KEYS[1]
local status = redis.call('HGET', key, 'status')
if status == 'working' or status == 'input_required' then
  local owner = redis.call('HGET', key, 'owner')
  if owner and owner ~= '' and owner ~= ARGV[6] and redis.call('EXISTS', ARGV[1] .. owner) == 0 then
    redis.call('HSET', key, 'status', 'failed', 'statusMessage', ARGV[2], 'lastUpdatedAt', ARGV[3], 'result', ARGV[4])
    local fixed = cjson.decode(redis.call('HGET', key, 'task'))
    redis.call('PEXPIRE', key, tonumber(fixed.ttl) or tonumber(ARGV[5]))
  end
end
return redis.call('HGETALL', key)
`;

/** The status message (and result) of a job whose replica stopped before it finished. */
export const REPLICA_STOPPED = 'the replica running this job stopped; start it again';

/** The stored result of such a job: an error result saying so (nothing upstream was answered). */
function replicaStoppedResult(): CallToolResult {
  return { content: [{ type: 'text', text: `The job did not finish: ${REPLICA_STOPPED}.` }], isError: true };
}

export interface RedisTaskStoreOptions {
  /** Expiry of a task created without a ttl (its work still bounded by EZROUTER_TIMEOUT_MS). */
  defaultTtlMs: number;
  /** How long this replica's jobs outlive its last heartbeat (EZROUTER_REDIS_LEASE_MS). */
  leaseMs: number;
}

type Fields = Record<string, string>;

export class RedisTaskStore implements CompletionTasks {
  private readonly running = new Map<string, AbortController>();
  private readonly local = new CompletionTaskStore();
  private readonly lease: ReplicaLease;

  /** This replica's lease (the per-principal slot leases name it too, see redis-limits.ts). */
  get replica(): ReplicaLease {
    return this.lease;
  }

  private constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisTaskStoreOptions,
  ) {
    this.lease = new ReplicaLease(redis, options.leaseMs);
  }

  static async open(redis: RedisConnection, options: RedisTaskStoreOptions): Promise<RedisTaskStore> {
    const store = new RedisTaskStore(redis, options);
    // Jobs whose lease lapsed read as failed on the other replicas: stop them here too, rather than
    // finish work whose result can no longer be stored (and is billed for nothing).
    store.lease.onLapse(() => {
      for (const controller of store.running.values()) controller.abort(new Error('this replica lost its lease in the shared store'));
    });
    store.lease.start();
    // Waits for the subscription a little (Redis up: at once); a Redis down at start-up does not
    // hold the service: the SUBSCRIBE is queued until the connection is made.
    const subscribed = redis.subscribe(CANCEL_CHANNEL, (taskId) => store.running.get(taskId)?.abort(new Error('task cancelled'))).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]);
    clearTimeout(timer);
    return store;
  }

  private key(taskId: string): string {
    return `${this.redis.prefix}task:${taskId}`;
  }

  private index(sessionId: string | undefined): string {
    return `${this.redis.prefix}tasks:${sessionId ?? '-'}`;
  }

  createCallTask(taskParams: CreateTaskOptions, requestId: RequestId, request: Request, sessionId?: string): Promise<Task> {
    return this.local.createCallTask(taskParams, requestId, request, sessionId);
  }

  private async isLocal(taskId: string): Promise<boolean> {
    return (await this.local.getTask(taskId)) !== null;
  }

  async createTask(taskParams: CreateTaskOptions, _requestId: RequestId, _request: Request, sessionId?: string): Promise<Task> {
    const taskId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
    const createdAt = new Date().toISOString();
    const ttl = taskParams.ttl ?? null;
    const task: Task = { taskId, status: 'working', ttl, createdAt, lastUpdatedAt: createdAt, pollInterval: taskParams.pollInterval ?? 1000 };
    const fixed = JSON.stringify({ taskId, ttl, createdAt, pollInterval: task.pollInterval });
    const expiry = String(ttl ?? this.options.defaultTtlMs);
    await this.redis.run(async (r) => {
      await r.sendCommand(['HSET', this.key(taskId), 'task', fixed, 'status', 'working', 'lastUpdatedAt', createdAt, 'session', sessionId ?? '', 'owner', this.lease.owner]);
      // A running task lives at least as long as its ttl counted from now; it is re-armed when it ends.
      await r.sendCommand(['PEXPIRE', this.key(taskId), expiry]);
      await r.sendCommand(['ZADD', this.index(sessionId), String(Date.now()), taskId]);
      await r.sendCommand(['PEXPIRE', this.index(sessionId), String(Math.max(Number(expiry), this.options.defaultTtlMs))]);
    });
    return task;
  }

  private async fields(taskId: string, sessionId: string | undefined): Promise<Fields | undefined> {
    const now = new Date().toISOString();
    const lost = JSON.stringify(replicaStoppedResult());
    const raw = await this.redis.run((r) => r.sendCommand(['EVAL', READ, '1', this.key(taskId), this.lease.keyPrefix(), REPLICA_STOPPED, now, lost, String(this.options.defaultTtlMs), this.lease.owner]));
    const fields = toFields(raw);
    if (fields['task'] === undefined) return undefined;
    const scope = fields['session'] ?? '';
    if (sessionId !== undefined && scope !== '' && scope !== sessionId) return undefined;
    return fields;
  }

  async getTask(taskId: string, sessionId?: string): Promise<Task | null> {
    if (await this.isLocal(taskId)) return this.local.getTask(taskId, sessionId);
    const fields = await this.fields(taskId, sessionId);
    return fields ? toTask(fields) : null;
  }

  async storeTaskResult(taskId: string, status: 'completed' | 'failed', result: Result, sessionId?: string): Promise<void> {
    if (await this.isLocal(taskId)) return this.local.storeTaskResult(taskId, status, result, sessionId);
    const fields = await this.fields(taskId, sessionId);
    const ttl = fields ? (JSON.parse(fields['task']!) as { ttl: number | null }).ttl : null;
    await this.update(taskId, sessionId, status, '', String(ttl ?? this.options.defaultTtlMs), JSON.stringify(result));
  }

  async getTaskResult(taskId: string, sessionId?: string): Promise<Result> {
    if (await this.isLocal(taskId)) return this.local.getTaskResult(taskId, sessionId);
    const fields = await this.fields(taskId, sessionId);
    if (!fields) throw new Error(`Task with ID ${taskId} not found`);
    if (fields['result'] === undefined) throw new Error(`Task ${taskId} has no result stored`);
    return JSON.parse(fields['result']) as Result;
  }

  async updateTaskStatus(taskId: string, status: Task['status'], statusMessage?: string, sessionId?: string): Promise<void> {
    if (await this.isLocal(taskId)) return this.local.updateTaskStatus(taskId, status, statusMessage, sessionId);
    let ttl = '';
    if (TERMINAL.has(status)) {
      const fields = await this.fields(taskId, sessionId);
      ttl = String((fields ? (JSON.parse(fields['task']!) as { ttl: number | null }).ttl : null) ?? this.options.defaultTtlMs);
    }
    await this.update(taskId, sessionId, status, statusMessage ?? '', ttl, '');
    if (status === 'cancelled') {
      this.running.get(taskId)?.abort(new Error('task cancelled'));
      await this.redis.publish(CANCEL_CHANNEL, taskId);
    }
  }

  private async update(taskId: string, sessionId: string | undefined, status: string, message: string, ttl: string, result: string): Promise<void> {
    const outcome = await this.redis.run((r) => r.sendCommand(['EVAL', UPDATE, '1', this.key(taskId), sessionId ?? '', status, message, new Date().toISOString(), ttl, result]));
    if (outcome === 'missing') throw new Error(`Task with ID ${taskId} not found`);
    if (typeof outcome === 'string' && outcome.startsWith('terminal:')) {
      throw new Error(`Cannot update task ${taskId} from terminal status '${outcome.slice(9)}' to '${status}'.`);
    }
  }

  async listTasks(cursor?: string, sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const ids = (await this.redis.run((r) => r.sendCommand(['ZRANGE', this.index(sessionId), '0', '-1']))) as string[];
    const found = await Promise.all(ids.map(async (id) => ({ id, fields: await this.fields(id, sessionId) })));
    const gone = found.filter((f) => !f.fields).map((f) => f.id);
    if (gone.length > 0) await this.redis.run((r) => r.sendCommand(['ZREM', this.index(sessionId), ...gone]));
    const live = found.filter((f) => f.fields);
    let start = 0;
    if (cursor) {
      const at = live.findIndex((f) => f.id === cursor);
      if (at < 0) throw new Error(`Invalid cursor: ${cursor}`);
      start = at + 1;
    }
    const page = live.slice(start, start + PAGE_SIZE);
    const tasks = page.map((f) => toTask(f.fields!));
    return start + PAGE_SIZE < live.length ? { tasks, nextCursor: page[page.length - 1]!.id } : { tasks };
  }

  track(taskId: string, controller: AbortController): void {
    this.running.set(taskId, controller);
  }

  untrack(taskId: string): void {
    this.running.delete(taskId);
  }

  /**
   * Aborts the work still running here and marks those jobs failed (saying the replica stopped),
   * so no job stays `working` until its expiry; then gives up this replica's lease.
   */
  async close(): Promise<void> {
    const running = [...this.running];
    this.running.clear();
    for (const [, controller] of running) controller.abort(new Error('server closing'));
    const result = JSON.stringify(replicaStoppedResult());
    await Promise.all(
      running.map(async ([taskId]) => {
        const fields = await this.fields(taskId, undefined).catch(() => undefined);
        const ttl = fields ? (JSON.parse(fields['task']!) as { ttl: number | null }).ttl : null;
        // A job that ended meanwhile keeps its status (the script refuses to leave a terminal one).
        await this.update(taskId, undefined, 'failed', REPLICA_STOPPED, String(ttl ?? this.options.defaultTtlMs), result).catch(() => {});
      }),
    );
    await this.lease.stop();
    await this.local.close();
  }
}

/** HGETALL answers a flat array (RESP2) or a map (RESP3). */
function toFields(raw: unknown): Fields {
  if (Array.isArray(raw)) {
    const out: Fields = {};
    for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = String(raw[i + 1]);
    return out;
  }
  if (raw instanceof Map) return Object.fromEntries([...raw].map(([k, v]) => [String(k), String(v)]));
  return (raw ?? {}) as Fields;
}

function toTask(fields: Fields): Task {
  const fixed = JSON.parse(fields['task']!) as Pick<Task, 'taskId' | 'ttl' | 'createdAt' | 'pollInterval'>;
  const task: Task = { ...fixed, status: fields['status'] as Task['status'], lastUpdatedAt: fields['lastUpdatedAt'] ?? fixed.createdAt };
  if (fields['statusMessage']) task.statusMessage = fields['statusMessage'];
  return task;
}
