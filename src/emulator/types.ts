/** Public types of the ezrouter emulator. */
import type { EmulatorModel } from './models.js';

/** Which API surface a request used. */
export type Surface = 'openai' | 'anthropic';

/** What the answer generator receives. */
export interface ReplyRequest {
  model: string;
  lastUserText: string;
  surface: Surface;
}

export interface EmulatorOptions {
  /** Default 0 (a random free port). */
  port?: number;
  /** Default '127.0.0.1'; loopback addresses only. */
  host?: string;
  /** Default 'sk-emu-0123456789abcdef0123456789abcdef'. */
  apiKey?: string;
  /** More keys accepted besides `apiKey` (several principals, each with its own key). */
  extraKeys?: string[];
  /** Default DEFAULT_MODELS. */
  models?: EmulatorModel[];
  /** JSON body for GET /v1/user/balance; null → 404 envelope. */
  balance?: unknown | null;
  /** Code points per content delta (= per completion token). Default 4. */
  chunkChars?: number;
  /** Answer generator. Default defaultReply. */
  reply?: (req: ReplyRequest) => string;
  /** Serve HTTPS with this key pair instead of HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface RecordedRequest {
  /** The x-oneapi-request-id sent back. */
  id: string;
  method: string;
  /** Path without the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body if it parsed, else the raw string, else undefined (empty body). */
  body: unknown;
  /** Resolves when the response is done (aborted=false) or the connection closed first (aborted=true). */
  closed: Promise<{ aborted: boolean }>;
  /** Live flag, set when `closed` resolves with aborted=true. */
  aborted: boolean;
}

/** Which later requests a scripted behaviour applies to. */
export interface ScriptMatch {
  /** Exact path (any method). Default: POST /v1/chat/completions or /anthropic/v1/messages. */
  path?: string;
  /** Exact body.model. */
  model?: string;
}

export interface Emulator {
  /** e.g. http://127.0.0.1:41234 (https:// with tls). */
  readonly url: string;
  readonly apiKey: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Recorded requests whose path starts with pathPrefix (all if omitted). */
  count(pathPrefix?: string): number;
  /** Queue a behaviour for exactly one later matching request (FIFO among matching). */
  script(behaviour: Behaviour, match?: ScriptMatch): void;
  /**
   * The next `requests` chat requests (either surface) wait, before they are answered, until all
   * of them have arrived; then they go on together. Proves concurrency without timing.
   */
  hold(requests: number): void;
  setModels(models: EmulatorModel[]): void;
  setBalance(body: unknown | null): void;
  /** TCP sockets accepted so far / currently open. */
  readonly connections: { readonly total: number; readonly open: number };
  /** Requests being answered now, and the most there were at once since the start (or reset). */
  readonly inFlight: { readonly now: number; readonly peak: number };
  /** Clears recorded requests and scripted behaviours (not models, not balance). */
  reset(): void;
  /** Destroys every socket (stalled ones too) and closes the server. */
  close(): Promise<void>;
}

export type Behaviour =
  | {
      kind: 'error';
      status: number;
      /** Object → JSON; string → sent as-is; default: the standard envelope for the status. */
      body?: string | object;
      headers?: Record<string, string>;
      contentType?: string;
    }
  /** Read the request, never answer. */
  | { kind: 'stall' }
  /** Destroy the socket without a response. */
  | { kind: 'reset' }
  /** Write these bytes on the socket as the whole response (status line included), then end it. */
  | { kind: 'raw'; data: string | Buffer }
  | ({ kind: 'stream' } & StreamScript);

export interface StreamScript {
  /** Answer text (default: the reply function). */
  text?: string;
  /** Reasoning text sent before the answer. */
  reasoning?: string;
  /** Overrides the chunkChars option. */
  chunkChars?: number;
  /** Surface-native finish value (openai finish_reason / anthropic stop_reason). */
  finishReason?: string;
  /** Merged over the computed usage object. */
  usage?: Record<string, unknown>;
  /** openai: prompt_tokens_details.cached_tokens; anthropic: cache_read_input_tokens. */
  cachedTokens?: number;
  /** Wait before sending the response head. */
  headDelayMs?: number;
  /** Wait between frames (each frame its own write). */
  frameDelayMs?: number;
  /** Keep-alives before the first frame (': PING' comments / 'event: ping' frames). */
  pingsBefore?: number;
  /** With stallAfterFrames: keep-alive interval while stalled. */
  pingEveryMs?: number;
  /** Write the whole body in pieces of these byte sizes (cycled), or random sizes 1..64. */
  byteSplits?: number[] | 'random';
  /** Default '\n'. */
  lineEnding?: '\n' | '\r\n' | '\r';
  /** 'data:{json}' instead of 'data: {json}' (and 'event:name'). */
  noSpace?: boolean;
  /** After N frames stop writing but keep the socket open. */
  stallAfterFrames?: number;
  /** After the last chunk (an error frame or early end included), keep the socket open instead of ending the response. */
  holdOpen?: boolean;
  /** After N frames end cleanly without the terminator. */
  endAfterFrames?: number;
  /** After N frames destroy the socket. */
  resetAfterFrames?: number;
  /** After N frames send an error frame, then end. */
  errorFrameAfterFrames?: number;
  /** After N frames send `data: {not json`, then continue. */
  malformedAfterFrames?: number;
  /** Override the response content type. */
  contentType?: string;
  /** Extra response headers (they win over the emulator's own, the request id included). */
  headers?: Record<string, string>;
  /** The model name the frames report (default: the model asked for). */
  model?: string;
  /** openai only: answer a plain application/json chat.completion body. */
  json?: boolean;
  /** Default 200. */
  status?: number;
}
