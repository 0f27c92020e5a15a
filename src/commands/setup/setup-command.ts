/**
 * `ezrouter-mcp config <client>`: prints the snippet that adds this server to an MCP client,
 * with where to put it and what to do next. `--json` prints the JSON document alone (for
 * scripts); `--inline-key` writes the key from EZROUTER_API_KEY into it instead of a reference.
 */
import type { Env } from '../../config.js';
import { PACKAGE_NAME } from '../../version.js';
import {
  claudeAddCommand,
  claudeAddHttpCommand,
  clientJson,
  KEY_PLACEHOLDER,
  KEY_VARIABLE,
  remoteJson,
  SERVER_NAME,
  TOKEN_VARIABLE,
  type RemoteSnippetOptions,
  type SnippetOptions,
} from './snippets.js';
import type { ClientId } from './clients.js';
import { formatJson } from './json-format.js';

export interface SetupCommandOptions {
  client: ClientId;
  inlineKey: boolean;
  /** `--windows`; undefined = follow the platform this runs on. */
  windows: boolean | undefined;
  json: boolean;
  /** `--url`: the remote form, for a running `ezrouter-mcp http` endpoint. */
  url?: string;
}

export interface CommandIo {
  env: Env;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  platform?: NodeJS.Platform;
}

/** Prints the snippet; returns the exit status (2 when `--inline-key` has no key to read). */
export function runSetupCommand(options: SetupCommandOptions, io: CommandIo): number {
  if (options.url !== undefined) return runRemoteSetup({ ...options, url: options.url }, io);
  let inlineKey: string | undefined;
  if (options.inlineKey) {
    inlineKey = io.env[KEY_VARIABLE]?.trim();
    if (!inlineKey) {
      io.stderr(`ezrouter-mcp: --inline-key copies the key from ${KEY_VARIABLE}, which is not set in this shell.\n`);
      return 2;
    }
  }
  const snippet: SnippetOptions = {
    packageName: PACKAGE_NAME,
    windows: options.windows ?? (io.platform ?? process.platform) === 'win32',
    inlineKey,
  };
  io.stdout(options.json ? `${formatJson(clientJson(options.client, snippet))}\n` : guide(options.client, snippet));
  if (inlineKey !== undefined) {
    io.stderr('ezrouter-mcp: this snippet contains your API key: keep it out of version control and screenshots.\n');
  }
  return 0;
}

/** The human-readable guide for one client: where the snippet goes, the snippet, what next. */
export function guide(client: ClientId, options: SnippetOptions): string {
  const json = formatJson(clientJson(client, options));
  const inline = options.inlineKey !== undefined;
  const lines = GUIDES[client](json, options, inline);
  if (!options.windows) {
    lines.push(`- Windows: if the client cannot start npx ("spawn npx ENOENT"), run \`ezrouter-mcp config ${client} --windows\` (uses "cmd /c npx").`);
  }
  const doctor = options.windows
    ? `$env:${KEY_VARIABLE}="sk-..."; npx -y ${options.packageName} doctor   (PowerShell)`
    : `${KEY_VARIABLE}=sk-... npx -y ${options.packageName} doctor`;
  lines.push(`- Check the key and the connection first: ${doctor}`);
  return `${lines.join('\n')}\n`;
}

type GuideBuilder = (json: string, options: SnippetOptions, inline: boolean) => string[];

const GUIDES: Record<ClientId, GuideBuilder> = {
  'claude-desktop': (json, _options, inline) => [
    'Claude Desktop: add this to claude_desktop_config.json (Settings -> Developer -> Edit Config)',
    '  macOS:   ~/Library/Application Support/Claude/claude_desktop_config.json',
    '  Windows: %APPDATA%\\Claude\\claude_desktop_config.json',
    `If the file already has "mcpServers", add the "${SERVER_NAME}" entry inside it.`,
    '',
    json,
    '',
    ...(inline
      ? []
      : [`- Replace ${KEY_PLACEHOLDER} with your key (sk-...): Claude Desktop does not expand environment variables.`]),
    '- Quit Claude Desktop completely (also from the tray/menu bar) and start it again.',
    `- Logs: ~/Library/Logs/Claude/mcp-server-${SERVER_NAME}.log (macOS), %APPDATA%\\Claude\\logs\\mcp-server-${SERVER_NAME}.log (Windows).`,
  ],
  'claude-code': (json, options, inline) => [
    'Claude Code: run this once (add --scope user to use it in every project):',
    '',
    `  ${claudeAddCommand(options)}`,
    '',
    ...(inline
      ? []
      : [
          options.windows
            ? `  (PowerShell syntax; in cmd.exe write %${KEY_VARIABLE}%.) The shell copies your key into Claude Code's own settings.`
            : "  The shell copies your key into Claude Code's own settings.",
          '',
        ]),
    inline
      ? 'or save this as .mcp.json at the project root (it contains your key: do not commit it):'
      : `or commit this .mcp.json at the project root (Claude Code expands \${${KEY_VARIABLE}} from its environment, so the key stays out of git):`,
    '',
    json,
    '',
    "- Check it with `claude mcp list` or /mcp inside Claude Code; `claude --debug` shows the server's stderr.",
  ],
  cursor: (json, _options, inline) => [
    'Cursor: add this to ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (this project)',
    '',
    json,
    '',
    ...(inline
      ? []
      : [
          `- Cursor replaces \${env:${KEY_VARIABLE}} with the variable from its own environment: start Cursor from a shell`,
          `  where ${KEY_VARIABLE} is set, or use --inline-key for a personal ~/.cursor/mcp.json.`,
        ]),
    '- Enable the server in Cursor Settings -> MCP; logs: View -> Output, then "MCP Logs" in the list.',
  ],
  vscode: (json, _options, inline) => [
    'VS Code: save this as .vscode/mcp.json in your workspace (or run "MCP: Open User Configuration" for all workspaces)',
    '',
    json,
    '',
    ...(inline ? [] : ['- VS Code asks for the key the first time the server starts and stores it encrypted.']),
    `- Logs: run "MCP: List Servers", pick ${SERVER_NAME}, then "Show Output".`,
  ],
};

/** `config <client> --url <url>`: the client connects to a running HTTP endpoint with a bearer token. */
function runRemoteSetup(options: SetupCommandOptions & { url: string }, io: CommandIo): number {
  const { client } = options;
  if (client === 'claude-desktop') return desktopConnector(options, io);
  let inlineToken: string | undefined;
  if (options.inlineKey) {
    inlineToken = io.env[TOKEN_VARIABLE]?.trim();
    if (!inlineToken) {
      io.stderr(`ezrouter-mcp: --inline-key with --url copies the bearer token from ${TOKEN_VARIABLE}, which is not set in this shell.\n`);
      return 2;
    }
  }
  const remote: RemoteSnippetOptions = {
    url: options.url,
    windows: options.windows ?? (io.platform ?? process.platform) === 'win32',
    inlineToken,
  };
  const json = formatJson(remoteJson(client, remote));
  io.stdout(options.json ? `${json}\n` : `${REMOTE_GUIDES[client](json, remote).join('\n')}\n`);
  if (inlineToken !== undefined) {
    io.stderr('ezrouter-mcp: this snippet contains your bearer token: keep it out of version control and screenshots.\n');
  }
  return 0;
}

/**
 * Claude Desktop's remote servers are custom connectors, added in its settings and brokered from
 * Anthropic's cloud; they sign in with OAuth and send no custom headers, so there is no file to
 * write and no token to inline: the steps, for a server running EZROUTER_HTTP_AUTH=oauth.
 * Sources: support.claude.com/en/articles/11175166 (network requirements) and
 * support.claude.com/en/articles/11503834 (Settings > Connectors, DCR, custom client ID).
 */
function desktopConnector(options: SetupCommandOptions & { url: string }, io: CommandIo): number {
  if (options.json || options.inlineKey) {
    io.stderr(
      `ezrouter-mcp: Claude Desktop adds remote servers as connectors in its settings (no configuration file, no token): run \`ezrouter-mcp config claude-desktop --url ${options.url}\` without ${options.json ? '--json' : '--inline-key'} for the steps.\n`,
    );
    return 2;
  }
  io.stdout(
    [
      'Claude Desktop: a remote server is a custom connector, added in Claude itself (claude_desktop_config.json only holds local servers):',
      '',
      '  1. Settings -> Connectors -> Add custom connector',
      `  2. Name: ${SERVER_NAME}    Remote MCP server URL: ${options.url}`,
      '  3. Connect, and sign in with your organisation\'s identity provider.',
      '',
      '- The server must run with EZROUTER_HTTP_AUTH=oauth: connectors sign in with OAuth and send no custom header, so a bearer token from a tokens file cannot reach it.',
      `- Claude reaches ${options.url} from Anthropic's cloud, not from this computer: it must be reachable from the public internet (or allowlist Anthropic's IP ranges).`,
      '- If your identity provider does not offer dynamic client registration, enter a client ID and secret under Advanced settings.',
      '- On Team and Enterprise plans an Owner adds the connector for the organisation first; members then connect to it.',
      '- Without OAuth, use the local form instead: ezrouter-mcp config claude-desktop',
      '',
    ].join('\n'),
  );
  return 0;
}

const tokenNote = `The token is the one your server's operator gave you (with a byok server: your own ezrouter key, sk-...).`;
const doctorLine = (url: string): string => `- Check the endpoint and the token first: ${TOKEN_VARIABLE}=... npx -y ezrouter-mcp doctor --http ${url}`;

const REMOTE_GUIDES: Record<Exclude<ClientId, 'claude-desktop'>, (json: string, options: RemoteSnippetOptions) => string[]> = {
  'claude-code': (json, options) => [
    'Claude Code: run this once (add --scope user to use it in every project):',
    '',
    `  ${claudeAddHttpCommand(options)}`,
    '',
    ...(options.inlineToken !== undefined
      ? []
      : [`  The shell puts the token from ${TOKEN_VARIABLE} into Claude Code's own settings. ${tokenNote}`, '']),
    options.inlineToken !== undefined
      ? 'or save this as .mcp.json at the project root (it contains your token: do not commit it):'
      : `or commit this .mcp.json at the project root (Claude Code expands \${${TOKEN_VARIABLE}} from its environment, so the token stays out of git):`,
    '',
    json,
    '',
    '- Check it with `claude mcp list` or /mcp inside Claude Code.',
    doctorLine(options.url),
  ],
  cursor: (json, options) => [
    'Cursor: add this to ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (this project)',
    '',
    json,
    '',
    ...(options.inlineToken !== undefined
      ? []
      : [`- Cursor replaces \${env:${TOKEN_VARIABLE}} with the variable from its own environment: start Cursor from a shell where it is set.`, `  ${tokenNote}`]),
    '- Enable the server in Cursor Settings -> MCP; logs: View -> Output, then "MCP Logs" in the list.',
    doctorLine(options.url),
  ],
  vscode: (json, options) => [
    'VS Code: save this as .vscode/mcp.json in your workspace (or run "MCP: Open User Configuration" for all workspaces)',
    '',
    json,
    '',
    ...(options.inlineToken !== undefined ? [] : [`- VS Code asks for the token the first time it connects and stores it encrypted. ${tokenNote}`]),
    `- Logs: run "MCP: List Servers", pick ${SERVER_NAME}, then "Show Output".`,
    doctorLine(options.url),
  ],
};
