/** The emulator's HTTP(S) server: routing, auth, scripting and recording. */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicErrorFrame, anthropicFrames, anthropicMessageBody, anthropicPing, anthropicTerminator } from './anthropic-stream.js';
import { buildCompletion } from './completion.js';
import {
  accessDenied,
  anthropicError,
  defaultErrorBody,
  gatewayError,
  invalidUrl,
  newRequestId,
  unauthorizedMessage,
  withId,
} from './errors.js';
import { type FrameKit, planBody } from './faults.js';
import { copyModels, DEFAULT_MODELS, type EmulatorModel, modelsBody } from './models.js';
import { openaiErrorFrame, openaiFrames, openaiJsonBody, openaiTerminator } from './openai-stream.js';
import { defaultReply } from './reply.js';
import { isObject, readInference, validationError } from './request.js';
import { malformedFrame, pingComment, type SseFormat } from './sse.js';
import { Timers } from './timers.js';
import type {
  Behaviour,
  Emulator,
  EmulatorOptions,
  RecordedRequest,
  ReplyRequest,
  ScriptMatch,
  StreamScript,
  Surface,
} from './types.js';
import { destroySocket, writeBody } from './writer.js';

export const DEFAULT_API_KEY = 'sk-emu-0123456789abcdef0123456789abcdef';
export const DEFAULT_BALANCE = { object: 'balance', data: { balance: 42.5, currency: 'USD' } };

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const CHAT_PATH = '/v1/chat/completions';
const MESSAGES_PATH = '/anthropic/v1/messages';
/** Bodies above this size get the gateway's 413. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';
const SSE_TYPE = 'text/event-stream';

/** One request being handled. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  path: string;
  surface: Surface;
}

interface Scripted {
  behaviour: Behaviour;
  match: ScriptMatch;
}

/** Reads the whole request body; `tooLarge` when it exceeded MAX_BODY_BYTES (the rest is drained). */
function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) parts.push(chunk);
    });
    const done = (): void => resolve({ text: Buffer.concat(parts).toString('utf8'), tooLarge: size > MAX_BODY_BYTES });
    req.once('end', done);
    req.once('error', done);
    req.once('close', done);
  });
}

function parseBody(text: string): { body: unknown; json: boolean } {
  if (text === '') return { body: undefined, json: false };
  try {
    return { body: JSON.parse(text) as unknown, json: true };
  } catch {
    return { body: text, json: false };
  }
}

function send(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void =>
  send(res, status, JSON.stringify(body), JSON_TYPE, headers);

const bearer = (header: string | undefined): string | undefined => /^Bearer\s+(\S.*)$/i.exec(header ?? '')?.[1]?.trim();

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

class EmulatorServer implements Emulator {
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  private models: EmulatorModel[];
  private balance: unknown | null;
  private readonly chunkChars: number;
  private readonly reply: (req: ReplyRequest) => string;
  private readonly scripts: Scripted[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Timers();
  private totalConnections = 0;
  private inFlightNow = 0;
  private inFlightPeak = 0;
  private closing: Promise<void> | null = null;
  private gate: { size: number; waiting: (() => void)[] } | null = null;
  private baseUrl = '';

  constructor(
    private readonly server: Server,
    private readonly options: EmulatorOptions,
  ) {
    this.apiKey = options.apiKey ?? DEFAULT_API_KEY;
    this.models = copyModels(options.models ?? DEFAULT_MODELS);
    this.balance = options.balance === undefined ? DEFAULT_BALANCE : options.balance;
    this.chunkChars = options.chunkChars ?? 4;
    this.reply = options.reply ?? ((r) => defaultReply(r.model, r.lastUserText));
    server.on('connection', (socket: Socket) => this.track(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  get url(): string {
    return this.baseUrl;
  }

  get connections(): { readonly total: number; readonly open: number } {
    return { total: this.totalConnections, open: this.sockets.size };
  }

  /** Binds the server; resolves with the emulator once listening. */
  async listen(): Promise<this> {
    const host = this.options.host ?? '127.0.0.1';
    if (!LOOPBACK.has(host)) throw new Error(`ezrouter emulator: host must be a loopback address, got ${host}`);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port, address } = this.server.address() as AddressInfo;
    const shown = address.includes(':') ? `[${address}]` : address;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://${shown}:${port}`;
    return this;
  }

  count(pathPrefix?: string): number {
    if (pathPrefix === undefined) return this.requests.length;
    return this.requests.filter((r) => r.path.startsWith(pathPrefix)).length;
  }

  script(behaviour: Behaviour, match: ScriptMatch = {}): void {
    this.scripts.push({ behaviour, match: { ...match } });
  }

  setModels(models: EmulatorModel[]): void {
    this.models = copyModels(models);
  }

  setBalance(body: unknown | null): void {
    this.balance = body;
  }

  hold(requests: number): void {
    this.gate = { size: requests, waiting: [] };
  }

  /** Waits at the gate set by hold() (chat requests only), until the last of them arrives. */
  private async passGate(method: string, path: string): Promise<void> {
    const gate = this.gate;
    if (!gate || method !== 'POST' || (path !== CHAT_PATH && path !== MESSAGES_PATH)) return;
    await new Promise<void>((resolve) => {
      gate.waiting.push(resolve);
      if (gate.waiting.length < gate.size) return;
      this.gate = null;
      for (const release of gate.waiting) release();
    });
  }

  get inFlight(): { now: number; peak: number } {
    return { now: this.inFlightNow, peak: this.inFlightPeak };
  }

  reset(): void {
    this.inFlightPeak = this.inFlightNow;
    this.requests.length = 0;
    this.scripts.length = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.timers.clear();
      for (const socket of this.sockets) socket.destroy();
      this.server.close(() => resolve());
    });
    return this.closing;
  }

  private track(socket: Socket): void {
    this.totalConnections++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Records the request, then answers it: script first, else the gateway's documented behaviour. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on('error', () => undefined);
    const id = newRequestId();
    res.setHeader('x-oneapi-request-id', id);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const record = this.record(req, res, id, path);
    const { text, tooLarge } = await readBody(req);
    const parsed = parseBody(text);
    record.body = parsed.body;
    if (res.destroyed) return;
    await this.passGate(req.method ?? 'GET', path);
    if (res.destroyed) return;

    const x: Exchange = { req, res, record, path, surface: path.startsWith('/anthropic/') ? 'anthropic' : 'openai' };
    const scripted = this.takeScript(req.method ?? 'GET', path, parsed.body);
    if (scripted) return this.perform(x, scripted, parsed.body);
    if (tooLarge) {
      res.setHeader('connection', 'close');
      return sendJson(res, 413, defaultErrorBody(413, this.errorContext(x, parsed.body)));
    }
    return this.route(x, parsed);
  }

  private record(req: IncomingMessage, res: ServerResponse, id: string, path: string): RecordedRequest {
    let settle!: (v: { aborted: boolean }) => void;
    const record: RecordedRequest = {
      id,
      method: req.method ?? 'GET',
      path,
      headers: { ...req.headers },
      body: undefined,
      closed: new Promise((resolve) => (settle = resolve)),
      aborted: false,
    };
    this.inFlightNow++;
    this.inFlightPeak = Math.max(this.inFlightPeak, this.inFlightNow);
    res.once('close', () => {
      this.inFlightNow--;
      record.aborted = !res.writableFinished;
      settle({ aborted: record.aborted });
    });
    this.requests.push(record);
    return record;
  }

  /** Removes and returns the first queued behaviour matching this request. */
  private takeScript(method: string, path: string, body: unknown): Behaviour | null {
    const model = isObject(body) && typeof body.model === 'string' ? body.model : undefined;
    const index = this.scripts.findIndex(({ match }) => {
      const pathOk = match.path !== undefined ? match.path === path : method === 'POST' && (path === CHAT_PATH || path === MESSAGES_PATH);
      return pathOk && (match.model === undefined || match.model === model);
    });
    if (index < 0) return null;
    return this.scripts.splice(index, 1)[0]?.behaviour ?? null;
  }

  private errorContext(x: Exchange, body: unknown): { requestId: string; method: string; path: string; model: string } {
    const model = isObject(body) && typeof body.model === 'string' ? body.model : 'unknown';
    return { requestId: x.record.id, method: x.record.method, path: x.path, model };
  }

  private perform(x: Exchange, b: Behaviour, body: unknown): void | Promise<void> {
    switch (b.kind) {
      case 'stall':
        return;
      case 'reset':
        return destroySocket(x.req.socket);
      case 'raw':
        // Bypasses node's HTTP writer: whatever bytes a broken gateway or proxy might send.
        x.req.socket.end(b.data);
        return;
      case 'error':
        return this.scriptedError(x, b, body);
      case 'stream':
        return this.complete(x, body, b);
    }
  }

  private scriptedError(x: Exchange, b: Extract<Behaviour, { kind: 'error' }>, body: unknown): void {
    const headers = { ...b.headers };
    if (typeof b.body === 'string') {
      const type = b.contentType ?? (b.body.trimStart().startsWith('<') ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8');
      return send(x.res, b.status, b.body, type, headers);
    }
    const payload = b.body ?? defaultErrorBody(b.status, this.errorContext(x, body));
    send(x.res, b.status, JSON.stringify(payload), b.contentType ?? JSON_TYPE, headers);
  }

  private route(x: Exchange, parsed: { body: unknown; json: boolean }): void | Promise<void> {
    const method = x.record.method;
    const key = `${method} ${x.path}`;
    switch (key) {
      case 'GET /v1/models':
        if (!this.authorized(x)) return;
        return sendJson(x.res, 200, modelsBody(this.models), { 'x-new-api-version': 'v0.9.0-emu' });
      case 'GET /v1/user/balance':
        if (!this.authorized(x)) return;
        if (this.balance === null) return sendJson(x.res, 404, invalidUrl(method, x.path));
        return sendJson(x.res, 200, this.balance);
      case 'POST /v1/completions':
        if (!this.authorized(x)) return;
        return sendJson(x.res, 501, gatewayError('api_not_implemented', withId('API not implemented', x.record.id), 'new_api_error'));
      case `POST ${CHAT_PATH}`:
      case `POST ${MESSAGES_PATH}`:
        return this.inference(x, parsed);
      default:
        return sendJson(x.res, 404, invalidUrl(method, x.path));
    }
  }

  /** Checks the key for the exchange's surface; answers 401 and returns false when it is wrong. */
  private authorized(x: Exchange): boolean {
    const fromBearer = bearer(single(x.req.headers.authorization));
    const fromHeader = x.surface === 'anthropic' ? single(x.req.headers['x-api-key'])?.trim() : undefined;
    if ([fromBearer, fromHeader].some((key) => key !== undefined && (key === this.apiKey || this.options.extraKeys?.includes(key)))) return true;
    const message = unauthorizedMessage(x.record.id, fromHeader || fromBearer || undefined);
    sendJson(
      x.res,
      401,
      x.surface === 'anthropic'
        ? anthropicError('authentication_error', message)
        : gatewayError('invalid_api_key', message, 'authentication_error'),
    );
    return false;
  }

  /** Auth, body and catalog checks for the two chat endpoints, then the answer. */
  private inference(x: Exchange, parsed: { body: unknown; json: boolean }): void | Promise<void> {
    if (!this.authorized(x)) return;
    const anthropic = x.surface === 'anthropic';
    const badRequest = (code: string, message: string): void =>
      sendJson(
        x.res,
        400,
        anthropic ? anthropicError('invalid_request_error', message) : gatewayError(code, withId(message, x.record.id), 'invalid_request_error'),
      );
    if (!parsed.json) return badRequest('bad_request_body', 'invalid JSON in request body');
    const problem = validationError(x.surface, parsed.body);
    if (problem !== null) return badRequest('invalid_request', problem);
    const model = (parsed.body as { model: string }).model;
    if (!this.models.some((m) => m.id === model)) return sendJson(x.res, 403, accessDenied(x.record.id, model));
    return this.complete(x, parsed.body, {});
  }

  /** Streams (or, where applicable, returns as JSON) the emulated answer. */
  private async complete(x: Exchange, body: unknown, s: StreamScript): Promise<void> {
    const input = readInference(x.surface, body);
    const answer = s.text ?? this.reply({ model: input.model, lastUserText: input.lastUserText, surface: x.surface });
    const c = buildCompletion(input, answer, s, this.chunkChars);
    const f: SseFormat = { eol: s.lineEnding ?? '\n', noSpace: s.noSpace === true };

    let frames: Iterable<string>;
    let kit: FrameKit;
    let contentType = SSE_TYPE;
    const asJson = x.surface === 'openai' ? s.json === true : !input.stream;
    if (asJson) {
      frames = [JSON.stringify(x.surface === 'openai' ? openaiJsonBody(c) : anthropicMessageBody(c))];
      kit = { keepAlive: null, terminator: null, errorFrame: null, malformed: null };
      contentType = JSON_TYPE;
    } else if (x.surface === 'openai') {
      frames = openaiFrames(c, f);
      kit = { keepAlive: pingComment(f), terminator: openaiTerminator(f), errorFrame: openaiErrorFrame(f, x.record.id), malformed: malformedFrame(f) };
    } else {
      frames = anthropicFrames(c, f);
      kit = { keepAlive: anthropicPing(f), terminator: anthropicTerminator(f), errorFrame: anthropicErrorFrame(f), malformed: malformedFrame(f) };
    }

    await this.timers.sleep(s.headDelayMs ?? 0);
    if (x.res.destroyed || x.req.socket.destroyed) return;
    const headers: Record<string, string> = { 'content-type': s.contentType ?? contentType };
    if (!asJson) headers['cache-control'] = 'no-cache';
    Object.assign(headers, s.headers);
    x.res.writeHead(s.status ?? 200, headers);
    x.res.flushHeaders();
    const pacing = { frameDelayMs: s.frameDelayMs, byteSplits: s.byteSplits, pingEveryMs: s.pingEveryMs, keepAlive: kit.keepAlive };
    await writeBody(x.res, planBody(frames, kit, s), pacing, this.timers);
  }
}

/** Starts an emulator listening on loopback (a random port unless `port` is given). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createHttpServer();
  return new EmulatorServer(server, options).listen();
}
