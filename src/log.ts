/**
 * The stderr logger. stdout carries only JSON-RPC, so nothing else in src/ writes to it.
 * Every line goes through the redactor: the API key never reaches a log.
 */
import { excerpt, type Redactor } from './redact.js';

/** A log line longer than this is cut (a debug dump of a huge value stays readable). */
const MAX_LINE_CHARS = 8_192;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
}

export interface LogSink {
  write(line: string): unknown;
}

export function createLogger(level: LogLevel, redact: Redactor, sink: LogSink = process.stderr): Logger {
  const threshold = RANK[level];
  const emit = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[at] < threshold) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : '';
    // Cut, then redacted: bounded work on any message, and no run of the key survives the cut.
    sink.write(redact(excerpt(`${new Date().toISOString()} ezrouter-mcp ${at}: ${message}${extra}`, MAX_LINE_CHARS)) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (at) => RANK[at] >= threshold && at !== 'silent',
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  enabled: () => false,
};

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v));
  } catch {
    return '[unserialisable]';
  }
}
