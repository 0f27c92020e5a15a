/**
 * The Claude Code plugin: `.claude-plugin/marketplace.json` (this repository is a marketplace
 * with one plugin, `ezrouter`, whose root is the repository) and `.claude-plugin/plugin.json`
 * (its manifest, with the MCP server inline in `mcpServers`). Checks the fields Claude Code's
 * plugin reference requires, that the server definition is the one `ezrouter-mcp config
 * claude-code` prints (pinned to the plugin's version), and launches it: the command and arguments it names, run from a folder
 * where the packed package is installed (what `npx -y ezrouter-mcp@<version>` resolves to), with its env
 * expanded from the environment as Claude Code does, against the emulator.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FLAGS } from '../src/config.js';
import { defaultReply, startEmulator, type Emulator } from '../src/emulator/index.js';
import { startHarness } from './harness.js';

const ROOT = join(import.meta.dirname, '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string; bin: Record<string, string>; repository: { url: string } };
const PATH = [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter);
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

interface ServerDefinition {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}
interface PluginManifest {
  name: string;
  version?: string;
  description?: string;
  author?: { name: string };
  license?: string;
  mcpServers?: Record<string, ServerDefinition>;
}
interface Marketplace {
  name: string;
  owner: { name: string };
  metadata?: { description?: string; version?: string };
  plugins: ({ name: string; source: string | { source: string } } & Omit<PluginManifest, 'name'>)[];
}

const read = <T>(path: string): T => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;
const marketplace = read<Marketplace>('.claude-plugin/marketplace.json');
const plugin = read<PluginManifest>('.claude-plugin/plugin.json');

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, PATH }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Claude Code's expansion of `${VAR}` and `${VAR:-default}` in a server definition's env. */
function expand(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => env[name] ?? fallback ?? '');
}

describe('.claude-plugin/marketplace.json', () => {
  it('names the marketplace (kebab-case) and its owner, and lists the plugin with a source inside this repository', () => {
    expect(marketplace.name).toMatch(KEBAB);
    expect(marketplace.owner.name).toBeTruthy();
    expect(marketplace.plugins).toHaveLength(1);
    const entry = marketplace.plugins[0]!;
    expect(entry.name).toBe(plugin.name);
    expect(entry.source).toBe('./'); // relative sources start with ./ and are resolved from the marketplace root
    expect(existsSync(join(ROOT, entry.source as string, '.claude-plugin', 'plugin.json'))).toBe(true);
    expect(entry.version).toBe(PKG.version);
    expect(marketplace.metadata?.version).toBe(PKG.version);
    expect(entry.description).toBe(plugin.description);
    expect(entry.license).toBe(PKG.license);
  });
});

describe('.claude-plugin/plugin.json', () => {
  it('has a kebab-case name, the package version, a description, author and licence', () => {
    expect(plugin.name).toMatch(KEBAB);
    expect(plugin.version).toBe(PKG.version);
    expect(plugin.description).toBeTruthy();
    expect(plugin.author?.name).toBeTruthy();
    expect(plugin.license).toBe(PKG.license);
  });

  it('defines the server as `ezrouter-mcp config claude-code` prints it and mcp.json has it, pinned to the plugin\'s version', async () => {
    const printed = JSON.parse(await run(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'config', 'claude-code', '--json'], ROOT)) as { mcpServers: Record<string, ServerDefinition> };
    expect(printed.mcpServers).toEqual(read<{ mcpServers: unknown }>('mcp.json').mcpServers);
    const unpinned = printed.mcpServers['ezrouter']!;
    expect(unpinned).toEqual({ command: 'npx', args: ['-y', PKG.name], env: { EZROUTER_API_KEY: '${EZROUTER_API_KEY}' } });
    // The plugin is versioned: plugin X runs ezrouter-mcp X, not whatever is newest on npm.
    const server = plugin.mcpServers!['ezrouter']!;
    expect(server).toEqual({ ...unpinned, args: ['-y', `${PKG.name}@${PKG.version}`] });
    const known = new Set(['EZROUTER_API_KEY', ...CONFIG_FLAGS.values()]);
    for (const name of Object.keys(server.env ?? {})) expect(known.has(name), name).toBe(true);
  });

  describe('the server it defines, launched', () => {
    let work: string;
    let app: string;
    let emulator: Emulator;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'ezrouter-plugin-'));
      const packed = JSON.parse(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as { filename: string }[];
      app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'plugin-test', version: '1.0.0', private: true }));
      await run('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, packed[0]!.filename)], app);
      emulator = await startEmulator();
    }, 120_000);

    afterAll(async () => {
      await emulator?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('runs the package\'s bin with the key taken from the environment: initialize, tools/list, complete', async () => {
      const server = plugin.mcpServers!['ezrouter']!;
      // npx -y <name>@<version> runs the package's one bin; it is ezrouter-mcp → dist/cli.js. The
      // packed package installed here has that version, so npx takes it from this folder.
      expect([`${Object.keys(PKG.bin)[0]}@${PKG.version}`, Object.keys(PKG.bin).length]).toEqual([server.args!.at(-1), 1]);
      const env = Object.fromEntries(Object.entries(server.env ?? {}).map(([k, v]) => [k, expand(v, { EZROUTER_API_KEY: emulator.apiKey })]));
      expect(env).toEqual({ EZROUTER_API_KEY: emulator.apiKey });
      const transport = new StdioClientTransport({
        command: server.command,
        args: server.args ?? [],
        cwd: app,
        env: { PATH, ...env, EZROUTER_BASE_URL: emulator.url },
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const client = new Client({ name: 'claude-code', version: '0' });
      try {
        await client.connect(transport);
        expect(client.getServerVersion()).toMatchObject({ name: PKG.name, version: PKG.version });
        const source = await startHarness();
        try {
          // The installed package's tools are the source's own.
          expect((await client.listTools()).tools.map((t) => t.name)).toEqual((await source.client.listTools()).tools.map((t) => t.name));
        } finally {
          await source.close();
        }
        const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'from the plugin', model: 'gpt-5.2' } })) as CallToolResult;
        expect(result.isError).toBeFalsy();
        expect(result.content[0]).toEqual({ type: 'text', text: defaultReply('gpt-5.2', 'from the plugin') });
      } finally {
        await client.close();
      }
      expect(stderr).not.toContain(emulator.apiKey);
    }, 60_000);
  });
});
