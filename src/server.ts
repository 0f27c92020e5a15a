/**
 * createServer(config, deps): the MCP server with its tools and resources, transport-agnostic.
 * The CLI connects it to stdio; tests connect it to an in-memory transport. Collaborators come
 * in through `deps`, so tests build a real server against the emulator without globals.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Dispatcher } from 'undici';
import type { Config } from './config.js';
import { EzrouterClient } from './ezrouter/client.js';
import { lazyDispatcher, type DispatcherSource } from './ezrouter/http.js';
import { SERVER_INSTRUCTIONS } from './instructions.js';
import { createLogger, type Logger } from './log.js';
import { createRedactor, type Redactor } from './redact.js';
import { registerModelResources } from './resources/models.js';
import type { ToolContext } from './tools/context.js';
import { registerCompleteTool } from './tools/complete.js';
import { registerGetBalanceTool } from './tools/get-balance.js';
import { registerListModelsTool } from './tools/list-models.js';
import { PACKAGE_NAME, USER_AGENT, VERSION } from './version.js';

export interface ServerDeps {
  /**
   * The undici dispatcher for every upstream call. When absent, the server creates one from the
   * config on its first upstream call (undici is not even loaded before) and closes it with itself.
   */
  dispatcher?: Dispatcher;
  log?: Logger;
  /** First retry backoff in ms (default 500); tests shorten it. */
  retryBaseDelayMs?: number;
}

export function createServer(config: Readonly<Config>, deps: ServerDeps = {}): McpServer {
  const redact: Redactor = createRedactor(config.apiKey);
  const log = deps.log ?? createLogger(config.logLevel, redact);
  const owned = deps.dispatcher ? undefined : lazyDispatcher(config);
  const dispatcher: DispatcherSource = owned ? owned.get : (deps.dispatcher as Dispatcher);

  const server = new McpServer(
    { name: PACKAGE_NAME, title: 'ezrouter', version: VERSION },
    { instructions: SERVER_INSTRUCTIONS },
  );
  const client = new EzrouterClient({
    config,
    dispatcher,
    log,
    userAgent: USER_AGENT,
    retryBaseDelayMs: deps.retryBaseDelayMs,
    onCatalogChange: () => {
      log.info('the ezrouter model catalog changed');
      if (server.isConnected()) server.sendResourceListChanged();
    },
  });

  const ctx: ToolContext = { client, config, redact, log };
  registerCompleteTool(server, ctx);
  registerListModelsTool(server, ctx);
  registerGetBalanceTool(server, ctx);
  registerModelResources(server, ctx);

  if (owned) {
    const previous = server.server.onclose;
    server.server.onclose = () => {
      previous?.();
      owned.destroy().catch(() => {});
    };
  }
  return server;
}

export type { Config } from './config.js';
export { loadConfig } from './config.js';
export { ERROR_CODES, type ErrorCode } from './ezrouter/errors.js';
