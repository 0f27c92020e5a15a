/**
 * The HTTP mode's node:http server: routes, the checks every /mcp request passes in order, the
 * access log, and draining. Order on /mcp, cheapest refusal first: Host (403), Origin (403),
 * draining (503), method (405), credentials (401), body size (413, before parsing), JSON (400),
 * the process's in-flight bound (503), the principal's limits (429); then a per-request MCP
 * server (mcp-exchange.ts). A background job or MCP task keeps its request's slot (request-slot.ts). /healthz and /readyz need no credentials and hold no secrets.
 *
 * Every error body and log line passes a redactor: the process's (the server key) before the
 * caller is known, the request's (server key, principal key, bearer token) after.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createNodeServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Config } from '../../config.js';
import type { EzrouterClient } from '../../ezrouter/client.js';
import { createLogger, type Logger, type LogSink } from '../../log.js';
import type { AnswerStore } from '../../store/answer-store.js';
import type { CompletionTasks } from '../../tasks/task-store.js';
import { createRedactor, type Redactor } from '../../redact.js';
import { ClientNames, type ClientNameRegistry } from './client-names.js';
import type { Authenticator, Principal } from './auth.js';
import { readBody } from './body.js';
import { InFlightCalls, type CancelRelay } from './cancellations.js';
import { hostAllowed, originAllowed } from './guards.js';
import type { HttpConfig } from './http-config.js';
import { InFlightGate, type Limits } from './limits.js';
import { inspectMessages, serveExchange, type Exchange, type ExchangeFacts } from './mcp-exchange.js';
import { readyDocument, type Readiness } from './readiness.js';
import { requestRedactor } from './request-redactor.js';
import { limitRefusal, RequestSlot } from './request-slot.js';

export const MCP_PATH = '/mcp';
/** Longest SSE silence: keep-alive comments hold proxies and the idle timeout off a long call. */
const MAX_KEEPALIVE_MS = 15_000;
/** A proxy's request id is kept when it looks like one; anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export interface HttpAppOptions {
  config: Readonly<Config>;
  http: Readonly<HttpConfig>;
  /** The shared upstream client (one socket pool, one catalog). */
  client: EzrouterClient;
  /** The answer store and the task store every request's server uses. */
  answers: AnswerStore;
  tasks: CompletionTasks;
  authenticator: Authenticator;
  limits: Limits;
  readiness: Readiness;
  /** The process logger (JSON lines, the server key redacted). */
  log: Logger;
  /** Where per-request loggers write (stderr). */
  sink?: LogSink;
  /** With several replicas: carries a cancel for a call not running here to the one running it. */
  cancelRelay?: CancelRelay | undefined;
  /** What each principal's client said it is, for its limits (default: this process's own). */
  clientNames?: ClientNameRegistry | undefined;
}

export interface HttpApp {
  server: Server;
  /** Requests being served on /mcp. */
  readonly inFlight: number;
  /**
   * Stops accepting, lets requests in flight finish for up to `drainMs`, then aborts the rest.
   * Resolves with how many had to be aborted.
   */
  shutdown(drainMs: number): Promise<{ aborted: number }>;
}

interface Access {
  request_id: string;
  principal?: string;
  http_method: string;
  path: string;
  status?: number;
  rpc_method?: string;
  tool?: string;
  model?: string;
  outcome?: string;
  refused?: string;
  retry_after_s?: number;
  /** What the MCP exchange observed (its outcome); not a field of the log line itself. */
  facts?: ExchangeFacts;
  /** The request's logger once the caller is known (its redactor knows the caller's secrets). */
  log?: Logger;
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { config, http, authenticator, limits, readiness, log } = options;
  const sink = options.sink ?? process.stderr;
  const gate = new InFlightGate(http.maxInFlight);
  const calls = new InFlightCalls();
  const relay = options.cancelRelay;
  relay
    ?.listen((principal, id) => {
      if (calls.cancel(principal, id) === 'cancelled') log.info('cancellation forwarded by another replica: call aborted', { principal });
    })
    .catch((error: unknown) => log.warn('cannot listen for cancellations from other replicas', { error }));
  const active = new Set<Exchange>();
  const keepAliveMs = Math.max(50, Math.min(MAX_KEEPALIVE_MS, Math.floor(http.idleTimeoutMs / 2)));
  const exchangeContext = { config, client: options.client, answers: options.answers, tasks: options.tasks, calls, keepAliveMs };
  const clientNames = options.clientNames ?? new ClientNames();
  const processRedact = createRedactor(config.apiKey);
  let draining = false;
  let drained: (() => void) | undefined;

  const server = createNodeServer({
    // Slow clients cannot hold sockets: the head within headersTimeout, the whole request
    // (head and body) within requestTimeout, and no socket silent for longer than the idle timeout.
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(http.headersTimeoutMs / 4))),
  });
  server.headersTimeout = http.headersTimeoutMs;
  server.requestTimeout = http.requestTimeoutMs;
  server.keepAliveTimeout = http.idleTimeoutMs;
  server.setTimeout(http.idleTimeoutMs);

  const accessLog = (entry: Access, res: ServerResponse, started: number): void => {
    const { facts, log: requestLog, ...line } = entry;
    line.status = res.statusCode;
    line.outcome ??= facts?.outcome ?? (res.writableFinished ? undefined : 'client_closed');
    (requestLog ?? log).info('request', { ...line, duration_ms: Math.round(performance.now() - started) });
  };

  const refuse = (res: ServerResponse, entry: Access, status: number, refused: string, message: string, headers: Record<string, string> = {}): void => {
    entry.refused = refused;
    sendError(res, status, message, headers, processRedact);
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse, entry: Access): Promise<void> => {
    if (!hostAllowed(req.headers.host, http.allowedHosts)) return refuse(res, entry, 403, 'host', 'Forbidden: this Host is not allowed.');
    if (!originAllowed(req.headers.origin, http.allowedOrigins)) return refuse(res, entry, 403, 'origin', 'Forbidden: this Origin is not allowed.');
    if (draining) return refuse(res, entry, 503, 'draining', 'The server is shutting down: retry on another replica.', { 'retry-after': '1', connection: 'close' });
    if (req.method !== 'POST') {
      // Stateless: no standalone SSE stream (GET) and no session to delete (DELETE).
      return refuse(res, entry, 405, 'method', 'Method not allowed: this stateless endpoint takes POST only.', { allow: 'POST' });
    }
    const principal = await authenticator.authenticate(req);
    if (!principal) {
      return refuse(res, entry, 401, 'auth', 'Unauthorized.', { 'www-authenticate': authenticator.challenge(req) });
    }
    entry.principal = principal.id;
    const redact = requestRedactor(config, principal, req);
    const requestLog = createLogger(config.logLevel, redact, sink, { format: 'json', fields: { request_id: entry.request_id, principal: principal.id } });
    entry.log = requestLog;
    const body = await readBody(req, http.maxBodyBytes);
    if (body.kind === 'aborted') {
      entry.outcome = 'client_closed';
      return;
    }
    if (body.kind === 'too_large') {
      entry.refused = 'body';
      return sendError(res, 413, `Payload too large: a request body may hold at most ${http.maxBodyBytes} bytes (EZROUTER_HTTP_MAX_BODY_BYTES).`, { connection: 'close' }, redact);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      entry.refused = 'json';
      return sendError(res, 400, 'Parse error: the body is not JSON.', {}, redact, -32700);
    }
    const inspection = inspectMessages(parsed);
    entry.rpc_method = inspection.rpcMethod;
    entry.tool = inspection.tool;
    entry.model = inspection.model;
    for (const id of inspection.cancels) {
      const outcome = calls.cancel(principal.id, id);
      if (outcome !== 'unknown') requestLog.info(`cancellation: ${outcome === 'cancelled' ? 'call aborted' : 'id matches several calls of this principal, none aborted'}`);
      else if (relay) {
        // Not running here: another replica may run it (round robin sends the cancel anywhere).
        relay.forward(principal.id, id).then(
          () => requestLog.debug('cancellation: no such call here, forwarded to the other replicas'),
          (error: unknown) => requestLog.warn('cancellation: no such call here, and it could not be forwarded to the other replicas', { error }),
        );
      }
    }
    if (inspection.slotRequests > 1) {
      // One slot per POST: a batch of calls would run all but one of them outside the limits.
      entry.refused = 'batch';
      return sendError(res, 400, 'One call per request: this server takes at most one request that starts work (tools/call, resources/read…) per POST; send them as separate requests.', {}, redact, -32600);
    }
    const leaveGate = inspection.requestIds.length > 0 ? gate.tryEnter() : () => {};
    if (!leaveGate) {
      return refuse(res, entry, 503, 'busy', 'The server is at its limit of requests in flight: retry shortly.', { 'retry-after': '1' });
    }
    let admission;
    try {
      admission = await limits.acquire(principal.id, { slot: inspection.needsSlot });
    } catch (error) {
      leaveGate();
      requestLog.error('the limits store failed', { error });
      return refuse(res, entry, 503, 'limits_unavailable', 'The limits store is unavailable: retry shortly.', { 'retry-after': '1' });
    }
    if (!admission.admitted) {
      leaveGate();
      entry.retry_after_s = admission.retryAfterSeconds;
      return refuse(res, entry, 429, admission.limit, limitRefusal(admission.limit), { 'retry-after': String(admission.retryAfterSeconds) });
    }
    if (requestLog.enabled('debug')) requestLog.debug('MCP request body', { body: parsed });
    const facts: ExchangeFacts = {};
    entry.facts = facts;
    // A background job or MCP task this request starts takes its slot over and frees it when it ends.
    const slot = new RequestSlot(limits, principal.id, inspection.needsSlot ? admission.release : undefined);
    const clientName = await clientNames.resolve(principal.id, inspection.clientName);
    const exchange = serveExchange(exchangeContext, req, res, parsed, inspection, principal, { log: requestLog, redact, clientName }, facts, slot);
    active.add(exchange);
    void exchange.done.then(() => {
      active.delete(exchange);
      slot.end();
      leaveGate();
      if (draining) {
        server.closeIdleConnections();
        if (active.size === 0) drained?.();
      }
    });
  };

  const handleProbe = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'Method not allowed.', { allow: 'GET, HEAD' }, processRedact);
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' }, req.method === 'HEAD');
    if (draining) return sendJson(res, 503, { status: 'draining' }, req.method === 'HEAD');
    const document = readyDocument(await readiness.state());
    return sendJson(res, document.status, document.body, req.method === 'HEAD');
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (draining) res.setHeader('connection', 'close');
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const entry: Access = { request_id: requestId, http_method: req.method ?? '?', path: path.slice(0, 100) };
    res.once('close', () => accessLog(entry, res, started));
    const work = authenticator.route?.(req, res)
      ? Promise.resolve()
      : path === MCP_PATH
        ? handleMcp(req, res, entry)
        : path === '/healthz' || path === '/readyz'
          ? handleProbe(req, res, path)
          : Promise.resolve(sendError(res, 404, 'Not found: the MCP endpoint is /mcp.', {}, processRedact));
    work.catch((error: unknown) => {
      (entry.log ?? log).error('request failed', { error, request_id: requestId });
      if (!res.headersSent && !res.destroyed) sendError(res, 500, 'Internal server error.', {}, processRedact, -32603);
      else res.destroy();
    });
  });

  return {
    server,
    get inFlight() {
      return active.size;
    },
    shutdown: async (drainMs) => {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active.size > 0) {
        const allDone = new Promise<void>((resolve) => (drained = resolve));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([allDone, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
        clearTimeout(timer);
      }
      const aborted = active.size;
      const pending = [...active].map((exchange) => {
        exchange.abort();
        return exchange.done;
      });
      await Promise.all(pending);
      server.closeAllConnections();
      await closed;
      return { aborted };
    },
  };
}

/** A JSON-RPC error body (what MCP clients parse), through the redactor. */
function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string>, redact: Redactor, code = -32000): void {
  if (res.headersSent || res.destroyed) return;
  const body = redact(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, document: unknown, headOnly: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(document);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}

export type { Principal };
