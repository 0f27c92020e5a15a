/** What every tool and resource handler gets: the ezrouter client, the config, the redactor, the log, the stores, the caller's limits. */
import type { CallLimits } from './clients/limits.js';
import type { Config } from './config.js';
import type { FileRoots } from './files/file-roots.js';
import type { EzrouterClient } from './ezrouter/client.js';
import type { Logger } from './log.js';
import type { Redactor } from './redact.js';
import type { AnswerStore } from './store/answer-store.js';
import type { JobSlots } from './tasks/job-slots.js';
import type { CompletionTasks } from './tasks/task-store.js';

export interface HandlerContext {
  client: EzrouterClient;
  config: Readonly<Config>;
  redact: Redactor;
  log: Logger;
  /** Whole answers that did not fit in one result, and background jobs' answers. */
  answers: AnswerStore;
  /** MCP tasks and background jobs. */
  tasks: CompletionTasks;
  /** The caller's in-flight slots for detached work (background jobs, MCP tasks). */
  jobSlots: JobSlots;
  /** Where `files` may be read from. */
  files: FileRoots;
  /** The calling client's result budget and effective deadline (known after initialize). */
  limits(): CallLimits;
}
