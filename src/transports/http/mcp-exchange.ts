/**
 * One POST /mcp, statelessly: a server from createServer for this request alone, configured
 * with the principal's key and the request's redactor (request-redactor.ts: the process key, the
 * principal's key and its credential, so the shared catalog fetched with the process key cannot
 * hand that key to another principal), and a view of the shared upstream
 * client sending it, with the process's answer and task stores (a link or a job outlives its
 * request), connected to a fresh Streamable HTTP transport without sessions. When the
 * response ends, or the client goes away, or the call is cancelled or the process drains, the
 * server is closed: that aborts its handlers, whose upstream requests close their sockets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../../config.js';
import type { EzrouterClient } from '../../ezrouter/client.js';
import type { Logger } from '../../log.js';
import type { Redactor } from '../../redact.js';
import { createServer } from '../../server.js';
import type { AnswerStore } from '../../store/answer-store.js';
import type { JobSlots } from '../../tasks/job-slots.js';
import type { CompletionTasks } from '../../tasks/task-store.js';
import type { Principal } from './auth.js';
import type { InFlightCalls } from './cancellations.js';
import { ScopedTransport } from './scoped-transport.js';

/** Requests that never reach the gateway: answered as plain JSON. Anything else answers as an SSE stream. */
const QUICK_METHODS = new Set(['initialize', 'ping', 'tools/list', 'resources/templates/list', 'prompts/list', 'logging/setLevel']);
/**
 * Requests that start no work and wait for none: they take no per-principal in-flight slot (the
 * rate still counts them), so a principal whose slots its own jobs hold can still poll and cancel them.
 */
const CONTROL_METHODS = new Set([...QUICK_METHODS, 'tasks/get', 'tasks/list', 'tasks/cancel']);
const MAX_LOGGED_CHARS = 100;
/** Distinct `notifications/cancelled` acted on per POST (a client cancels its few calls; more is abuse). */
const MAX_CANCELS_PER_POST = 16;

/** What one POST carries, read without trusting it (the SDK validates the messages themselves). */
export interface Inspection {
  /** Ids of the JSON-RPC requests (a POST of notifications alone has none). */
  requestIds: RequestId[];
  /** Answer as SSE: a request may reach the gateway (keep-alive comments hold the line) or wants progress. */
  streams: boolean;
  /** A request starts or waits for work (not only control requests): it takes a per-principal in-flight slot. */
  needsSlot: boolean;
  /** How many of its requests do (a POST takes one slot, so the app refuses a batch of several). */
  slotRequests: number;
  /** `requestId`s of the `notifications/cancelled` it carries. */
  cancels: RequestId[];
  /** For the access log: the first method, and the tool and model of the first tools/call. */
  rpcMethod: string | undefined;
  tool: string | undefined;
  model: string | undefined;
  /** The `clientInfo.name` of an `initialize` it carries. */
  clientName: string | undefined;
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is RequestId => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
const short = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, MAX_LOGGED_CHARS) : undefined);

export function inspectMessages(body: unknown): Inspection {
  const messages = (Array.isArray(body) ? body : [body]).filter(isObject);
  const out: Inspection = { requestIds: [], streams: false, needsSlot: false, slotRequests: 0, cancels: [], rpcMethod: short(messages[0]?.['method']), tool: undefined, model: undefined, clientName: undefined };
  for (const message of messages) {
    const method = message['method'];
    if (typeof method !== 'string') continue;
    const params = isObject(message['params']) ? message['params'] : undefined;
    if (isId(message['id'])) {
      out.requestIds.push(message['id']);
      const meta = isObject(params?.['_meta']) ? params['_meta'] : undefined;
      if (!QUICK_METHODS.has(method) || meta?.['progressToken'] !== undefined) out.streams = true;
      if (!CONTROL_METHODS.has(method) && !cancelsJob(method, params)) {
        out.needsSlot = true;
        out.slotRequests++;
      }
      if (method === 'initialize') {
        const info = isObject(params?.['clientInfo']) ? params['clientInfo'] : undefined;
        out.clientName = short(info?.['name']);
      }
      if (method === 'tools/call' && out.tool === undefined) {
        out.tool = short(params?.['name']);
        const args = isObject(params?.['arguments']) ? params['arguments'] : undefined;
        out.model = short(args?.['model']);
      }
    } else if (method === 'notifications/cancelled' && isId(params?.['requestId'])) {
      // Bounded: each unknown id may be published to every replica.
      const id = params['requestId'];
      if (out.cancels.length < MAX_CANCELS_PER_POST && !out.cancels.includes(id)) out.cancels.push(id);
    }
  }
  return out;
}

/** `complete` with `job_id` and `cancel: true`: ends a job at once, whatever it waits for. */
function cancelsJob(method: string, params: Loose | undefined): boolean {
  const args = isObject(params?.['arguments']) ? params['arguments'] : undefined;
  return method === 'tools/call' && params?.['name'] === 'complete' && typeof args?.['job_id'] === 'string' && args['cancel'] === true && params['task'] === undefined;
}

/** How a POST ended, for the access log: `ok`, a tool error code, `rpc_error`, `cancelled`, `client_closed`, `shutdown`. */
export interface ExchangeFacts {
  outcome?: string;
}

export interface ExchangeContext {
  /** The server's configuration; the principal's key replaces its apiKey. */
  config: Readonly<Config>;
  /** The shared upstream client. */
  client: EzrouterClient;
  /** Shared by every request: an answer link or a job outlives the request that made it. */
  answers: AnswerStore;
  tasks: CompletionTasks;
  calls: InFlightCalls;
  /** SSE keep-alive comment interval. */
  keepAliveMs: number;
}

export interface Exchange {
  /** Resolves once the per-request server is closed. */
  done: Promise<void>;
  /** Ends the exchange now (drain deadline passed): its calls are aborted. */
  abort(): void;
}

export function serveExchange(
  ctx: ExchangeContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  inspection: Inspection,
  principal: Principal,
  /**
   * The request's logger and its redactor (requestRedactor: the server's output edge uses the
   * same one), and the name of the principal's client (ClientNameRegistry), for its limits.
   */
  { log, redact, clientName }: { log: Logger; redact: Redactor; clientName: string | undefined },
  facts: ExchangeFacts,
  /** The request's in-flight slot, which a background job or MCP task it starts takes over. */
  jobSlots: JobSlots,
): Exchange {
  if (res.destroyed || (req.socket?.destroyed ?? true)) {
    // The client went away while the request waited (its limits, its client's name in Redis):
    // nothing is started for it, and nobody waits for an answer.
    facts.outcome = 'client_closed';
    return { done: Promise.resolve(), abort: () => {} };
  }
  const config: Readonly<Config> = Object.freeze({ ...ctx.config, apiKey: principal.apiKey });
  const mcp = createServer(config, {
    ...(clientName === undefined ? {} : { clientName }),
    client: ctx.client.withKey(principal.apiKey),
    log,
    redact,
    answers: ctx.answers,
    tasks: ctx.tasks,
    jobSlots,
    // Remote callers never get the server's own disk: `files` is refused in this mode.
    readsFiles: false,
  });
  const transport = new ScopedTransport(
    { sessionIdGenerator: undefined, enableJsonResponse: !inspection.streams, keepAliveMs: ctx.keepAliveMs },
    principal.scope,
    (message) => observe(message, facts),
  );
  transport.onerror = (error) => log.debug(`MCP transport: ${error.message}`);

  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let finished = false;
  const finish = (why?: string): void => {
    if (finished) return;
    finished = true;
    if (why) facts.outcome = why;
    for (const remove of registrations) remove();
    void mcp
      .close()
      .catch(() => {})
      .then(() => {
        // A cancelled or aborted request gets no JSON-RPC answer; a response not begun cannot be ended cleanly.
        if (!res.headersSent && !res.destroyed) res.destroy();
        resolveDone();
      });
  };
  const registrations = inspection.requestIds.map((id) => ctx.calls.add(principal.id, id, () => finish('cancelled')));
  res.once('close', () => finish());

  mcp.server
    .connect(transport)
    .then(() => transport.handleRequest(req, res, body))
    .catch((error: unknown) => {
      log.error('the MCP transport failed on a request', { error });
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null }));
      }
      finish('internal_error');
    });
  return {
    done,
    abort: () => {
      if (finished) return;
      // Tell the client now (so it can retry elsewhere) rather than leave it waiting on a closed stream.
      const answers = inspection.requestIds.map((id) =>
        transport.sendUnobserved({ jsonrpc: '2.0', id, error: { code: SHUTDOWN_ERROR_CODE, message: 'The server is shutting down and aborted this call before it finished: retry it.' } }).catch(() => {}),
      );
      void Promise.all(answers).finally(() => finish('shutdown'));
    },
  };
}

/** JSON-RPC server error for a call aborted by a drain deadline. */
const SHUTDOWN_ERROR_CODE = -32000;

/** Reads the outcome from the answers going out: a tool error's code, or ok. */
function observe(message: JSONRPCMessage, facts: ExchangeFacts): void {
  if ('result' in message && isObject(message.result)) {
    if (message.result['isError'] === true) {
      const meta = isObject(message.result['_meta']) ? message.result['_meta'] : undefined;
      const error = isObject(meta?.['error']) ? meta['error'] : undefined;
      facts.outcome = short(error?.['code']) ?? 'tool_error';
    } else {
      facts.outcome ??= 'ok';
    }
  } else if ('error' in message) {
    facts.outcome = 'rpc_error';
  }
}
