/**
 * Command-line arguments: `--help`, `--version`, flags that mirror the configuration variables,
 * and the subcommands `doctor` and `config <client>`. No argument at all means: serve on stdio.
 */
import { CLIENT_IDS, isClientId, type ClientId } from './commands/setup/clients.js';
import { CONFIG_FLAGS, variableDefault, type Env } from './config.js';

// Generated from the configuration table, defaults included, so the help never drifts from it.
const FLAG_LINES = [...CONFIG_FLAGS]
  .map(([flag, name]) => {
    const fallback = variableDefault(name);
    return `  ${`${flag} <value>`.padEnd(30)} same as ${name}${fallback === undefined ? '' : ` (default ${fallback})`}`;
  })
  .join('\n');

export const USAGE = `Usage: ezrouter-mcp [options]
       ezrouter-mcp doctor [options]
       ezrouter-mcp config <client> [--inline-key] [--windows] [--json]

Runs the ezrouter MCP server on stdio (launch it from an MCP client such as Claude Desktop,
Claude Code, Cursor or VS Code). Configuration comes from the environment; flags override it.

Commands:
  (none)                     run the stdio MCP server
  doctor                     check the configuration, the gateway and the key; exit 0 if all is well
  config <client>            print the configuration snippet for ${CLIENT_IDS.join(', ')}

Options:
  --help                     show this help and exit
  --version                  print the version and exit
${FLAG_LINES}

Environment: each option above is the variable it names, and also:
  EZROUTER_API_KEY           your ezrouter key (required for upstream calls; never a flag)
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY  proxy settings for upstream requests
  NODE_EXTRA_CA_CERTS        PEM file with extra certificate authorities (private CAs, TLS-inspecting proxies)
`;

export const DOCTOR_USAGE = `Usage: ezrouter-mcp doctor [options]

Checks what the server needs, in order: the configuration (key present, values valid), the
gateway (reachable at EZROUTER_BASE_URL, TLS, proxy), the key (GET /v1/models), the model
catalog and the balance, and how long each step took. Reads the same environment variables and
flags as the server; never prints the key and never runs a completion.

Exit status: 0 all is well (warnings allowed), 1 a check failed, 2 a configuration value is invalid.

Options:
  --help                     show this help and exit
${FLAG_LINES}
`;

export const CONFIG_USAGE = `Usage: ezrouter-mcp config <client> [--inline-key] [--windows] [--json]

Prints the snippet that adds this server to an MCP client, and where to put it.

Clients:
  claude-desktop             claude_desktop_config.json ("mcpServers")
  claude-code                the \`claude mcp add\` command and the .mcp.json form
  cursor                     ~/.cursor/mcp.json or .cursor/mcp.json ("mcpServers")
  vscode                     .vscode/mcp.json ("servers", key prompted as a password input)

Options:
  --inline-key               write the key from EZROUTER_API_KEY into the snippet (default: a
                             placeholder or an environment reference, never the key)
  --windows                  launch through "cmd /c npx" (default on Windows)
  --json                     print only the JSON document (for scripts)
  --help                     show this help and exit
`;

export interface SetupArgs {
  client: ClientId;
  inlineKey: boolean;
  windows: boolean | undefined;
  json: boolean;
}

export type Parsed =
  | { kind: 'help'; usage?: string }
  | { kind: 'version' }
  | { kind: 'serve'; overrides: Env }
  | { kind: 'doctor'; overrides: Env }
  | ({ kind: 'config' } & SetupArgs)
  | { kind: 'error'; message: string; usage?: string };

export function parseArgs(argv: readonly string[]): Parsed {
  if (argv[0] === 'doctor') {
    const flags = parseFlags(argv.slice(1));
    if (flags.kind === 'help') return { kind: 'help', usage: DOCTOR_USAGE };
    if (flags.kind === 'error') return { ...flags, usage: DOCTOR_USAGE };
    if (flags.kind === 'version') return flags;
    return { kind: 'doctor', overrides: flags.overrides };
  }
  if (argv[0] === 'config') return parseSetupArgs(argv.slice(1));
  const flags = parseFlags(argv);
  if (flags.kind === 'overrides') return { kind: 'serve', overrides: flags.overrides };
  return flags;
}

type FlagResult = { kind: 'help' } | { kind: 'version' } | { kind: 'overrides'; overrides: Env } | { kind: 'error'; message: string };

/** `--help`, `--version` and the flags that mirror configuration variables (`--flag v` or `--flag=v`). */
function parseFlags(argv: readonly string[]): FlagResult {
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
  return { kind: 'overrides', overrides };
}

function parseSetupArgs(argv: readonly string[]): Parsed {
  const options: Omit<SetupArgs, 'client'> = { inlineKey: false, windows: undefined, json: false };
  let client: string | undefined;
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return { kind: 'help', usage: CONFIG_USAGE };
    else if (arg === '--inline-key') options.inlineKey = true;
    else if (arg === '--windows') options.windows = true;
    else if (arg === '--json') options.json = true;
    else if (arg.startsWith('-')) return { kind: 'error', message: `unknown option for config: ${arg}`, usage: CONFIG_USAGE };
    else if (client !== undefined) return { kind: 'error', message: `config takes one client, got "${client}" and "${arg}"`, usage: CONFIG_USAGE };
    else client = arg;
  }
  if (client === undefined) return { kind: 'error', message: 'config needs a client', usage: CONFIG_USAGE };
  if (!isClientId(client)) {
    return { kind: 'error', message: `unknown client "${client}" (choose one of ${CLIENT_IDS.join(', ')})`, usage: CONFIG_USAGE };
  }
  return { kind: 'config', client, ...options };
}
