/**
 * The output edge of the MCP server: a Transport wrapper through which every outgoing message
 * passes the redactor — tool results (every content block and structuredContent, success and
 * error), resource lists and bodies, completion answers, notifications, JSON-RPC errors. No
 * handler can skip it: createServer's McpServer connects only through this wrapper.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Redactor } from '../redact.js';

export class RedactingTransport implements Transport {
  /**
   * @param onIncoming sees every incoming message before the server handles it (the server
   *   notes there which calls asked for task execution)
   */
  constructor(
    private readonly inner: Transport,
    private readonly redact: Redactor,
    private readonly onIncoming?: (message: JSONRPCMessage) => void,
  ) {}

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(redactDeep(message, this.redact.secretOnly) as JSONRPCMessage, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get onclose(): Transport['onclose'] {
    return this.inner.onclose;
  }
  set onclose(handler: Transport['onclose']) {
    this.inner.onclose = handler;
  }
  get onerror(): Transport['onerror'] {
    return this.inner.onerror;
  }
  set onerror(handler: Transport['onerror']) {
    this.inner.onerror = handler;
  }
  get onmessage(): Transport['onmessage'] {
    return this.inner.onmessage;
  }
  set onmessage(handler: Transport['onmessage']) {
    const observe = this.onIncoming;
    this.inner.onmessage =
      handler && observe
        ? (message, extra) => {
            observe(message);
            handler(message, extra);
          }
        : handler;
  }
  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }
  get setProtocolVersion(): Transport['setProtocolVersion'] {
    return this.inner.setProtocolVersion?.bind(this.inner);
  }
}

/**
 * A copy of `value` with `clean` applied to every string, property names included; parts that
 * do not change are shared, not copied. The recursion is bounded: a value nested deeper than
 * MAX_DEPTH is replaced by a marker (upstream JSON that deep is refused before it gets here).
 */
export function redactDeep(value: unknown, clean: (text: string) => string): unknown {
  return walk(value, clean, 0);
}

const MAX_DEPTH = 200;

function walk(value: unknown, clean: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return clean(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep to show]';
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = walk(item, clean, depth + 1);
      if (next !== item) (copy ??= value.slice())[i] = next;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const next = walk(item, clean, depth + 1);
    const name = clean(key);
    if (next === item && name === key) continue;
    copy ??= { ...record };
    if (name !== key) delete copy[key];
    copy[name] = next;
  }
  return copy ?? value;
}
