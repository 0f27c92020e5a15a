/**
 * What the main MCP clients accept, known by the `clientInfo.name` they send at `initialize`:
 * the largest tools/call response they take (bytes of the whole JSON-RPC message) and the time
 * after which they give up on a call. Each figure has its source; README.md ("Client limits")
 * has the table. A client not listed gets UNKNOWN_CLIENT, which fits the smallest of them.
 */

export interface ClientProfile {
  /** Shown in logs and the README. */
  label: string;
  /** `clientInfo.name` values (matched exactly, or as a prefix followed by a space or `(`). */
  names: readonly string[];
  /** Largest tools/call response message, in bytes of JSON. */
  resultBytes: number;
  /** When the client stops waiting for a call (ms); undefined: it does not. */
  callLimitMs: number | undefined;
  /** Where the figures come from. */
  source: string;
}

/** Claude Desktop's documented limit, the smallest hard limit among the main clients. */
const DESKTOP_RESULT_BYTES = 150_000;

export const CLIENT_PROFILES: readonly ClientProfile[] = [
  {
    label: 'Claude Desktop',
    names: ['claude-ai'],
    resultBytes: DESKTOP_RESULT_BYTES,
    callLimitMs: 240_000,
    source: 'claude.com/docs/connectors (results ~150,000 characters, calls 300 s); anthropics/claude-code#65643, #64614 ("No result received ... after waiting 4 minutes")',
  },
  {
    label: 'Claude Code',
    names: ['claude-code'],
    // With `_meta["anthropic/maxResultSizeChars"]` declared (at most 500,000) Claude Code keeps
    // results that size inline instead of spilling them to a file.
    resultBytes: 500_000,
    // Calls past 2 minutes move to the background (CLAUDE_CODE_MCP_AUTO_BACKGROUND_MS), where
    // results can be orphaned: answer before that.
    callLimitMs: 120_000,
    source: 'code.claude.com/docs/en/mcp (MAX_MCP_OUTPUT_TOKENS 25,000; anthropic/maxResultSizeChars up to 500,000; auto-background after 120000 ms); CHANGELOG 2.1.91, 2.1.98',
  },
  {
    label: 'Codex',
    names: ['codex-mcp-client'],
    // Codex shows the model about 10 KiB of a tool's output: the head and its marker must fit there.
    resultBytes: 20_480,
    callLimitMs: 60_000,
    source: 'openai/codex codex-rs/core/src/mcp_connection_manager.rs (DEFAULT_TOOL_TIMEOUT 60 s, tool_timeout_sec); openai/codex#6544 (output truncated to 10 KiB)',
  },
  {
    label: 'Cursor',
    names: ['cursor-vscode'],
    resultBytes: DESKTOP_RESULT_BYTES,
    callLimitMs: 60_000,
    source: 'no documented limits found: the smallest documented hard limit (Claude Desktop) and the MCP SDK default timeout (60 s)',
  },
  {
    label: 'VS Code',
    names: ['Visual Studio Code', 'Visual Studio Code - Insiders'],
    resultBytes: DESKTOP_RESULT_BYTES,
    callLimitMs: undefined,
    source: 'microsoft/vscode mcpServerRequestHandler.ts (no client-side call timer; MCP tasks supported); no fixed result size: the smallest documented hard limit',
  },
  {
    label: 'MCP Inspector',
    names: ['inspector-client', 'inspector-cli', 'inspector-tui', 'mcp-inspector'],
    resultBytes: DESKTOP_RESULT_BYTES,
    callLimitMs: 60_000,
    source: 'modelcontextprotocol/inspector client/src/lib/constants.ts (MCP_REQUEST_MAX_TOTAL_TIMEOUT 60000 ms); v2 uses the SDK default 60 s',
  },
];

/** Any other client: the smallest result size and the SDKs' default request timeout. */
export const UNKNOWN_CLIENT: ClientProfile = {
  label: 'unknown client',
  names: [],
  resultBytes: Math.min(...CLIENT_PROFILES.map((p) => p.resultBytes)),
  callLimitMs: 60_000,
  source: 'the smallest result size of the clients above; the MCP TypeScript SDK DEFAULT_REQUEST_TIMEOUT_MSEC (60000 ms), also LangChain, OpenAI Agents JS, Cline',
};

/**
 * The profile for a `clientInfo.name`. Bridges may decorate the name (mcp-remote sends
 * `<name> (via mcp-remote <version>)`), so a listed name followed by a space or `(` matches too.
 */
export function profileFor(name: string | undefined, profiles: readonly ClientProfile[] = CLIENT_PROFILES): ClientProfile {
  if (name === undefined) return UNKNOWN_CLIENT;
  for (const profile of profiles) {
    for (const known of profile.names) {
      if (name === known || (name.startsWith(known) && (name[known.length] === ' ' || name[known.length] === '('))) return profile;
    }
  }
  return UNKNOWN_CLIENT;
}
