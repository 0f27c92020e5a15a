/**
 * Configuration: environment variables (CLI flags may mirror them), validated once with zod
 * into a frozen, typed `Config`. This is the one place defaults live.
 */
import { delimiter } from 'node:path';
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from './log.js';

export const DEFAULT_BASE_URL = 'https://www.ezrouter.dev';
/** `max_tokens` sent on the Anthropic surface when the caller gives none (that API requires one). */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;
/**
 * The longest answer (and reasoning) kept for one call, in characters: a bound on memory (the
 * answer in flight, then in the answer store), not on what a client receives, since every result
 * is fitted to its client's size budget. One million characters is twice the longest answer
 * today's models produce (~128k output tokens).
 */
export const DEFAULT_MAX_ANSWER_CHARS = 1_000_000;
/**
 * Upstream completions in flight at once. Each holds its answer in memory (up to the answer
 * cap) and a socket; past this, calls queue (their deadline still running) instead of letting
 * a burst of large answers take the process's memory.
 */
export const DEFAULT_MAX_CONCURRENCY = 16;
/** Calls waiting behind EZROUTER_MAX_CONCURRENCY (each holds its request, ~60 KiB): past this, refused at once. */
export const DEFAULT_MAX_QUEUE = 256;
/**
 * Answers kept for `ezrouter://answers/{id}` (the ones too long for a client, and background
 * jobs'): 64 Mi characters in all (at most 128 MiB of memory), each for an hour, least recently
 * read evicted first.
 */
export const DEFAULT_ANSWER_STORE_CHARS = 64 * 1024 * 1024;
export const DEFAULT_ANSWER_TTL_MS = 3_600_000;
/** `files`: 256 KiB a file, 1 MiB a call (about 250k tokens: more than most context windows spare). */
export const DEFAULT_FILE_MAX_BYTES = 256 * 1024;
export const DEFAULT_FILES_MAX_BYTES = 1024 * 1024;
/** The most this server will ever buffer for one answer, whatever is configured. */
export const MAX_ANSWER_CHARS_LIMIT = 32 * 1024 * 1024;

export interface ProxyConfig {
  httpsProxy: string | undefined;
  httpProxy: string | undefined;
  noProxy: string | undefined;
}

export interface Config {
  apiKey: string | undefined;
  /** Gateway root without trailing `/` or `/v1`, e.g. `https://www.ezrouter.dev`. */
  baseUrl: string;
  defaultModel: string | undefined;
  timeoutMs: number;
  idleTimeoutMs: number;
  maxRetries: number;
  modelsTtlMs: number;
  userId: string | undefined;
  logLevel: LogLevel;
  anthropicMaxTokens: number;
  maxAnswerChars: number;
  /** Upstream completions in flight at once; more wait for a slot (EZROUTER_MAX_CONCURRENCY). */
  maxConcurrency: number;
  /** Calls waiting for a slot at most; past it a call is refused at once (EZROUTER_MAX_QUEUE). */
  maxQueue: number;
  /** Overrides the calling client's result size budget, bytes (EZROUTER_RESULT_BUDGET_BYTES). */
  resultBudgetBytes: number | undefined;
  /** Overrides the calling client's call time limit, ms; 0 = none (EZROUTER_CLIENT_TIMEOUT_MS). */
  clientTimeoutMs: number | undefined;
  /** Characters the answer store keeps in all (EZROUTER_ANSWER_STORE_CHARS). */
  answerStoreChars: number;
  /** How long a stored answer (or job) can be read back (EZROUTER_ANSWER_TTL_MS). */
  answerTtlMs: number;
  /** Folders `files` may be read from when the client shares no roots (EZROUTER_FILE_ROOTS). */
  fileRoots: readonly string[];
  /** Largest single file `files` reads, bytes (EZROUTER_FILE_MAX_BYTES). */
  fileMaxBytes: number;
  /** Largest total of the files of one call, bytes (EZROUTER_FILES_MAX_BYTES). */
  filesMaxBytes: number;
  proxy: ProxyConfig;
}

/** A configuration value that failed validation; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A string variable: trimmed, empty means unset. (Exported for the HTTP mode's variables.) */
export const optionalText = z
  .string()
  .transform((s) => s.trim())
  .transform((s) => (s === '' ? undefined : s))
  .optional();

/** A whole number of milliseconds, at least `min`, `fallback` when unset. */
export const wholeMs = (fallback: number, min: number) =>
  optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number of milliseconds')
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(2_147_483_647, 'is too large'))
      .optional()
      .transform((v) => v ?? fallback),
  );

/** A whole number 0..max, `fallback` when unset. */
export const wholeCount = (fallback: number, max: number) =>
  optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(0).max(max, `must be at most ${max}`))
      .optional()
      .transform((v) => v ?? fallback),
  );

/** A whole number that is absent unless set. */
const optionalWhole = (min: number, max: number, unit: string) =>
  optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, `must be a whole number${unit}`)
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional(),
  );

/** An http:// or https:// URL with a host. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

const baseUrl = optionalText.pipe(
  z
    .string()
    .refine(isHttpUrl, 'must be an http:// or https:// URL, e.g. https://www.ezrouter.dev')
    .transform(normaliseBaseUrl)
    .optional()
    .transform((v) => v ?? DEFAULT_BASE_URL),
);

const logLevel = optionalText.pipe(
  z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .optional()
    .transform((v): LogLevel => v ?? 'info'),
);

/**
 * The key goes into an HTTP header: a character that cannot be sent there (a line break, another
 * control character, anything outside Latin-1 — the rule Node's HTTP layer applies) is refused at
 * startup instead of failing every call as if the network were down.
 */
const apiKey = optionalText.pipe(
  z
    .string()
    .regex(/^[\t\x20-\x7e\x80-\xff]+$/, 'contains a character that cannot be sent in an HTTP header (a line break or another control character, or a non-Latin-1 character): paste the key alone')
    .optional(),
);

/** Every variable the server reads, its schema, and the CLI flag that mirrors it (if any). */
const VARIABLES = {
  EZROUTER_API_KEY: { schema: apiKey, flag: undefined },
  EZROUTER_BASE_URL: { schema: baseUrl, flag: '--base-url' },
  EZROUTER_DEFAULT_MODEL: { schema: optionalText, flag: '--default-model' },
  EZROUTER_TIMEOUT_MS: { schema: wholeMs(300_000, 1), flag: '--timeout-ms' },
  EZROUTER_IDLE_TIMEOUT_MS: { schema: wholeMs(60_000, 1), flag: '--idle-timeout-ms' },
  EZROUTER_MAX_RETRIES: { schema: wholeCount(2, 10), flag: '--max-retries' },
  EZROUTER_MODELS_TTL_MS: { schema: wholeMs(300_000, 0), flag: '--models-ttl-ms' },
  EZROUTER_USER_ID: { schema: optionalText, flag: '--user-id' },
  EZROUTER_LOG_LEVEL: { schema: logLevel, flag: '--log-level' },
  EZROUTER_MAX_ANSWER_CHARS: {
    schema: wholeCount(DEFAULT_MAX_ANSWER_CHARS, MAX_ANSWER_CHARS_LIMIT).pipe(z.number().min(1000, 'must be at least 1000')),
    flag: '--max-answer-chars',
  },
  EZROUTER_MAX_CONCURRENCY: {
    schema: wholeCount(DEFAULT_MAX_CONCURRENCY, 1024).pipe(z.number().min(1, 'must be at least 1')),
    flag: '--max-concurrency',
  },
  EZROUTER_MAX_QUEUE: { schema: wholeCount(DEFAULT_MAX_QUEUE, 1_000_000), flag: '--max-queue' },
  EZROUTER_RESULT_BUDGET_BYTES: { schema: optionalWhole(4_096, 64 * 1024 * 1024, ' of bytes'), flag: '--result-budget-bytes' },
  EZROUTER_CLIENT_TIMEOUT_MS: { schema: optionalWhole(0, 2_147_483_647, ' of milliseconds (0: the client has no limit)'), flag: '--client-timeout-ms' },
  EZROUTER_ANSWER_STORE_CHARS: { schema: wholeCount(DEFAULT_ANSWER_STORE_CHARS, 1024 * 1024 * 1024), flag: '--answer-store-chars' },
  EZROUTER_ANSWER_TTL_MS: { schema: wholeMs(DEFAULT_ANSWER_TTL_MS, 1000), flag: '--answer-ttl-ms' },
  EZROUTER_FILE_ROOTS: { schema: optionalText, flag: '--file-roots' },
  EZROUTER_FILE_MAX_BYTES: { schema: wholeCount(DEFAULT_FILE_MAX_BYTES, 64 * 1024 * 1024).pipe(z.number().min(1, 'must be at least 1')), flag: '--file-max-bytes' },
  EZROUTER_FILES_MAX_BYTES: { schema: wholeCount(DEFAULT_FILES_MAX_BYTES, 256 * 1024 * 1024).pipe(z.number().min(1, 'must be at least 1')), flag: '--files-max-bytes' },
  EZROUTER_ANTHROPIC_MAX_TOKENS: { schema: wholeCount(DEFAULT_ANTHROPIC_MAX_TOKENS, 1_000_000).pipe(z.number().min(1, 'must be at least 1')), flag: '--anthropic-max-tokens' },
} as const;

export type VariableName = keyof typeof VARIABLES;

/** CLI flags that mirror variables, e.g. `--base-url` → `EZROUTER_BASE_URL`. */
export const CONFIG_FLAGS: ReadonlyMap<string, VariableName> = new Map(
  Object.entries(VARIABLES)
    .filter(([, spec]) => spec.flag !== undefined)
    .map(([name, spec]) => [spec.flag as string, name as VariableName]),
);

/** A variable's default as the usage text shows it (what an unset variable validates to), if it has one. */
export function variableDefault(name: VariableName): string | undefined {
  const parsed = VARIABLES[name].schema.safeParse(undefined);
  const value: unknown = parsed.success ? parsed.data : undefined;
  return value === undefined ? undefined : String(value);
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates the environment (with flag overrides already merged in) into a frozen Config.
 * Throws ConfigError naming the first bad variable.
 */
export function loadConfig(env: Env): Readonly<Config> {
  const value = <N extends VariableName>(name: N): z.output<(typeof VARIABLES)[N]['schema']> =>
    readVariable(env, name, VARIABLES[name].schema, name === 'EZROUTER_API_KEY') as z.output<(typeof VARIABLES)[N]['schema']>;
  const config: Config = {
    apiKey: value('EZROUTER_API_KEY'),
    baseUrl: value('EZROUTER_BASE_URL'),
    defaultModel: value('EZROUTER_DEFAULT_MODEL'),
    timeoutMs: value('EZROUTER_TIMEOUT_MS'),
    idleTimeoutMs: value('EZROUTER_IDLE_TIMEOUT_MS'),
    maxRetries: value('EZROUTER_MAX_RETRIES'),
    modelsTtlMs: value('EZROUTER_MODELS_TTL_MS'),
    userId: value('EZROUTER_USER_ID'),
    logLevel: value('EZROUTER_LOG_LEVEL'),
    anthropicMaxTokens: value('EZROUTER_ANTHROPIC_MAX_TOKENS'),
    maxAnswerChars: value('EZROUTER_MAX_ANSWER_CHARS'),
    maxConcurrency: value('EZROUTER_MAX_CONCURRENCY'),
    maxQueue: value('EZROUTER_MAX_QUEUE'),
    resultBudgetBytes: value('EZROUTER_RESULT_BUDGET_BYTES'),
    clientTimeoutMs: value('EZROUTER_CLIENT_TIMEOUT_MS'),
    answerStoreChars: value('EZROUTER_ANSWER_STORE_CHARS'),
    answerTtlMs: value('EZROUTER_ANSWER_TTL_MS'),
    fileRoots: (value('EZROUTER_FILE_ROOTS') ?? '').split(delimiter).map((r) => r.trim()).filter((r) => r !== ''),
    fileMaxBytes: value('EZROUTER_FILE_MAX_BYTES'),
    filesMaxBytes: value('EZROUTER_FILES_MAX_BYTES'),
    proxy: {
      httpsProxy: proxyUrl(env, 'HTTPS_PROXY'),
      httpProxy: proxyUrl(env, 'HTTP_PROXY'),
      noProxy: nonEmpty(env['NO_PROXY'] ?? env['no_proxy']),
    },
  };
  return Object.freeze(config);
}

/** `https://x/` and `https://x/v1` both mean the gateway root `https://x`. */
export function normaliseBaseUrl(raw: string): string {
  const url = new URL(raw);
  url.search = '';
  url.hash = '';
  let path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith('/v1')) path = path.slice(0, -3);
  url.pathname = path;
  return url.toString().replace(/\/+$/, '');
}

/** HTTPS_PROXY / HTTP_PROXY (or their lower-case forms): an http(s) URL, checked like the others. */
function proxyUrl(env: Env, name: 'HTTPS_PROXY' | 'HTTP_PROXY'): string | undefined {
  const lower = name.toLowerCase();
  const [used, raw] = env[name] !== undefined ? [name, env[name]] : [lower, env[lower]];
  const value = nonEmpty(raw);
  if (value !== undefined && !isHttpUrl(value)) {
    throw new ConfigError(`${used} must be an http:// or https:// proxy URL, e.g. http://proxy.example:3128 (got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)}).`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Validates one variable with its schema; throws ConfigError naming it and showing the value
 * it got (`[redacted]` for a secret). Exported so the HTTP mode's variables read the same way.
 */
export function readVariable<S extends z.ZodType>(env: Env, name: string, schema: S, secret = false): z.output<S> {
  const result = schema.safeParse(env[name]);
  if (!result.success) {
    const issue = result.error.issues[0]?.message ?? 'is invalid';
    throw new ConfigError(`${name} ${issue} (got ${JSON.stringify(shown(env[name], secret))}).`);
  }
  return result.data;
}

function shown(raw: string | undefined, secret: boolean): string {
  if (secret) return '[redacted]';
  const text = raw ?? '';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
