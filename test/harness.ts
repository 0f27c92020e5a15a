/**
 * Test harness: the emulator on loopback, a real server from createServer, and the SDK Client
 * over InMemoryTransport. Configuration goes through loadConfig with short timeouts.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig, type Config } from '../src/config.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';
import { createDispatcher } from '../src/ezrouter/dispatcher.js';
import { createLogger } from '../src/log.js';
import { createRedactor } from '../src/redact.js';
import { createServer, type ServerDeps } from '../src/server.js';

export interface Harness {
  emulator: Emulator;
  client: Client;
  server: McpServer;
  config: Readonly<Config>;
  /** Everything the server logged (at debug level), already redacted as it would be on stderr. */
  logs: string[];
  /** Every message the client received from the server, as sent on the wire (JSON text). */
  received: string[];
  call(name: string, args?: Record<string, unknown>, options?: Parameters<Client['callTool']>[2]): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Short limits so faults resolve fast; each test may override any variable. */
export const FAST_ENV = {
  EZROUTER_TIMEOUT_MS: '8000',
  EZROUTER_IDLE_TIMEOUT_MS: '1500',
  EZROUTER_MAX_RETRIES: '2',
  EZROUTER_LOG_LEVEL: 'debug',
} as const;

export async function startHarness(
  options: {
    env?: Record<string, string | undefined>;
    emulator?: EmulatorOptions;
    retryBaseDelayMs?: number;
    maxSocketsPerOrigin?: number;
    /** The clientInfo.name the test client sends (default ezrouter-mcp-tests, an unknown client). */
    clientName?: string;
    /** Extra server collaborators (client limits table, environment, the answer and task stores). */
    deps?: Pick<ServerDeps, 'clientProfiles' | 'env' | 'readsFiles' | 'answers' | 'tasks'>;
    /** Capabilities the test client declares (e.g. roots), and a hook to set its handlers before it connects. */
    clientCapabilities?: ClientCapabilities;
    beforeConnect?: (client: Client) => void;
  } = {},
): Promise<Harness> {
  const emulator = await startEmulator(options.emulator);
  const config = loadConfig({
    EZROUTER_API_KEY: emulator.apiKey,
    EZROUTER_BASE_URL: emulator.url,
    ...FAST_ENV,
    ...options.env,
  });
  const logs: string[] = [];
  const redact = createRedactor(config.apiKey);
  const log = createLogger('debug', redact, { write: (line: string) => logs.push(line) });
  const dispatcher = createDispatcher(config, { maxSocketsPerOrigin: options.maxSocketsPerOrigin });
  const { server, close: closeServer } = createServer(config, {
    dispatcher,
    log,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 5,
    env: {},
    ...options.deps,
  });
  const client = new Client({ name: options.clientName ?? 'ezrouter-mcp-tests', version: '0.0.0' }, { capabilities: options.clientCapabilities ?? {} });
  options.beforeConnect?.(client);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const received: string[] = [];
  // What the server sends leaves through serverTransport.send (behind its redaction boundary):
  // record it as the wire would carry it.
  const serverSend = serverTransport.send.bind(serverTransport);
  serverTransport.send = (message, sendOptions) => {
    received.push(JSON.stringify(message));
    return serverSend(message, sendOptions);
  };
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  return {
    emulator,
    client,
    server,
    config,
    logs,
    received,
    call: async (name, args = {}, callOptions) => (await client.callTool({ name, arguments: args }, undefined, callOptions)) as CallToolResult,
    close: async () => {
      await client.close();
      await closeServer();
      await dispatcher.destroy();
      await emulator.close();
    },
  };
}

export function textOf(result: CallToolResult, index = 0): string {
  const block = result.content[index];
  return block && block.type === 'text' ? block.text : '';
}

export interface ErrorMetaShape {
  code: string;
  retryable: boolean;
  status?: number;
  upstream_code?: string;
  request_id?: string;
}

export function errorMeta(result: CallToolResult): ErrorMetaShape | undefined {
  return (result._meta as { error?: ErrorMetaShape } | undefined)?.error;
}

/** Polls `probe` until it returns a value (for facts observed on the emulator side). */
export async function waitFor<T>(probe: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Reads a stored answer (`ezrouter://answers/{id}`) from `from` to its end, page by page. */
export async function readStored(client: Client, uri: string, from = 0): Promise<string> {
  let text = '';
  let offset: number | undefined = from;
  while (offset !== undefined) {
    const page = await client.readResource({ uri: `${uri}?offset=${offset}` });
    const content = page.contents[0] as { text: string; _meta?: { next_offset?: number } };
    text += content.text;
    offset = content._meta?.next_offset;
  }
  return text;
}
