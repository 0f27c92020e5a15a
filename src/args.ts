/**
 * Command-line arguments: `--help`, `--version`, flags that mirror the configuration variables,
 * and the subcommands `doctor` and `config <client>`. No argument at all means: serve on stdio.
 */
import { CLIENT_IDS, isClientId, type ClientId } from './commands/setup/clients.js';
import { CONFIG_FLAGS, isHttpUrl, variableDefault, type Env } from './config.js';
import { HTTP_FLAGS, httpVariableHelp } from './transports/http/http-config.js';

// Generated from the configuration table, defaults included, so the help never drifts from it.
const FLAG_LINES = [...CONFIG_FLAGS]
  .map(([flag, name]) => {
    const fallback = variableDefault(name);
    return `  ${`${flag} <value>`.padEnd(30)} same as ${name}${fallback === undefined ? '' : ` (default ${fallback})`}`;
  })
  .join('\n');

export const USAGE = `Usage: ezrouter-mcp [options]
       ezrouter-mcp http [--port <n>] [--host <address>] [--auth <mode>] [options]
       ezrouter-mcp doctor [options] [--http <url>]
       ezrouter-mcp config <client> [--inline-key] [--windows] [--json] [--url <url>]

Runs the ezrouter MCP server on stdio (launch it from an MCP client such as Claude Desktop,
Claude Code, Cursor or VS Code). Configuration comes from the environment; flags override it.

Commands:
  (none)                     run the stdio MCP server
  http                       run the MCP server over Streamable HTTP (remote mode; see http --help)
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

With --http <url>, checks a running \`ezrouter-mcp http\` endpoint instead: /healthz, /readyz,
that /mcp refuses a request without credentials, then an MCP session with the bearer token from
EZROUTER_HTTP_TOKEN (tools/list, list_models). The token is never printed.

Options:
  --help                     show this help and exit
  --http <url>               the endpoint to check, e.g. https://mcp.example.com/mcp
${FLAG_LINES}
`;

export const CONFIG_USAGE = `Usage: ezrouter-mcp config <client> [--inline-key] [--windows] [--json] [--url <url>]

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
  --url <url>                connect to a running \`ezrouter-mcp http\` endpoint instead of launching
                             the server (claude-code, cursor, vscode); the bearer token comes from
                             EZROUTER_HTTP_TOKEN (a reference, or the token with --inline-key)
  --help                     show this help and exit
`;

const HTTP_HELP = httpVariableHelp();

export const HTTP_USAGE = `Usage: ezrouter-mcp http [options]

Serves MCP over Streamable HTTP at /mcp (stateless: any replica answers any request), with
GET /healthz and GET /readyz. Logs go to stderr as one JSON object per line. SIGTERM drains.
Every request is authenticated: choose EZROUTER_HTTP_AUTH (there is no default).

Options:
  --help                     show this help and exit
${HTTP_HELP.flags.join('\n')}
${FLAG_LINES}

Environment: each option above is the variable it names; the HTTP mode's own:
${HTTP_HELP.variables.join('\n')}
`;

export interface SetupArgs {
  client: ClientId;
  inlineKey: boolean;
  windows: boolean | undefined;
  json: boolean;
  /** `--url`: the remote (HTTP) form for a running `ezrouter-mcp http` endpoint. */
  url?: string;
}

export type Parsed =
  | { kind: 'help'; usage?: string }
  | { kind: 'version' }
  | { kind: 'serve'; overrides: Env }
  | { kind: 'http'; overrides: Env }
  | { kind: 'doctor'; overrides: Env; httpUrl?: string }
  | ({ kind: 'config' } & SetupArgs)
  | { kind: 'error'; message: string; usage?: string };

export function parseArgs(argv: readonly string[]): Parsed {
  if (argv[0] === 'doctor') {
    const http = takeOption(argv.slice(1), '--http');
    if (http.kind === 'error') return { ...http, usage: DOCTOR_USAGE };
    const flags = parseFlags(http.rest);
    if (flags.kind === 'help') return { kind: 'help', usage: DOCTOR_USAGE };
    if (flags.kind === 'error') return { ...flags, usage: DOCTOR_USAGE };
    if (flags.kind === 'version') return flags;
    if (http.value === undefined) return { kind: 'doctor', overrides: flags.overrides };
    if (!isHttpUrl(http.value)) return { kind: 'error', message: `--http needs an http:// or https:// URL, got ${JSON.stringify(http.value)}`, usage: DOCTOR_USAGE };
    return { kind: 'doctor', overrides: flags.overrides, httpUrl: http.value };
  }
  if (argv[0] === 'http') {
    const flags = parseFlags(argv.slice(1), HTTP_FLAGS);
    if (flags.kind === 'help') return { kind: 'help', usage: HTTP_USAGE };
    if (flags.kind === 'error') return { ...flags, usage: HTTP_USAGE };
    if (flags.kind === 'version') return flags;
    return { kind: 'http', overrides: flags.overrides };
  }
  if (argv[0] === 'config') return parseSetupArgs(argv.slice(1));
  const flags = parseFlags(argv);
  if (flags.kind === 'overrides') return { kind: 'serve', overrides: flags.overrides };
  return flags;
}

type FlagResult = { kind: 'help' } | { kind: 'version' } | { kind: 'overrides'; overrides: Env } | { kind: 'error'; message: string };

/** `--help`, `--version` and the flags that mirror configuration variables (`--flag v` or `--flag=v`). */
function parseFlags(argv: readonly string[], extra: ReadonlyMap<string, string> = new Map()): FlagResult {
  const overrides: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const variable = CONFIG_FLAGS.get(flag) ?? extra.get(flag);
    if (!variable) return { kind: 'error', message: `unknown argument: ${arg}` };
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return { kind: 'error', message: `${flag} needs a value` };
    overrides[variable] = value;
  }
  return { kind: 'overrides', overrides };
}

/** Takes `--name value` / `--name=value` out of argv (the subcommand options that mirror no variable). */
function takeOption(argv: readonly string[], name: string): { kind: 'ok'; value: string | undefined; rest: string[] } | { kind: 'error'; message: string } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === name) {
      value = argv[++i];
      if (value === undefined) return { kind: 'error', message: `${name} needs a value` };
    } else if (arg.startsWith(`${name}=`)) {
      value = arg.slice(name.length + 1);
    } else {
      rest.push(arg);
    }
  }
  return { kind: 'ok', value, rest };
}

function parseSetupArgs(argvIn: readonly string[]): Parsed {
  const options: Omit<SetupArgs, 'client'> = { inlineKey: false, windows: undefined, json: false };
  const url = takeOption(argvIn, '--url');
  if (url.kind === 'error') return { ...url, usage: CONFIG_USAGE };
  if (url.value !== undefined) {
    if (!isHttpUrl(url.value)) return { kind: 'error', message: `--url needs an http:// or https:// URL, got ${JSON.stringify(url.value)}`, usage: CONFIG_USAGE };
    options.url = url.value;
  }
  const argv = url.rest;
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
