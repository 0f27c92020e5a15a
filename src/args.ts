/** Command-line arguments: `--help`, `--version`, and flags that mirror the configuration variables. */
import { CONFIG_FLAGS, type Env } from './config.js';

export const USAGE = `Usage: ezrouter-mcp [options]

Runs the ezrouter MCP server on stdio (launch it from an MCP client such as Claude Desktop,
Claude Code, Cursor or VS Code). Configuration comes from the environment; flags override it.

Options:
  --help                     show this help and exit
  --version                  print the version and exit
${[...CONFIG_FLAGS].map(([flag, name]) => `  ${`${flag} <value>`.padEnd(26)} same as ${name}`).join('\n')}

Environment:
  EZROUTER_API_KEY           your ezrouter key (required for upstream calls)
  EZROUTER_BASE_URL          gateway root (default https://www.ezrouter.dev)
  EZROUTER_DEFAULT_MODEL     model used when complete gets none
  EZROUTER_TIMEOUT_MS        deadline for one complete call (default 300000)
  EZROUTER_IDLE_TIMEOUT_MS   longest wait for a response or the next stream byte (default 60000)
  EZROUTER_MAX_RETRIES       retries for network errors, 5xx and 429 (default 2)
  EZROUTER_MODELS_TTL_MS     model catalog cache lifetime (default 300000)
  EZROUTER_USER_ID           sent as ezrouter's user_id attribution field
  EZROUTER_LOG_LEVEL         debug | info | warn | error | silent (default info)
  EZROUTER_ANTHROPIC_MAX_TOKENS  max_tokens sent on the Anthropic surface when none is given (default 4096)
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY  proxy settings for upstream requests
`;

type Parsed = { kind: 'help' } | { kind: 'version' } | { kind: 'serve'; overrides: Env } | { kind: 'error'; message: string };

export function parseArgs(argv: readonly string[]): Parsed {
  const overrides: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const variable = CONFIG_FLAGS.get(flag);
    if (!variable) return { kind: 'error', message: `unknown argument: ${arg}` };
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return { kind: 'error', message: `${flag} needs a value` };
    overrides[variable] = value;
  }
  return { kind: 'serve', overrides };
}
