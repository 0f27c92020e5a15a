/**
 * The `_meta` every tool declares in tools/list so Claude Code keeps its results inline up to
 * this server's budget for it (src/clients/profiles.ts) instead of spilling anything over
 * MAX_MCP_OUTPUT_TOKENS (25,000 tokens by default) to a file: a tool that declares
 * `anthropic/maxResultSizeChars` (at most 500,000) gets that limit for its text content,
 * whatever MAX_MCP_OUTPUT_TOKENS says. Source: code.claude.com/docs/en/mcp ("Raise the limit for
 * a specific tool"), Claude Code 2.1.91. Other clients ignore it.
 */

/** The largest result Claude Code may keep inline (its maximum for this key). */
export const MAX_RESULT_SIZE_CHARS = 500_000;

export const RESULT_SIZE_META = Object.freeze({ 'anthropic/maxResultSizeChars': MAX_RESULT_SIZE_CHARS });
