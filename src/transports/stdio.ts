/**
 * Runs the server on stdio and owns the process lifecycle: when stdin closes, or on SIGINT /
 * SIGTERM, every in-flight upstream request is aborted and the process exits within a second.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.js';
import { installCrashHandlers } from '../crash.js';
import { createLogger } from '../log.js';
import { createRedactor, maskKey, unredactableKeyWarning } from '../redact.js';
import { createServer } from '../server.js';
import { MAX_STDIN_LINE_BYTES, StdinLineGuard } from './stdin-guard.js';
import { VERSION } from '../version.js';

/** Longest we wait for a clean close before exiting anyway. */
const SHUTDOWN_GRACE_MS = 500;

export async function serveStdio(config: Readonly<Config>): Promise<void> {
  const redact = createRedactor(config.apiKey);
  const log = createLogger(config.logLevel, redact);
  installCrashHandlers(log);
  const { server, close } = createServer(config, { log });
  const input = process.stdin.pipe(
    new StdinLineGuard(MAX_STDIN_LINE_BYTES, ({ bytes, id }) => {
      log.warn(`dropped an input line of ${bytes} bytes (over the ${MAX_STDIN_LINE_BYTES}-byte limit)`, { id });
      // Answer the dropped request, so that its caller does not wait for nothing.
      // Through the connected (redacting) transport, like every other message.
      if (id !== undefined) {
        server.server.transport
          ?.send({
            jsonrpc: '2.0',
            id,
            error: { code: ErrorCode.InvalidRequest, message: `Request too large: ${bytes} bytes, over this server's ${MAX_STDIN_LINE_BYTES}-byte limit per message.` },
          })
          .catch(() => {});
      }
    }),
  );
  const transport = new StdioServerTransport(input, process.stdout);

  let stopping = false;
  const shutdown = (why: string, exitCode = 0): void => {
    if (stopping) return;
    stopping = true;
    log.info(`shutting down (${why})`);
    const force = setTimeout(() => process.exit(exitCode), SHUTDOWN_GRACE_MS);
    force.unref();
    // Closing the server aborts every in-flight handler's signal, which aborts its upstream
    // request, and closes the dispatcher's sockets.
    close().finally(() => process.exit(exitCode));
  };

  transport.onerror = (error) => log.warn('ignored a message that is not valid JSON-RPC', { error });
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdout.on('error', () => shutdown('stdout closed'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  server.server.onclose = () => shutdown('transport closed');
  await server.connect(transport);
  log.info(`ezrouter-mcp ${VERSION} ready on stdio`, {
    gateway: config.baseUrl,
    key: config.apiKey ? maskKey(config.apiKey) : 'missing (set EZROUTER_API_KEY)',
  });
  const shortKey = unredactableKeyWarning(config.apiKey);
  if (shortKey) log.warn(shortKey);
}
