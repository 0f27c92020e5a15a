/**
 * The limits one call works within: the response size budget and the effective deadline, from
 * the calling client's profile, the server's configuration and what the client's own settings
 * say when they reach the server's environment (Claude Code passes its environment on).
 */
import type { Config, Env } from '../config.js';
import type { ClientProfile } from './profiles.js';

export interface CallLimits {
  /** Which profile applied. */
  client: string;
  /** Largest tools/call response, bytes of JSON. */
  resultBytes: number;
  /** The call deadline: EZROUTER_TIMEOUT_MS, or the client's limit minus a margin if smaller. */
  deadlineMs: number;
}

/** Bytes of response per token of MAX_MCP_OUTPUT_TOKENS: a token is 3+ characters, the text travels twice. */
const BYTES_PER_OUTPUT_TOKEN = 6;

/** What is kept back from a client's limit so the result arrives before it gives up. */
export function safetyMargin(limitMs: number): number {
  return Math.min(10_000, Math.max(2_000, Math.round(limitMs / 10)));
}

export function callLimits(profile: ClientProfile, config: Readonly<Config>, env: Env): CallLimits {
  let resultBytes = config.resultBudgetBytes ?? profile.resultBytes;
  const tokens = positiveInt(env['MAX_MCP_OUTPUT_TOKENS']);
  if (tokens !== undefined && config.resultBudgetBytes === undefined) resultBytes = Math.min(resultBytes, tokens * BYTES_PER_OUTPUT_TOKEN);

  // The client's own timeout settings, when the server can see them, win over the profile.
  let limitMs = config.clientTimeoutMs === undefined ? profile.callLimitMs : config.clientTimeoutMs === 0 ? undefined : config.clientTimeoutMs;
  if (config.clientTimeoutMs === undefined && profile.names.includes('claude-code')) {
    const own = [positiveInt(env['MCP_TOOL_TIMEOUT']), positiveInt(env['CLAUDE_CODE_MCP_AUTO_BACKGROUND_MS'])].filter((v): v is number => v !== undefined);
    if (own.length > 0) limitMs = Math.min(...own);
  }
  const deadlineMs = limitMs === undefined ? config.timeoutMs : Math.min(config.timeoutMs, Math.max(1, limitMs - safetyMargin(limitMs)));
  return { client: profile.label, resultBytes, deadlineMs };
}

function positiveInt(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  const value = Number(raw.trim());
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
