/**
 * createServer(config, deps): the MCP server with its tools and resources, transport-agnostic,
 * and the `close` that releases what it owns. The CLI connects it to stdio; tests connect it to
 * an in-memory transport; the HTTP mode builds one per request around a shared EzrouterClient.
 * Collaborators come in through `deps`, so tests build a real server against the emulator
 * without globals.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Dispatcher } from 'undici';
import type { Config } from './config.js';
import type { HandlerContext } from './context.js';
import { EzrouterClient } from './ezrouter/client.js';
import { SERVER_INSTRUCTIONS } from './instructions.js';
import { createLogger, type Logger } from './log.js';
import { createRedactor, type Redactor } from './redact.js';
import { ResourceDirectory } from './resources/directory.js';
import { addModelResources } from './resources/models.js';
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
  /** First retry backoff in ms (default 500) for a client the server creates; tests shorten it. */
  retryBaseDelayMs?: number;
}

/** An McpServer that connects only through the redaction boundary (see RedactingTransport). */
class RedactedMcpServer extends McpServer {
  constructor(
    private readonly redact: Redactor,
    ...args: ConstructorParameters<typeof McpServer>
  ) {
    super(...args);
  }

  override connect(transport: Transport): Promise<void> {
    return super.connect(new RedactingTransport(transport, this.redact));
  }
}

export interface EzrouterMcpServer {
  server: McpServer;
  /** Closes the MCP server (aborting its in-flight calls) and the upstream client it owns. */
  close(): Promise<void>;
}

export function createServer(config: Readonly<Config>, deps: ServerDeps = {}): EzrouterMcpServer {
  const redact: Redactor = createRedactor(config.apiKey);
  const log = deps.log ?? createLogger(config.logLevel, redact);
  const client =
    deps.client ??
    new EzrouterClient({ config, dispatcher: deps.dispatcher, log, userAgent: USER_AGENT, retryBaseDelayMs: deps.retryBaseDelayMs });

  const server = new RedactedMcpServer(redact, { name: PACKAGE_NAME, title: 'ezrouter', version: VERSION }, { instructions: SERVER_INSTRUCTIONS });
  const unsubscribe = client.onCatalogChange(() => {
    log.info('the ezrouter model catalog changed');
    if (server.isConnected()) server.sendResourceListChanged();
  });

  const ctx: HandlerContext = { client, config, redact, log };
  registerCompleteTool(server, ctx);
  registerListModelsTool(server, ctx);
  registerGetBalanceTool(server, ctx);
  const resources = new ResourceDirectory(redact, log);
  addModelResources(resources, ctx);
  resources.install(server);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      unsubscribe();
      await server.close().catch(() => {});
      if (!deps.client) await client.close().catch(() => {});
    })());
  return { server, close };
}

export type { Config } from './config.js';
export { loadConfig } from './config.js';
export { EzrouterClient } from './ezrouter/client.js';
export { ERROR_CODES, type ErrorCode } from './ezrouter/errors.js';
