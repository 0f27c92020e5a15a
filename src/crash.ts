/**
 * The last output edge: a crash. Without handlers, Node writes an uncaught exception's or an
 * unhandled rejection's stack to stderr itself, unredacted. installCrashHandlers routes both
 * (and the CLI's own fatal errors, through `crash`) to a logger, so through its redactor, as one
 * line — `fatal: …` with the error's name and message — then exits with status 1. The CLI
 * installs it first with a logger that knows the environment's key; the stdio and HTTP servers
 * install it again with their own logger once they have one (the latest logger is the one used).
 */
import type { Logger } from './log.js';

/** The status a crashed process exits with. */
export const CRASH_EXIT_CODE = 1;

/** A logger, or how to make one at the moment of the crash (its redactor then knows every secret held by then). */
type CrashLogger = Logger | (() => Logger);

let current: { log: CrashLogger; exit: (code: number) => void } | undefined;
let crashed = false;

export function installCrashHandlers(log: CrashLogger, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (!current) {
    process.on('uncaughtException', (error) => crash('uncaught exception', error));
    process.on('unhandledRejection', (reason) => crash('unhandled promise rejection', reason));
  }
  current = { log, exit };
}

/** Logs one redacted `fatal:` line through the installed logger and exits with CRASH_EXIT_CODE. */
export function crash(what: string, error: unknown): void {
  if (crashed) return;
  crashed = true;
  const target = current;
  if (!target) {
    // Not installed (library use): nothing to redact with, so say nothing of the error itself.
    process.stderr.write(`ezrouter-mcp: fatal: ${what}\n`);
    process.exit(CRASH_EXIT_CODE);
  }
  try {
    const log = typeof target.log === 'function' ? target.log() : target.log;
    if (log.enabled('error')) log.error(`fatal: ${what}`, { error: error instanceof Error ? error : describe(error) });
    // EZROUTER_LOG_LEVEL=silent still says that the process died, never with what (that needs the redactor's logger).
    else process.stderr.write(`ezrouter-mcp: fatal: ${what}\n`);
  } finally {
    // stderr is synchronous for files and pipes on POSIX: the line is out before the exit.
    target.exit(CRASH_EXIT_CODE);
  }
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? value : String(value);
  } catch {
    return 'an unprintable value';
  }
}
