/**
 * `ezrouter-mcp config <client>`: the exact snippet per client, the key never inlined unless
 * asked, usage errors with exit 2, and mcp.json at the repository root kept consistent with it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_USAGE, parseArgs } from '../src/args.js';
import { claudeAddCommand, clientJson, KEY_PLACEHOLDER, type McpServersFile, type VsCodeFile } from '../src/commands/setup/snippets.js';
import { CLIENT_IDS } from '../src/commands/setup/clients.js';
import { runSetupCommand } from '../src/commands/setup/setup-command.js';
import { formatJson } from '../src/commands/setup/json-format.js';
import { PACKAGE_NAME } from '../src/version.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli.js');
const SECRET = 'sk-secret0123456789abcdefSECRET';

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** The JSON block of a guide: from the first line that is exactly `{` to the next line that is exactly `}`. */
function jsonBlock(text: string): unknown {
  const lines = text.split('\n');
  const start = lines.indexOf('{');
  const end = lines.indexOf('}', start);
  if (start === -1 || end === -1) throw new Error(`no JSON block in:\n${text}`);
  return JSON.parse(lines.slice(start, end + 1).join('\n'));
}

const posix = { packageName: PACKAGE_NAME, windows: false, inlineKey: undefined };

describe('mcp.json at the repository root', () => {
  const rootConfig = JSON.parse(readFileSync(join(ROOT, 'mcp.json'), 'utf8')) as McpServersFile;

  it('is exactly what `config claude-code --json` prints (the generic .mcp.json form)', async () => {
    expect(rootConfig).toEqual(clientJson('claude-code', posix));
    const r = await runCli(['config', 'claude-code', '--json'], { EZROUTER_API_KEY: SECRET });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(rootConfig);
  });

  it('launches the server the same way as the Claude Desktop and Cursor snippets, with the same variables', () => {
    const entry = rootConfig.mcpServers['ezrouter']!;
    for (const client of ['claude-desktop', 'cursor'] as const) {
      const other = (clientJson(client, posix) as McpServersFile).mcpServers['ezrouter']!;
      expect(other.command).toBe(entry.command);
      expect(other.args).toEqual(entry.args);
      expect(Object.keys(other.env)).toEqual(Object.keys(entry.env));
    }
    expect(entry).toEqual({ command: 'npx', args: ['-y', PACKAGE_NAME], env: { EZROUTER_API_KEY: '${EZROUTER_API_KEY}' } });
  });
});

describe('README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  /** The first ```json block after a heading. */
  const snippetAfter = (heading: string): unknown => {
    const at = readme.indexOf(`\n${heading}\n`);
    if (at === -1) throw new Error(`README has no "${heading}"`);
    const block = /```json\n([\s\S]*?)\n```/.exec(readme.slice(at));
    return JSON.parse(block?.[1] ?? 'null');
  };

  it.each([
    ['### Claude Desktop', 'claude-desktop'],
    ['### Claude Code', 'claude-code'],
    ['### Cursor', 'cursor'],
    ['### VS Code', 'vscode'],
  ] as const)('the %s section shows exactly what `config %s` prints', (heading, client) => {
    expect(snippetAfter(heading)).toEqual(clientJson(client, posix));
  });

  it('shows the same `claude mcp add` command', () => {
    expect(readme).toContain(claudeAddCommand(posix));
    expect(readme).toContain(claudeAddCommand({ ...posix, windows: true }));
  });
});

describe('config <client>', () => {
  it.each(CLIENT_IDS)('%s: prints the guide with the snippet, never the key from the environment', async (client) => {
    const r = await runCli(['config', client], { EZROUTER_API_KEY: SECRET });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain(SECRET);
    expect(jsonBlock(r.stdout)).toEqual(clientJson(client, posix));
    expect(r.stdout).toContain(formatJson(clientJson(client, posix)));
    expect(r.stdout).toContain('doctor');
    const json = await runCli(['config', client, '--json'], { EZROUTER_API_KEY: SECRET });
    expect(json).toEqual({ code: 0, stdout: `${formatJson(clientJson(client, posix))}\n`, stderr: '' });
  });

  it('claude-desktop: mcpServers with a placeholder (that app does not expand variables)', () => {
    expect(clientJson('claude-desktop', posix)).toEqual({
      mcpServers: { ezrouter: { command: 'npx', args: ['-y', 'ezrouter-mcp'], env: { EZROUTER_API_KEY: KEY_PLACEHOLDER } } },
    });
  });

  it('cursor: mcpServers with Cursor\'s ${env:...} interpolation', () => {
    expect(clientJson('cursor', posix)).toEqual({
      mcpServers: { ezrouter: { command: 'npx', args: ['-y', 'ezrouter-mcp'], env: { EZROUTER_API_KEY: '${env:EZROUTER_API_KEY}' } } },
    });
  });

  it('vscode: servers + a password promptString input the env refers to', () => {
    const file = clientJson('vscode', posix) as VsCodeFile;
    expect(file).toEqual({
      inputs: [{ type: 'promptString', id: 'ezrouter-api-key', description: 'ezrouter API key (sk-...)', password: true }],
      servers: { ezrouter: { type: 'stdio', command: 'npx', args: ['-y', 'ezrouter-mcp'], env: { EZROUTER_API_KEY: '${input:ezrouter-api-key}' } } },
    });
    expect(file.servers['ezrouter']!.env['EZROUTER_API_KEY']).toBe(`\${input:${file.inputs![0]!.id}}`);
  });

  it('claude-code: both the `claude mcp add` command and the .mcp.json form', async () => {
    const r = await runCli(['config', 'claude-code']);
    expect(r.stdout).toContain('  claude mcp add ezrouter -e EZROUTER_API_KEY="$EZROUTER_API_KEY" -- npx -y ezrouter-mcp\n');
    expect(r.stdout).toContain('.mcp.json');
    expect(jsonBlock(r.stdout)).toEqual(clientJson('claude-code', posix));
    expect(claudeAddCommand({ ...posix, windows: true })).toBe(
      'claude mcp add ezrouter -e EZROUTER_API_KEY=$env:EZROUTER_API_KEY -- cmd /c npx -y ezrouter-mcp',
    );
  });

  it('--windows launches through cmd /c npx (and is the default on Windows)', async () => {
    const r = await runCli(['config', 'cursor', '--windows', '--json']);
    const entry = (JSON.parse(r.stdout) as McpServersFile).mcpServers['ezrouter']!;
    expect([entry.command, ...entry.args]).toEqual(['cmd', '/c', 'npx', '-y', 'ezrouter-mcp']);

    let out = '';
    const io = { env: {}, stdout: (t: string) => (out += t), stderr: () => undefined, platform: 'win32' as const };
    expect(runSetupCommand({ client: 'vscode', inlineKey: false, windows: undefined, json: true }, io)).toBe(0);
    expect((JSON.parse(out) as VsCodeFile).servers['ezrouter']!.command).toBe('cmd');
  });

  it('--inline-key writes the key from EZROUTER_API_KEY, with a warning on stderr', async () => {
    const r = await runCli(['config', 'vscode', '--inline-key', '--json'], { EZROUTER_API_KEY: SECRET });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      servers: { ezrouter: { type: 'stdio', command: 'npx', args: ['-y', 'ezrouter-mcp'], env: { EZROUTER_API_KEY: SECRET } } },
    });
    expect(r.stderr).toMatch(/contains your API key/);

    const code = await runCli(['config', 'claude-code', '--inline-key'], { EZROUTER_API_KEY: SECRET });
    expect(code.stdout).toContain(`claude mcp add ezrouter -e EZROUTER_API_KEY=${SECRET} -- npx -y ezrouter-mcp`);
    expect(code.stdout).toContain('do not commit it');

    const missing = await runCli(['config', 'cursor', '--inline-key']);
    expect(missing, JSON.stringify(missing)).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/--inline-key copies the key from EZROUTER_API_KEY, which is not set/);
  });

  it('an unknown or missing client prints usage on stderr and exits 2', async () => {
    for (const args of [['config', 'emacs'], ['config'], ['config', 'cursor', '--yaml'], ['config', 'cursor', 'vscode']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(CONFIG_USAGE);
    }
    expect((await runCli(['config', 'emacs'])).stderr).toMatch(/^ezrouter-mcp: unknown client "emacs" \(choose one of claude-desktop, claude-code, cursor, vscode\)/);
    expect(await runCli(['config', '--help'])).toEqual({ code: 0, stdout: CONFIG_USAGE, stderr: '' });
  });

  it('parseArgs: config and its options', () => {
    expect(parseArgs(['config', 'cursor'])).toEqual({ kind: 'config', client: 'cursor', inlineKey: false, windows: undefined, json: false });
    expect(parseArgs(['config', '--json', 'vscode', '--windows', '--inline-key'])).toEqual({
      kind: 'config',
      client: 'vscode',
      inlineKey: true,
      windows: true,
      json: true,
    });
    expect(parseArgs(['config', 'emacs'])).toMatchObject({ kind: 'error', usage: CONFIG_USAGE });
    // The server's own flags are unchanged.
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--log-level', 'debug'])).toEqual({ kind: 'serve', overrides: { EZROUTER_LOG_LEVEL: 'debug' } });
  });
});

describe('formatJson', () => {
  it('indents objects and keeps arrays of plain values on one line', () => {
    const value = { a: [1, 'x', null], b: { c: [] }, d: [{ e: true }], u: undefined };
    expect(formatJson(value)).toBe('{\n  "a": [1, "x", null],\n  "b": {\n    "c": []\n  },\n  "d": [\n    {\n      "e": true\n    }\n  ]\n}');
    expect(JSON.parse(formatJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });
});
