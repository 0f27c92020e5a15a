/**
 * HTTP-mode harness: the emulator as the gateway, the real HTTP service (startHttpService: the
 * same wiring `ezrouter-mcp http` runs) on a loopback port, and the SDK's Streamable HTTP client.
 * Logs are collected exactly as they would reach stderr.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadConfig } from '../src/config.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';
import { loadHttpConfig } from '../src/transports/http/http-config.js';
import { startHttpService, type HttpService } from '../src/transports/http/serve.js';

/** Short limits: faults resolve fast; every test may override any variable. */
export const HTTP_FAST_ENV = {
  EZROUTER_TIMEOUT_MS: '8000',
  EZROUTER_IDLE_TIMEOUT_MS: '1500',
  EZROUTER_MAX_RETRIES: '0',
  EZROUTER_LOG_LEVEL: 'info',
  EZROUTER_HTTP_PORT: '0',
  EZROUTER_HTTP_DRAIN_MS: '2000',
} as const;

export interface TokenSpec {
  principal: string;
  token: string;
  api_key?: string;
  api_key_env?: string;
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A tokens file in a fresh temp dir; `write` replaces its content. */
export function tokensFile(specs: TokenSpec[]): { path: string; write(specs: TokenSpec[] | string): void; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ezrouter-tokens-'));
  const path = join(dir, 'tokens.json');
  const write = (content: TokenSpec[] | string): void => {
    const text =
      typeof content === 'string'
        ? content
        : JSON.stringify({ tokens: content.map(({ token, ...rest }) => ({ ...rest, sha256: sha256(token) })) }, null, 2);
    writeFileSync(path, text, { mode: 0o600 });
  };
  write(specs);
  return { path, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface HttpHarness {
  emulator: Emulator;
  service: HttpService;
  /** http://127.0.0.1:port/mcp */
  url: string;
  /** http://127.0.0.1:port */
  base: string;
  logs: string[];
  /** Every response body an SDK client from `connect` received, whole (SSE streams included). */
  received(): Promise<string[]>;
  /** An SDK client over Streamable HTTP; `clientName` is the clientInfo.name it sends at initialize. */
  connect(headers?: Record<string, string>, clientName?: string): Promise<Client>;
  /** A raw POST to /mcp with the headers an MCP client sends. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startHttpHarness(
  options: { env?: Record<string, string | undefined>; emulator?: EmulatorOptions; tokensPollMs?: number; readyCacheMs?: number } = {},
): Promise<HttpHarness> {
  const emulator = await startEmulator(options.emulator);
  const env: Record<string, string | undefined> = {
    EZROUTER_API_KEY: emulator.apiKey,
    EZROUTER_BASE_URL: emulator.url,
    ...HTTP_FAST_ENV,
    ...options.env,
  };
  const logs: string[] = [];
  const config = loadConfig(env);
  const http = loadHttpConfig(env);
  const service = await startHttpService(config, http, env, {
    sink: { write: (line: string) => logs.push(line) },
    tokensPollMs: options.tokensPollMs ?? 50,
    readyCacheMs: options.readyCacheMs ?? 0,
    retryBaseDelayMs: 5,
  });
  const url = await service.listen();
  const clients: Client[] = [];
  const bodies: Promise<string>[] = [];
  // The SDK client's fetch, recording a copy of every response body it reads.
  const recordingFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    bodies.push(response.clone().text().catch(() => ''));
    return response;
  };
  return {
    emulator,
    service,
    url,
    base: new URL(url).origin,
    logs,
    received: () => Promise.all(bodies),
    connect: async (headers = {}, clientName = 'ezrouter-mcp-http-tests') => {
      const client = new Client({ name: clientName, version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: recordingFetch }));
      clients.push(client);
      return client;
    },
    post: (body, headers = {}) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await service.stop();
      await emulator.close();
    },
  };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A JSON-RPC tools/call message, for raw POSTs. */
export function toolCall(id: number, name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>): unknown {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } };
}

/** The upstream Authorization header of every recorded inference request. */
export function upstreamKeys(emulator: Emulator): string[] {
  return emulator.requests
    .filter((r) => r.method === 'POST')
    .map((r) => String(r.headers['authorization'] ?? r.headers['x-api-key'] ?? '').replace(/^Bearer /, ''));
}

/** Parses every log line as JSON (each must be one). */
export function jsonLines(logs: readonly string[]): Record<string, unknown>[] {
  return logs.map((line) => JSON.parse(line) as Record<string, unknown>);
}
