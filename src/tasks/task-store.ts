/**
 * Where MCP tasks and background jobs live: the SDK's in-memory TaskStore, plus what the SDK
 * leaves to the server — a cancelled task aborts its running work (tasks/cancel only changes
 * the stored status), the tasks that only carry a plain call's result are hidden from
 * tasks/list, and closing aborts everything still running. Replicas use a shared
 * implementation of the same TaskStore interface.
 */
import { InMemoryTaskStore, type CreateTaskOptions, type TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import type { Request, RequestId, Task } from '@modelcontextprotocol/sdk/types.js';

/**
 * The port: the SDK's TaskStore plus the running work of this process. Two implementations:
 * CompletionTaskStore (memory: stdio, one replica) and RedisTaskStore (replicas share it).
 */
export interface CompletionTasks extends TaskStore {
  /**
   * A task that only carries a plain call's result back to the SDK in this same request: never
   * shared, never listed (a plain call needs no shared state, so it works while Redis is down).
   */
  createCallTask(taskParams: CreateTaskOptions, requestId: RequestId, request: Request, sessionId?: string): Promise<Task>;
  /** Registers the work of a task: cancelling the task (from any replica) aborts this controller. */
  track(taskId: string, controller: AbortController): void;
  /** The work of a task ended (its result is stored, or it was aborted). */
  untrack(taskId: string): void;
  /** Aborts every task still running here (server shutdown); a shared store marks them failed. */
  close(): Promise<void>;
}

const PRUNE_EVERY = 1024;

export class CompletionTaskStore extends InMemoryTaskStore implements CompletionTasks {
  private readonly running = new Map<string, AbortController>();
  private readonly hidden = new Set<string>();

  /** Registers the work of a task: cancelling the task aborts this controller. */
  track(taskId: string, controller: AbortController): void {
    this.running.set(taskId, controller);
  }

  /** The work of a task ended (its result is stored, or it was aborted). */
  untrack(taskId: string): void {
    this.running.delete(taskId);
  }

  async createCallTask(taskParams: CreateTaskOptions, requestId: RequestId, request: Request, sessionId?: string): Promise<Task> {
    const task = await this.createTask(taskParams, requestId, request, sessionId);
    this.hide(task.taskId);
    return task;
  }

  /** A task that only carries a plain call's result: not listed by tasks/list. */
  private hide(taskId: string): void {
    this.hidden.add(taskId);
    // Hidden tasks expire like the others: forget their ids now and then, so the set stays small.
    if (this.hidden.size % PRUNE_EVERY === 0) void this.prune();
  }

  private async prune(): Promise<void> {
    for (const id of [...this.hidden]) if ((await this.getTask(id)) === null) this.hidden.delete(id);
  }

  override async updateTaskStatus(taskId: string, status: Task['status'], statusMessage?: string, sessionId?: string): Promise<void> {
    await super.updateTaskStatus(taskId, status, statusMessage, sessionId);
    if (status === 'cancelled') this.running.get(taskId)?.abort(new Error('task cancelled'));
  }

  override async listTasks(cursor?: string, sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const page = await super.listTasks(cursor, sessionId);
    return { ...page, tasks: page.tasks.filter((t) => !this.hidden.has(t.taskId)) };
  }

  /** Aborts every task still running and stops the expiry timers (server shutdown). */
  close(): Promise<void> {
    for (const controller of this.running.values()) controller.abort(new Error('server closing'));
    this.running.clear();
    this.cleanup();
    return Promise.resolve();
  }
}
