/**
 * The per-request transport as the MCP server sees it: the SDK's stateless Streamable HTTP
 * transport, plus two things. Its `sessionId` is the principal's scope, which the SDK hands to
 * the task store with every task operation, so one principal's MCP tasks and background jobs are
 * invisible to every other (tasks/list, tasks/get, job_id), while nothing reaches the wire: the
 * inner transport still sends no Mcp-Session-Id. And every outgoing message is shown to
 * `observe` first (the access log's outcome).
 */
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export class ScopedTransport implements Transport {
  constructor(
    readonly inner: StreamableHTTPServerTransport,
    private readonly scope: string,
    private readonly observe: (message: JSONRPCMessage) => void,
  ) {}

  get sessionId(): string {
    return this.scope;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.observe(message);
    return this.inner.send(message, options);
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
    this.inner.onmessage = handler;
  }
}
