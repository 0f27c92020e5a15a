/**
 * The per-request transport: the SDK's stateless Streamable HTTP transport, plus two things.
 * The `sessionId` the MCP server reads is the principal's scope, which the SDK hands to the task
 * store with every task operation, so one principal's MCP tasks and background jobs are
 * invisible to every other (tasks/list, tasks/get, job_id); nothing of it reaches the wire (the
 * Mcp-Session-Id header comes from the inner web-standard transport, which stays session-less).
 * And every outgoing message is shown to `observe` first (the access log's outcome).
 */
import { StreamableHTTPServerTransport, type StreamableHTTPServerTransportOptions } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export class ScopedTransport extends StreamableHTTPServerTransport {
  constructor(
    options: StreamableHTTPServerTransportOptions,
    private readonly scope: string,
    private readonly observe: (message: JSONRPCMessage) => void,
  ) {
    super(options);
  }

  override get sessionId(): string {
    return this.scope;
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.observe(message);
    return super.send(message, options);
  }

  /** Sends without `observe` (the drain's own error answers). */
  sendUnobserved(message: JSONRPCMessage): Promise<void> {
    return super.send(message);
  }
}
