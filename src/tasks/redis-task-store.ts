/**
 * MCP tasks and background jobs in Redis, shared by replicas: a job started on replica A is
 * collected (or cancelled) through replica B. The work itself runs where it started; a cancel on
 * any replica is published on a channel, and the replica running the task aborts it (its upstream
 * request is closed). A task is a hash (its fixed fields as JSON, status, message, session,
 * result) that expires `ttl` after it ends; each scope (session id: the principal in the HTTP
 * mode) has an index for tasks/list. Status changes are one Lua script each, so a task that
 * ended stays ended whichever replica writes. The tasks that only carry a plain call's result
 * stay in this process's memory (createCallTask): a plain call needs no shared state.
 */
import type { CreateTaskOptions } from '@modelcontextprotocol/sdk/experimental/tasks';
import type { Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { RedisConnection } from '../store/redis-connection.js';
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

export interface RedisTaskStoreOptions {
  /** Expiry of a task created without a ttl (its work still bounded by EZROUTER_TIMEOUT_MS). */
  defaultTtlMs: number;
}

type Fields = Record<string, string>;

export class RedisTaskStore implements CompletionTasks {
  private readonly running = new Map<string, AbortController>();
  private readonly local = new CompletionTaskStore();

  private constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisTaskStoreOptions,
  ) {}

  static async open(redis: RedisConnection, options: RedisTaskStoreOptions): Promise<RedisTaskStore> {
    const store = new RedisTaskStore(redis, options);
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
      await r.sendCommand(['HSET', this.key(taskId), 'task', fixed, 'status', 'working', 'lastUpdatedAt', createdAt, 'session', sessionId ?? '']);
      // A running task lives at least as long as its ttl counted from now; it is re-armed when it ends.
      await r.sendCommand(['PEXPIRE', this.key(taskId), expiry]);
      await r.sendCommand(['ZADD', this.index(sessionId), String(Date.now()), taskId]);
      await r.sendCommand(['PEXPIRE', this.index(sessionId), String(Math.max(Number(expiry), this.options.defaultTtlMs))]);
    });
    return task;
  }

  private async fields(taskId: string, sessionId: string | undefined): Promise<Fields | undefined> {
    const raw = await this.redis.run((r) => r.sendCommand(['HGETALL', this.key(taskId)]));
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

  close(): void {
    for (const controller of this.running.values()) controller.abort(new Error('server closing'));
    this.running.clear();
    this.local.close();
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
