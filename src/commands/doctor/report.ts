/** The doctor's report: one line per check with its status and time, details below, a verdict. */

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  title: string;
  status: Status;
  summary: string;
  details?: string[];
  /** How long the check took; absent for skipped checks. */
  ms?: number;
}

export const EXIT_OK = 0;
export const EXIT_PROBLEM = 1;
export const EXIT_BAD_CONFIG = 2;

const LABELS: Record<Status, string> = { ok: '[ ok ]', warn: '[warn]', fail: '[FAIL]', skip: '[skip]' };
const TITLE_WIDTH = 14;
const DETAIL_INDENT = ' '.repeat(LABELS.ok.length + 1 + TITLE_WIDTH + 1);

export function renderCheck(check: CheckResult): string {
  const time = check.ms === undefined ? '' : ` (${formatMs(check.ms)})`;
  const head = `${LABELS[check.status]} ${check.title.padEnd(TITLE_WIDTH)} ${check.summary}${time}`;
  return [head, ...(check.details ?? []).map((line) => DETAIL_INDENT + line)].join('\n') + '\n';
}

export interface Verdict {
  text: string;
  exitCode: number;
}

export function verdict(checks: readonly CheckResult[], totalMs: number, badConfig = false): Verdict {
  const failures = checks.filter((c) => c.status === 'fail').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  const total = `total ${formatMs(totalMs)}`;
  if (badConfig) {
    return {
      text: `Verdict: NOT READY - a configuration value is invalid: fix it, then run \`ezrouter-mcp doctor\` again (${total}).\n`,
      exitCode: EXIT_BAD_CONFIG,
    };
  }
  if (failures > 0) {
    return {
      text: `Verdict: NOT READY - ${plural(failures, 'check')} failed: fix the [FAIL] lines above, then run \`ezrouter-mcp doctor\` again (${total}).\n`,
      exitCode: EXIT_PROBLEM,
    };
  }
  const caveat = warnings > 0 ? `, with ${plural(warnings, 'warning')} (see [warn] above)` : '';
  return {
    text: `Verdict: READY${caveat} - ezrouter-mcp can reach ezrouter and the key works (${total}).\n`,
    exitCode: EXIT_OK,
  };
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
