/**
 * How a `complete` call runs: plainly, as an MCP task, or as a background job collected later.
 *
 * The SDK runs a tool that supports tasks through `createTask` even for a plain call (it then
 * polls the task store until the task ends). A plain call here does its work right away and
 * returns a task that has already ended, so the SDK returns its result with no polling delay;
 * such tasks only carry that result and are hidden from tasks/list.
 *
 * An MCP task and a background job run the same work detached from the request, with their own
 * abort controller (cancelling the task or job aborts the upstream request), progress as task
 * status messages. The task keeps a small result (at most JOB_RESULT_BYTES: the head and a link);
 * a longer answer lives in the answer store, bounded by EZROUTER_ANSWER_STORE_CHARS. A task lives
 * at most EZROUTER_ANSWER_TTL_MS, whatever ttl the client asks for. Each holds one of its caller's
 * in-flight slots (ctx.jobSlots) from before it starts until it ends, fails or is cancelled:
 * detached work counts against the caller's limit like a call.
 */
import type { CreateTaskRequestHandlerExtra } from '@modelcontextprotocol/sdk/experimental/tasks';
import type { CallToolResult, Task } from '@modelcontextprotocol/sdk/types.js';
import type { HandlerContext } from '../context.js';
import { CallCancelledError } from '../ezrouter/errors.js';
import { excerpt } from '../redact.js';
import { failureResult, invalidRequest } from '../mapping/tool-result.js';
import { runCompletion, type CompletionArgs } from '../tools/complete-call.js';
import { createProgressReporter } from '../tools/progress.js';
import { collectedResult, JOB_RESULT_BYTES } from './job-result.js';
import type { ReleaseSlot } from './job-slots.js';

/**
 * How long a plain call's (hidden) task keeps its result: the SDK reads it right after
 * createTask returns, and a longer life would only keep every recent answer in memory.
 */
const PLAIN_CALL_TTL_MS = 2_000;
/** The poll interval suggested to task clients. */
export const TASK_POLL_MS = 1_000;
/** How often a waiting `job_id` call looks at the job again. */
const JOB_WAIT_POLL_MS = 100;

export interface JobControls {
  background?: boolean | undefined;
  job_id?: string | undefined;
  cancel?: boolean | undefined;
}

const TERMINAL: ReadonlySet<Task['status']> = new Set(['completed', 'failed', 'cancelled']);

export class CompletionJobs {
  constructor(private readonly ctx: HandlerContext) {}

  /** A plain tools/call: its result, carried by a task that has already ended. */
  async plainCall(args: CompletionArgs & JobControls, extra: CreateTaskRequestHandlerExtra): Promise<Task> {
    let result: CallToolResult;
    if (args.job_id !== undefined) result = await this.shared(() => this.collect(args.job_id!, args.cancel === true, extra));
    else if (args.cancel === true) result = invalidRequest('`cancel` goes with `job_id`: name the job to cancel.', this.ctx.redact);
    else if (args.background === true) result = await this.shared(() => this.startJob(args, extra));
    else {
      const progress = createProgressReporter(extra, args.model ?? this.ctx.config.defaultModel ?? 'model');
      try {
        result = await runCompletion(args, this.ctx, { signal: extra.signal, onText: progress.onText, onReasoning: progress.onReasoning });
      } finally {
        progress.finish();
      }
    }
    const { tasks } = this.ctx;
    const task = await tasks.createCallTask({ ttl: PLAIN_CALL_TTL_MS }, extra.requestId, { method: 'tools/call', params: {} }, extra.sessionId);
    await tasks.storeTaskResult(task.taskId, 'completed', result, extra.sessionId);
    return (await tasks.getTask(task.taskId, extra.sessionId)) ?? { ...task, status: 'completed' };
  }

  /** Work on the shared task store: a store failure (store_unavailable) becomes the call's error result. */
  private async shared(work: () => Promise<CallToolResult>): Promise<CallToolResult> {
    try {
      return await work();
    } catch (error) {
      return failureResult(error, this.ctx.redact, this.ctx.log);
    }
  }

  /** A tools/call that asked for task execution: the task, created now, its work detached. */
  async startTask(args: CompletionArgs & JobControls, extra: CreateTaskRequestHandlerExtra): Promise<Task> {
    const release = await this.ctx.jobSlots.claim();
    // A client may ask for any ttl: the task (and its answer) is kept at most EZROUTER_ANSWER_TTL_MS.
    const { answerTtlMs } = this.ctx.config;
    const ttl = Math.min(extra.taskRequestedTtl ?? answerTtlMs, answerTtlMs);
    const task = await extra.taskStore.createTask({ ttl, pollInterval: TASK_POLL_MS }).catch((error: unknown) => {
      release();
      throw error;
    });
    this.detach(task.taskId, args, extra, (result) => extra.taskStore.storeTaskResult(task.taskId, 'completed', result), release);
    return task;
  }

  /** `background: true`: a job (a task of this server's own) started now; the result names it. */
  private async startJob(args: CompletionArgs, extra: CreateTaskRequestHandlerExtra): Promise<CallToolResult> {
    const { tasks, config } = this.ctx;
    const release = await this.ctx.jobSlots.claim();
    const task = await tasks.createTask({ ttl: config.answerTtlMs, pollInterval: TASK_POLL_MS }, extra.requestId, { method: 'tools/call', params: {} }, extra.sessionId).catch((error: unknown) => {
      release();
      throw error;
    });
    // Nobody listens for this call's progress once it has returned: the job reports as status messages.
    const detached = { ...extra, _meta: undefined };
    this.detach(task.taskId, args, detached, (result) => tasks.storeTaskResult(task.taskId, 'completed', result, extra.sessionId), release);
    const model = excerpt(args.model ?? config.defaultModel ?? 'the default model', 80);
    return {
      content: [
        {
          type: 'text',
          text: `Started background job ${task.taskId} (${model}). Call complete with job_id "${task.taskId}" to collect the answer: it waits for it as long as this client allows, and says so if the job is still running. The answer is kept for ${Math.round(config.answerTtlMs / 60_000)} minutes.`,
        },
      ],
      structuredContent: { text: '', job: { id: task.taskId, status: 'working' } },
    };
  }

  /** `job_id`: the job's result once it ends (waiting within the caller's deadline), or where it stands. */
  private async collect(jobId: string, cancel: boolean, extra: CreateTaskRequestHandlerExtra): Promise<CallToolResult> {
    const { tasks } = this.ctx;
    const shownId = excerpt(jobId, 64);
    let task = await tasks.getTask(jobId, extra.sessionId);
    if (!task) {
      return invalidRequest(`No background job has the id "${shownId}": it finished more than ${Math.round(this.ctx.config.answerTtlMs / 60_000)} minutes ago, or it was never started here. Start the call again.`, this.ctx.redact);
    }
    if (cancel) {
      if (!TERMINAL.has(task.status)) await tasks.updateTaskStatus(jobId, 'cancelled', 'cancelled by the caller', extra.sessionId);
      return jobStatus(jobId, 'cancelled', `Job ${shownId} is cancelled; its upstream request was aborted.`);
    }
    const until = Date.now() + this.ctx.limits().deadlineMs;
    while (!TERMINAL.has(task.status) && Date.now() < until && !extra.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, JOB_WAIT_POLL_MS));
      task = (await tasks.getTask(jobId, extra.sessionId)) ?? task;
    }
    if (task.status === 'completed' || task.status === 'failed') {
      const stored = (await tasks.getTaskResult(jobId, extra.sessionId)) as CallToolResult;
      return collectedResult(stored, this.ctx.answers, this.ctx.limits().resultBytes, this.ctx.redact);
    }
    if (task.status === 'cancelled') return jobStatus(jobId, 'cancelled', `Job ${shownId} was cancelled before it finished.`);
    const where = task.statusMessage ? ` (${task.statusMessage})` : '';
    return jobStatus(jobId, task.status, `Job ${shownId} is still running${where}. Call complete with job_id "${jobId}" again to keep waiting.`, task.statusMessage);
  }

  /**
   * Runs the completion detached from the request that started it: its own abort controller
   * (registered with the task store, so cancelling the task aborts it), progress as status
   * messages (and as notifications while the client still listens), the result stored at the end,
   * and the caller's slot released once the work is over, however it ended.
   */
  private detach(taskId: string, args: CompletionArgs, extra: CreateTaskRequestHandlerExtra, store: (result: CallToolResult) => Promise<void>, release: ReleaseSlot): void {
    const { tasks, log } = this.ctx;
    const controller = new AbortController();
    tasks.track(taskId, controller);
    const progress = createProgressReporter(extra, args.model ?? this.ctx.config.defaultModel ?? 'model', {
      onStatus: (message) => void tasks.updateTaskStatus(taskId, 'working', message, extra.sessionId).catch(() => {}),
    });
    // The task keeps a small result: an answer longer than JOB_RESULT_BYTES goes to the answer store.
    const limits = () => ({ ...this.ctx.limits(), resultBytes: Math.min(this.ctx.limits().resultBytes, JOB_RESULT_BYTES) });
    void runCompletion(args, { ...this.ctx, limits }, { signal: controller.signal, onText: progress.onText, onReasoning: progress.onReasoning, detached: true })
      .then(async (result) => {
        progress.finish();
        // The upstream work is over: the slot frees before the result is stored (a client that sees it may start the next).
        release();
        // A cancelled task keeps its status; its (cancelled) result is not stored.
        if (controller.signal.aborted) return;
        await store(result);
      })
      .catch((error: unknown) => {
        if (!(error instanceof CallCancelledError)) log.warn('a background completion could not store its result', { taskId, error });
      })
      .finally(() => {
        tasks.untrack(taskId);
        release();
      });
  }
}

function jobStatus(id: string, status: string, text: string, message?: string): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: { text: '', job: { id, status, ...(message ? { message } : {}) } } };
}
