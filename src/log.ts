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

/** `text` (stdio: one readable line) or `json` (HTTP mode: one JSON object per line, for log pipelines). */
export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  /** Default `text`. */
  format?: LogFormat;
  /** Fields every line carries (the HTTP mode: request id, principal). */
  fields?: Record<string, unknown>;
}

/** Names a `json` line always has; a field with one of these names is dropped. */
const JSON_RESERVED = new Set(['time', 'level', 'msg']);

export function createLogger(level: LogLevel, redact: Redactor, sink: LogSink = process.stderr, options: LoggerOptions = {}): Logger {
  const threshold = RANK[level];
  const base = options.fields ?? {};
  const json = options.format === 'json';
  const emit = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[at] < threshold) return;
    const all = fields ? { ...base, ...fields } : base;
    if (json) {
      sink.write(redact(jsonLine(at, message, all)) + '\n');
      return;
    }
    const extra = Object.keys(all).length > 0 ? ` ${safeJson(all)}` : '';
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

const UNSERIALISABLE = '[unserialisable]';

/**
 * One JSON object: time, level, msg, then the fields. A line past MAX_LINE_CHARS keeps its
 * shape (still one valid object): the message cut, the fields as one cut string.
 */
function jsonLine(at: string, message: string, fields: Record<string, unknown>): string {
  const time = new Date().toISOString();
  const line: Record<string, unknown> = { time, level: at, msg: message };
  for (const [name, value] of Object.entries(fields)) if (!JSON_RESERVED.has(name) && value !== undefined) line[name] = value;
  const text = safeJson(line);
  if (text !== UNSERIALISABLE && text.length <= MAX_LINE_CHARS) return text;
  const rest = safeJson(fields);
  return safeJson({ time, level: at, msg: excerpt(message, 1024), fields_excerpt: excerpt(rest, MAX_LINE_CHARS / 2), cut: true });
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v));
  } catch {
    return UNSERIALISABLE;
  }
}
