/**
 * The Claude Desktop extension, as Claude Desktop gets it: scripts/build-mcpb.mjs packs
 * `ezrouter-mcp-<version>.mcpb` (from the current dist/), `mcpb unpack` opens it, `mcpb validate`
 * checks its manifest, and the server is started exactly as the manifest's mcp_config says, with
 * the variables substituted by @anthropic-ai/mcpb's own getMcpConfigForManifest (the code Claude
 * Desktop runs) and only that environment, then driven by the SDK client against the emulator.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { getMcpConfigForManifest, VERSIONED_MANIFEST_SCHEMAS } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FLAGS, DEFAULT_BASE_URL, loadConfig } from '../src/config.js';
import { defaultReply, startEmulator, type Emulator } from '../src/emulator/index.js';
import { stdioFiles, type Metafile } from '../scripts/bundle-graph.mjs';
import { drawIcon, SIZE } from '../scripts/make-icon.mjs';
import { startHarness } from './harness.js';

const ROOT = join(import.meta.dirname, '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; engines: { node: string }; mcpName: string };
const MCPB_CLI = join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', 'dist', 'cli', 'cli.js');
const PATH = [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter);
/** The build's import graph (scripts/bundle.mjs): what the extension ships is computed from it. */
const META = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as { entry: string; stdio: string; cli: Metafile };

interface Manifest {
  manifest_version: string;
  name: string;
  version: string;
  long_description: string;
  icon: string;
  server: { type: string; entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  tools: { name: string; description?: string }[];
  compatibility: { platforms: string[]; runtimes: { node: string } };
  user_config: Record<string, { type: string; title: string; description: string; required?: boolean; sensitive?: boolean; default?: unknown; min?: number; max?: number }>;
  _meta: Record<string, { tool_titles: Record<string, string> }>;
}

function node(args: string[], cwd = ROOT): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, PATH }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

describe('the MCPB bundle (npm run bundle:mcpb)', () => {
  let work: string;
  let bundle: string;
  let unpacked: string;
  let manifest: Manifest;
  let validateOutput: string;
  let emulator: Emulator;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ezrouter-mcpb-test-'));
    await node(['scripts/build-mcpb.mjs', `--out-dir=${work}`]);
    bundle = join(work, `${PKG.name}-${PKG.version}.mcpb`);
    unpacked = join(work, 'unpacked');
    await node([MCPB_CLI, 'unpack', bundle, unpacked]);
    manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as Manifest;
    validateOutput = await node([MCPB_CLI, 'validate', join(unpacked, 'manifest.json')]);
    emulator = await startEmulator();
  }, 120_000);

  afterAll(async () => {
    await emulator?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is named after the package version and passes `mcpb validate` (and the strict schema of its manifest_version)', () => {
    expect(statSync(bundle).size).toBeGreaterThan(0);
    expect(validateOutput).toContain('Manifest schema validation passes!');
    expect(validateOutput).not.toMatch(/error/i);
    expect(manifest.manifest_version).toBe('0.3');
    const strict = VERSIONED_MANIFEST_SCHEMAS['0.3'].safeParse(manifest);
    expect(strict.success, JSON.stringify(strict.error?.issues)).toBe(true);
    expect(manifest).toMatchObject({ name: PKG.name, version: PKG.version, server: { type: 'node', entry_point: 'dist/cli.js' } });
  });

  it('holds only what runs: the command and the chunks the stdio server can load, the manifest, icon, licence, notices and a runtime package.json', () => {
    const shipped = filesUnder(unpacked);
    const built = shipped.filter((f) => f.startsWith('dist/'));
    expect(shipped.filter((f) => !f.startsWith('dist/'))).toEqual(['LICENSE', 'THIRD_PARTY_NOTICES.md', 'icon.png', 'manifest.json', 'package.json']);
    expect(built).toEqual(stdioFiles(META.cli, META.entry, META.stdio));
    expect(built).toContain(META.stdio);
    // Self-contained for the stdio server: every import of a shipped file, static or lazy, is
    // shipped, except the entry's lazy imports of the other commands (Claude Desktop runs only
    // `node dist/cli.js`, the stdio server).
    for (const file of built) {
      for (const edge of META.cli.outputs[file]!.imports) {
        if (edge.external || (file === META.entry && edge.kind === 'dynamic-import' && edge.path !== META.stdio)) continue;
        expect(built, `${file} imports ${edge.path}`).toContain(edge.path);
      }
    }
    // Nothing of the HTTP mode or the other commands: not their modules, not their libraries.
    // (The argument parser reads the HTTP mode's flags and help text from http-config.ts: that one stays.)
    const inBundle = built
      .flatMap((f) => Object.keys(META.cli.outputs[f]!.inputs).map((i) => i.replace(/^[\w-]+:/, '')))
      .filter((i) => i !== 'src/transports/http/http-config.ts');
    const httpOnly = ['node_modules/jose/', 'node_modules/@redis/client/', 'node_modules/hono/', 'node_modules/@hono/', 'src/transports/http/', 'src/store/redis-', 'src/tasks/redis-'];
    for (const path of [...httpOnly, 'src/commands/doctor/', 'src/commands/setup/setup-command.ts']) {
      expect(inBundle.filter((i) => i.includes(path)), path).toEqual([]);
    }
    const left = Object.keys(META.cli.outputs).filter((f) => !built.includes(f));
    expect(left.map((f) => META.cli.outputs[f]!.entryPoint ?? '')).toEqual(expect.arrayContaining(['src/transports/http/serve.ts', 'src/commands/doctor/doctor.ts']));
    // Its notices name exactly the packages whose code it ships.
    const noticed = [...readFileSync(join(unpacked, 'THIRD_PARTY_NOTICES.md'), 'utf8').matchAll(/^\| (\S+) \| [^|]+ \| [^|]+ \|$/gm)].map((m) => m[1]!).filter((n) => n !== 'package');
    const shippedPackages = [...new Set(inBundle.map((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(i)?.[1]).filter((n): n is string => n !== undefined))].sort();
    expect(noticed.sort()).toEqual(shippedPackages);
    expect(noticed).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'eventsource-parser', 'undici', 'zod']));
    for (const name of ['jose', '@redis/client', 'hono', '@hono/node-server']) expect(noticed).not.toContain(name);
    const runtime = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(runtime).toMatchObject({ name: PKG.name, version: PKG.version, type: 'module' });
    expect(Object.keys(runtime)).not.toContain('scripts');
    expect(Object.keys(runtime)).not.toContain('devDependencies');
  });

  it('declares compatibility from package.json and an icon: the PNG that scripts/make-icon.mjs draws', () => {
    expect(manifest.compatibility).toEqual({ platforms: ['darwin', 'win32', 'linux'], runtimes: { node: PKG.engines.node } });
    const icon = readFileSync(join(unpacked, manifest.icon));
    expect(icon.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect([icon.readUInt32BE(16), icon.readUInt32BE(20)]).toEqual([SIZE, SIZE]);
    expect(icon.equals(readFileSync(join(ROOT, 'assets', 'icon.png')))).toBe(true);
    expect(drawIcon().equals(icon), 'assets/icon.png is what scripts/make-icon.mjs draws').toBe(true);
  });

  it('asks for the key as a required sensitive string; optional settings default to the server\'s own defaults; each maps to a variable the server reads', () => {
    const config = manifest.user_config;
    expect(config['api_key']).toMatchObject({ type: 'string', required: true, sensitive: true });
    const defaults = loadConfig({});
    expect(config['base_url']).toMatchObject({ type: 'string', required: false, default: DEFAULT_BASE_URL });
    expect(config['timeout_ms']).toMatchObject({ type: 'number', required: false, default: defaults.timeoutMs });
    expect(config['default_model']).toMatchObject({ type: 'string', required: false, default: '' });
    for (const [key, option] of Object.entries(config)) {
      expect(option.title, key).toBeTruthy();
      expect(option.description, key).toBeTruthy();
      if (!option.required) expect(option.default, `${key} needs a default, else "\${user_config.${key}}" reaches the server verbatim`).toBeDefined();
      if (key !== 'api_key') expect(option.sensitive ?? false, key).toBe(false);
    }
    const env = manifest.server.mcp_config.env;
    const known = new Set(['EZROUTER_API_KEY', ...CONFIG_FLAGS.values()]);
    for (const [name, value] of Object.entries(env)) {
      expect(known.has(name), `${name} is a variable the server reads`).toBe(true);
      for (const [, key] of value.matchAll(/\$\{user_config\.(\w+)\}/g)) expect(Object.keys(config), `${name} uses ${key}`).toContain(key);
    }
    // Every setting reaches the server.
    expect(Object.values(env).join(' ')).toEqual(expect.stringContaining('${user_config.api_key}'));
    for (const key of Object.keys(config)) expect(Object.values(env).some((v) => v.includes(`\${user_config.${key}}`)), key).toBe(true);
    expect(manifest.server.mcp_config).toMatchObject({ command: 'node', args: ['${__dirname}/dist/cli.js'] });
  });

  it('without the key Claude Desktop would not start it (mcpb: required configuration missing)', async () => {
    const config = await getMcpConfigForManifest({ manifest: manifest as never, extensionPath: unpacked, systemDirs: {} as never, userConfig: {}, pathSeparator: '/' });
    expect(config).toBeUndefined();
  });

  it('starts from the unpacked folder with only the manifest\'s environment: initialize, tools/list equal to the manifest\'s tools, a complete', async () => {
    const config = await getMcpConfigForManifest({
      manifest: manifest as never,
      extensionPath: unpacked,
      systemDirs: {} as never,
      userConfig: { api_key: emulator.apiKey, base_url: emulator.url },
      pathSeparator: '/',
    });
    expect(config).toBeDefined();
    expect(config!.args).toEqual([join(unpacked, 'dist', 'cli.js')]);
    expect(config!.env).toEqual({
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      EZROUTER_DEFAULT_MODEL: '',
      EZROUTER_TIMEOUT_MS: String(loadConfig({}).timeoutMs),
    });
    const transport = new StdioClientTransport({
      command: config!.command,
      args: config!.args ?? [],
      env: { PATH, ...config!.env },
      cwd: work, // a client's working directory is not the extension's
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const client = new Client({ name: 'claude-ai', version: '0' });
    const problems: Error[] = [];
    client.onerror = (error) => problems.push(error);
    try {
      await client.connect(transport);
      expect(client.getServerVersion()).toMatchObject({ name: PKG.name, version: PKG.version });
      const { tools } = await client.listTools();
      expect(tools.map((t) => ({ name: t.name, description: t.description }))).toEqual(manifest.tools);
      expect(Object.fromEntries(tools.map((t) => [t.name, t.title]))).toEqual(manifest._meta[PKG.mcpName]!.tool_titles);
      // The same tools as the source's own server (the bundle is not stale or partial).
      const source = await startHarness();
      try {
        expect(tools.map((t) => t.name)).toEqual((await source.client.listTools()).tools.map((t) => t.name));
      } finally {
        await source.close();
      }
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['complete', 'compare', 'list_models', 'get_balance']));
      // The long description names every tool (generated from tools/list, so none can go missing).
      for (const tool of tools) expect(manifest.long_description, tool.name).toContain(`\`${tool.name}\``);
      const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'from the extension', model: 'claude-sonnet-4-6' } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.content[0]).toEqual({ type: 'text', text: defaultReply('claude-sonnet-4-6', 'from the extension') });
      expect(emulator.requests.at(-1)?.headers['x-api-key']).toBe(emulator.apiKey);
    } finally {
      await client.close();
    }
    expect(problems).toEqual([]);
    expect(stderr).toMatch(/ready on stdio/);
    expect(stderr).not.toContain(emulator.apiKey);
  });
});
