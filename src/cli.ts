#!/usr/bin/env node
/**
 * The `ezrouter-mcp` command. With no arguments: a stdio MCP server (stdout carries only
 * JSON-RPC; logs go to stderr). `--help` / `--version` print to stdout and exit 0; a bad flag
 * or configuration value is reported on stderr with exit status 2.
 */
import { CONFIG_FLAGS, ConfigError, loadConfig, type Env } from './config.js';
import { createRedactor } from './redact.js';
import { VERSION } from './version.js';

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

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`ezrouter-mcp: ${parsed.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  let config;
  try {
    config = loadConfig({ ...process.env, ...parsed.overrides });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ezrouter-mcp: configuration error: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  // The server and its dependencies load only when serving: --help stays instant.
  const { serveStdio } = await import('./stdio.js');
  await serveStdio(config);
}

main().catch((error: unknown) => {
  const redact = createRedactor(process.env['EZROUTER_API_KEY']);
  process.stderr.write(redact(`ezrouter-mcp: fatal: ${error instanceof Error ? error.message : String(error)}`) + '\n');
  process.exit(1);
});
