/**
 * createServer(config, deps): the MCP server with its tools and resources, transport-agnostic,
 * and the `close` that releases what it owns. The CLI connects it to stdio; tests connect it to
 * an in-memory transport; the HTTP mode builds one per request around a shared EzrouterClient.
 * Collaborators come in through `deps`, so tests build a real server against the emulator
 * without globals.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { callLimits, type CallLimits } from './clients/limits.js';
import { profileFor, type ClientProfile } from './clients/profiles.js';
import type { Dispatcher } from 'undici';
import type { Config, Env } from './config.js';
import type { HandlerContext } from './context.js';
import { EzrouterClient } from './ezrouter/client.js';
import { isRecord } from './ezrouter/json.js';
import { FileRoots } from './files/file-roots.js';
import { SERVER_INSTRUCTIONS } from './instructions.js';
import { createLogger, type Logger } from './log.js';
import { createRedactor, type Redactor } from './redact.js';
import { ResourceDirectory } from './resources/directory.js';
import { addAnswerResources } from './resources/answers.js';
import { addModelResources } from './resources/models.js';
import { MemoryAnswerStore, type AnswerStore } from './store/answer-store.js';
import { UNLIMITED_JOB_SLOTS, type JobSlots } from './tasks/job-slots.js';
import { CompletionTaskStore, type CompletionTasks } from './tasks/task-store.js';
import { registerCompareTool } from './tools/compare.js';
import { registerCompleteTool } from './tools/complete.js';
import { registerGetBalanceTool } from './tools/get-balance.js';
import { registerListModelsTool } from './tools/list-models.js';
import { RedactingTransport } from './transports/redacting-transport.js';
import { PACKAGE_NAME, USER_AGENT, VERSION } from './version.js';

export interface ServerDeps {
  /**
   * The upstream client, shared with other servers (one socket pool, one catalog cache); the
   * caller closes it. When absent, the server creates its own and closes it in `close()`.
   */
  client?: EzrouterClient;
  /** The undici dispatcher for a client the server creates (ignored when `client` is given). */
  dispatcher?: Dispatcher;
  log?: Logger;
  /**
   * The redactor of everything this server sends (its output edge) and of its error texts. It must
   * know config.apiKey and every other secret that could reach this server's answers: the HTTP
   * mode passes the request's (process key, principal key, bearer credential; see
   * transports/http/request-redactor.ts). Default: one that knows config.apiKey.
   */
  redact?: Redactor;
  /** First retry backoff in ms (default 500) for a client the server creates; tests shorten it. */
  retryBaseDelayMs?: number;
  /** The answer store (shared by replicas in the HTTP mode); default: in memory, per server. */
  answers?: AnswerStore;
  /** MCP tasks and background jobs (shared in the HTTP mode); default: in memory, closed with the server. */
  tasks?: CompletionTasks;
  /** Where a background job or MCP task takes its caller's in-flight slot (the HTTP mode); default: no limit. */
  jobSlots?: JobSlots;
  /** The client limits table (tests give short limits); default CLIENT_PROFILES. */
  clientProfiles?: readonly ClientProfile[];
  /** The calling client's name when this server never sees its `initialize` (the stateless HTTP mode). */
  clientName?: string;
  /** False for a server that serves remote callers (the HTTP mode): `files` are never read. Default true. */
  readsFiles?: boolean;
  /** Where the clients' own settings are read (MAX_MCP_OUTPUT_TOKENS, MCP_TOOL_TIMEOUT); default process.env. */
  env?: Env;
}

/** Task-augmented calls remembered between the edge and the tool (they are taken at once). */
const MAX_PENDING_TASK_CALLS = 256;

/** An McpServer that connects only through the redaction boundary (see RedactingTransport). */
class RedactedMcpServer extends McpServer {
  /** Ids of tools/call requests that asked for task execution (see registerCompleteTool). */
  readonly taskCalls = new Set<RequestId>();

  constructor(
    private readonly redact: Redactor,
    ...args: ConstructorParameters<typeof McpServer>
  ) {
    super(...args);
  }

  override connect(transport: Transport): Promise<void> {
    return super.connect(new RedactingTransport(transport, this.redact, (message) => this.noteTaskCall(message)));
  }

  private noteTaskCall(message: JSONRPCMessage): void {
    if ('method' in message && message.method === 'tools/call' && 'id' in message && isRecord(message.params) && message.params['task'] !== undefined) {
      this.taskCalls.add(message.id);
      // An id whose call never reached the tool (refused arguments) is not removed there: keep the set small.
      if (this.taskCalls.size > MAX_PENDING_TASK_CALLS) this.taskCalls.delete(this.taskCalls.values().next().value!);
    }
  }
}

export interface EzrouterMcpServer {
  server: McpServer;
  /** Closes the MCP server (aborting its in-flight calls) and the upstream client it owns. */
  close(): Promise<void>;
}

export function createServer(config: Readonly<Config>, deps: ServerDeps = {}): EzrouterMcpServer {
  const redact: Redactor = deps.redact ?? createRedactor(config.apiKey);
  const log = deps.log ?? createLogger(config.logLevel, redact);
  const client =
    deps.client ??
    new EzrouterClient({ config, dispatcher: deps.dispatcher, log, userAgent: USER_AGENT, retryBaseDelayMs: deps.retryBaseDelayMs });

  const tasks = deps.tasks ?? new CompletionTaskStore();
  const answers = deps.answers ?? new MemoryAnswerStore({ maxChars: config.answerStoreChars, ttlMs: config.answerTtlMs });
  const server = new RedactedMcpServer(
    redact,
    { name: PACKAGE_NAME, title: 'ezrouter', version: VERSION },
    {
      instructions: SERVER_INSTRUCTIONS,
      capabilities: { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      taskStore: tasks,
    },
  );
  const unsubscribe = client.onCatalogChange(() => {
    log.info('the ezrouter model catalog changed');
    if (server.isConnected()) server.sendResourceListChanged();
  });

  // The caller's limits, from the clientInfo it sent at initialize (computed once it is known).
  let limits: CallLimits | undefined;
  const clientLimits = (): CallLimits => {
    const name = server.server.getClientVersion()?.name ?? deps.clientName;
    if (limits && name !== undefined) return limits;
    const computed = callLimits(profileFor(name, deps.clientProfiles), config, deps.env ?? process.env);
    if (name !== undefined) limits = computed;
    return computed;
  };

  const files = new FileRoots(server.server, config.fileRoots, log, deps.readsFiles ?? true);
  files.install();
  const ctx: HandlerContext = { client, config, redact, log, answers, tasks, jobSlots: deps.jobSlots ?? UNLIMITED_JOB_SLOTS, files, limits: clientLimits };
  registerCompleteTool(server, ctx, server.taskCalls);
  registerCompareTool(server, ctx);
  registerListModelsTool(server, ctx);
  registerGetBalanceTool(server, ctx);
  const resources = new ResourceDirectory(redact, log);
  addModelResources(resources, ctx);
  addAnswerResources(resources, ctx);
  resources.install(server);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      unsubscribe();
      if (!deps.tasks) await tasks.close();
      await server.close().catch(() => {});
      if (!deps.client) await client.close().catch(() => {});
    })());
  return { server, close };
}

export type { Config } from './config.js';
export { loadConfig } from './config.js';
export { EzrouterClient } from './ezrouter/client.js';
export { ERROR_CODES, type ErrorCode } from './ezrouter/errors.js';
