/**
 * The configuration each MCP client needs to launch this server: pure functions that build the
 * snippet objects and the `claude mcp add` command line. The key is an environment reference or
 * a placeholder unless the caller passes it explicitly (`--inline-key`).
 */
import type { ClientId } from './clients.js';

/** The server's name in every client configuration. */
export const SERVER_NAME = 'ezrouter';
export const KEY_VARIABLE = 'EZROUTER_API_KEY';
/** What Claude Desktop users replace by hand: that app does not expand environment variables. */
export const KEY_PLACEHOLDER = '<your ezrouter API key>';
/** The VS Code `inputs` id the key is prompted for. */
export const VSCODE_INPUT_ID = 'ezrouter-api-key';

export interface SnippetOptions {
  /** The npm package to run (`ezrouter-mcp`). */
  packageName: string;
  /** Wrap npx in `cmd /c` (Windows clients that cannot spawn npx.cmd directly). */
  windows: boolean;
  /** The real key to write into the snippet; undefined = a reference or placeholder. */
  inlineKey: string | undefined;
}

export interface Launch {
  command: string;
  args: string[];
}

export interface StdioServerEntry extends Launch {
  type?: 'stdio';
  env: Record<string, string>;
}

/** `{ "mcpServers": { "ezrouter": {...} } }`: Claude Desktop, Claude Code `.mcp.json`, Cursor. */
export interface McpServersFile {
  mcpServers: Record<string, StdioServerEntry>;
}

export interface VsCodeInput {
  type: 'promptString';
  id: string;
  description: string;
  password: boolean;
}

/** `.vscode/mcp.json`: `servers` plus the `inputs` VS Code prompts for. */
export interface VsCodeFile {
  inputs?: VsCodeInput[];
  servers: Record<string, StdioServerEntry>;
}

/** `npx -y ezrouter-mcp`, or `cmd /c npx -y ezrouter-mcp` for Windows. */
export function launchCommand(options: Pick<SnippetOptions, 'packageName' | 'windows'>): Launch {
  const npx = ['-y', options.packageName];
  return options.windows ? { command: 'cmd', args: ['/c', 'npx', ...npx] } : { command: 'npx', args: npx };
}

/** How each client refers to the key when it is not inlined. */
export function keyReference(client: ClientId): string {
  switch (client) {
    case 'claude-code':
      return `\${${KEY_VARIABLE}}`; // expanded by Claude Code from its environment
    case 'cursor':
      return `\${env:${KEY_VARIABLE}}`; // Cursor's interpolation syntax
    case 'vscode':
      return `\${input:${VSCODE_INPUT_ID}}`; // prompted once, stored by VS Code
    case 'claude-desktop':
      return KEY_PLACEHOLDER;
  }
}

/** The JSON document for a client (for Claude Code: the `.mcp.json` form). */
export function clientJson(client: ClientId, options: SnippetOptions): McpServersFile | VsCodeFile {
  const key = options.inlineKey ?? keyReference(client);
  const launch = launchCommand(options);
  if (client === 'vscode') {
    const file: VsCodeFile = { servers: { [SERVER_NAME]: { type: 'stdio', ...launch, env: { [KEY_VARIABLE]: key } } } };
    if (options.inlineKey === undefined) {
      return {
        inputs: [{ type: 'promptString', id: VSCODE_INPUT_ID, description: 'ezrouter API key (sk-...)', password: true }],
        ...file,
      };
    }
    return file;
  }
  return { mcpServers: { [SERVER_NAME]: { ...launch, env: { [KEY_VARIABLE]: key } } } };
}

/**
 * `claude mcp add ezrouter -e EZROUTER_API_KEY=... -- npx -y ezrouter-mcp`. Without an inline
 * key the value is the shell's variable (POSIX `"$VAR"`, PowerShell `$env:VAR` with `windows`).
 */
export function claudeAddCommand(options: SnippetOptions): string {
  const launch = launchCommand(options);
  const value =
    options.inlineKey !== undefined
      ? shellQuote(options.inlineKey)
      : options.windows
        ? `$env:${KEY_VARIABLE}`
        : `"$${KEY_VARIABLE}"`;
  return ['claude', 'mcp', 'add', SERVER_NAME, '-e', `${KEY_VARIABLE}=${value}`, '--', launch.command, ...launch.args].join(' ');
}

/** Leaves plain words alone and single-quotes anything else (POSIX shell rules). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9._\-/:=@+]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** The variable the remote forms read the bearer token from (the doctor's --http check reads it too). */
export const TOKEN_VARIABLE = 'EZROUTER_HTTP_TOKEN';
/** The VS Code `inputs` id the bearer token is prompted for. */
export const VSCODE_TOKEN_INPUT_ID = 'ezrouter-token';

export interface RemoteSnippetOptions {
  /** The endpoint of a running `ezrouter-mcp http`, e.g. https://mcp.example.com/mcp. */
  url: string;
  /** PowerShell syntax for the `claude mcp add` line. */
  windows: boolean;
  /** The real token to write into the snippet; undefined = a reference. */
  inlineToken: string | undefined;
}

export interface RemoteServerEntry {
  type?: 'http';
  url: string;
  headers: Record<string, string>;
}

/** How each client refers to the token when it is not inlined (Claude Desktop has no remote form with headers). */
export function tokenReference(client: Exclude<ClientId, 'claude-desktop'>): string {
  switch (client) {
    case 'claude-code':
      return `\${${TOKEN_VARIABLE}}`;
    case 'cursor':
      return `\${env:${TOKEN_VARIABLE}}`;
    case 'vscode':
      return `\${input:${VSCODE_TOKEN_INPUT_ID}}`;
  }
}

/**
 * The remote form for a client: Claude Code's `.mcp.json` (`type: "http"`), Cursor's `url` +
 * `headers`, VS Code's `servers` entry of type `http` with the token prompted as a password.
 */
export function remoteJson(
  client: Exclude<ClientId, 'claude-desktop'>,
  options: RemoteSnippetOptions,
): { mcpServers: Record<string, RemoteServerEntry> } | { inputs?: VsCodeInput[]; servers: Record<string, RemoteServerEntry> } {
  const headers = { Authorization: `Bearer ${options.inlineToken ?? tokenReference(client)}` };
  if (client === 'vscode') {
    const file = { servers: { [SERVER_NAME]: { type: 'http' as const, url: options.url, headers } } };
    if (options.inlineToken !== undefined) return file;
    return {
      inputs: [{ type: 'promptString', id: VSCODE_TOKEN_INPUT_ID, description: 'ezrouter-mcp bearer token', password: true }],
      ...file,
    };
  }
  const entry: RemoteServerEntry = client === 'claude-code' ? { type: 'http', url: options.url, headers } : { url: options.url, headers };
  return { mcpServers: { [SERVER_NAME]: entry } };
}

/**
 * `claude mcp add --transport http ezrouter <url> --header "Authorization: Bearer $EZROUTER_HTTP_TOKEN"`
 * (PowerShell `$env:` with `windows`; the token itself, quoted, with an inline token).
 */
export function claudeAddHttpCommand(options: RemoteSnippetOptions): string {
  const header =
    options.inlineToken !== undefined
      ? shellQuote(`Authorization: Bearer ${options.inlineToken}`)
      : `"Authorization: Bearer ${options.windows ? `$env:${TOKEN_VARIABLE}` : `$${TOKEN_VARIABLE}`}"`;
  return ['claude', 'mcp', 'add', '--transport', 'http', SERVER_NAME, shellQuote(options.url), '--header', header].join(' ');
}
