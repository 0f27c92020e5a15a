/** The built server over stdio: an SDK Client session, raw cold-start timing, /proc memory. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const SERVER_ENTRY = `${ROOT}dist/cli.js`;

export interface StdioSession {
  client: Client;
  pid: number;
  call(args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Spawns `node <entry>` with the gateway env, connects the SDK Client and lists the tools (as real clients do). */
export async function startStdioServer(
  env: Record<string, string>,
  options: { entry?: string; maxBufferSize?: number; nodeArgs?: string[] } = {},
): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), options.entry ?? SERVER_ENTRY],
    // The SDK client drops a message over 10 MiB by default (and closes the connection).
    ...(options.maxBufferSize !== undefined ? { maxBufferSize: options.maxBufferSize } : {}),
    // The bench's answers go up to 10 Mi characters: past the server's default cap (which keeps
    // results deliverable to clients with a 10 MiB message limit), so the cap is raised here, and
    // so is the result budget (the bench's client is an unknown one, whose budget is 20 KiB), so
    // that every answer comes back whole and the bench can check it.
    env: {
      PATH: process.env['PATH'] ?? '',
      EZROUTER_MAX_ANSWER_CHARS: String(32 * 1024 * 1024),
      EZROUTER_RESULT_BUDGET_BYTES: String(64 * 1024 * 1024),
      ...env,
    },
    stderr: process.env['BENCH_SERVER_STDERR'] ? 'inherit' : 'ignore',
  });
  const client = new Client({ name: 'ezrouter-mcp-bench', version: '0.0.0' });
  await client.connect(transport);
  await client.listTools();
  const pid = transport.pid ?? -1;
  return {
    client,
    pid,
    call: async (args) => (await client.callTool({ name: 'complete', arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult,
    close: () => client.close(),
  };
}

/** VmHWM (peak RSS) and VmRSS of a process, in MiB. */
export function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 };
}

export interface ColdStart {
  /** spawn → initialize response on stdout. */
  initializeMs: number;
  /** spawn → tools/list response. */
  toolsListMs: number;
  tools: number;
  /** Lines on stdout that were not JSON-RPC (a well-behaved server prints none). */
  strayLines: number;
}

export interface ColdStartOptions {
  /** The program to spawn (default: this Node); `args` are its arguments. */
  command?: string;
  cwd?: string;
  timeoutMs?: number;
}

/**
 * Spawns `node <args>` (or `command <args>`) and speaks raw JSON-RPC: `initialize` is written at
 * once (a client writes it as soon as it has spawned the server), `tools/list` right after the
 * initialize response. The process runs in its own process group, which is killed at the end
 * (an `npx` launch has a child).
 */
export function coldStart(args: string[], env: Record<string, string>, options: ColdStartOptions = {}): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(options.command ?? process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    let buffer = '';
    let initializeMs = 0;
    let strayLines = 0;
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`cold start of ${[options.command ?? 'node', ...args].join(' ')} timed out`));
    }, options.timeoutMs ?? 20_000);
    child.once('error', reject);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffer += text;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let message: { id?: number; result?: { tools?: unknown[] } };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          strayLines++;
          continue;
        }
        if (message.id === 1) {
          initializeMs = performance.now() - start;
          child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
          child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} })}\n`);
        } else if (message.id === 2) {
          const toolsListMs = performance.now() - start;
          clearTimeout(timer);
          child.once('exit', () => {
            killGroup();
            resolve({ initializeMs, toolsListMs, tools: message.result?.tools?.length ?? 0, strayLines });
          });
          child.stdin.end();
          setTimeout(killGroup, 2_000).unref();
        }
      }
    });
    child.stdin.write(
      `${JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0.0.0' } },
      })}\n`,
    );
  });
}

/** CPU time (user + system) a process has used so far, in ms (clock-tick resolution). */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = 100;
