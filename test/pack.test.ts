/**
 * The published shape, exactly as users get it: `npm pack` the repository, install the tarball
 * into an empty folder (dependencies from the registry), then launch `node_modules/.bin/ezrouter-mcp`
 * and `npx ezrouter-mcp` from there as an MCP client would and talk to them over stdio against the
 * emulator. Also checks server.json (MCP registry metadata) against package.json.
 *
 * `npm pack --ignore-scripts`: dist/ is already current (test/global-setup.ts rebuilds it when a
 * source is newer), and re-running `prepare` (tsc) here would rewrite dist/ under the other test
 * files that spawn it in parallel.
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

const ROOT = join(import.meta.dirname, '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  mcpName?: string;
  bin: Record<string, string>;
  repository: { url: string };
};
/** The same Node that runs the tests, first on PATH (for `#!/usr/bin/env node` and npx). */
const PATH = [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter);
const INSTALL_TIMEOUT_MS = 180_000;

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, PATH }, maxBuffer: 16 * 1024 * 1024, timeout: INSTALL_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('the published package (npm pack -> npm install -> run)', () => {
  let work: string;
  let app: string;
  let files: string[];
  let emulator: Emulator;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ezrouter-pack-'));
    const packed = JSON.parse(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(work, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path).sort();
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'ezrouter-mcp-pack-test', version: '1.0.0', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    emulator = await startEmulator();
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    await emulator?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships only what runs: the compiled code, README, LICENSE and package.json', () => {
    for (const path of files) expect(path).toMatch(/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/.+\.(js|d\.ts))$/);
    expect(files.filter((p) => /^dist\/(emulator|demo)\//.test(p))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/cli.js', 'dist/server.js', 'dist/server.d.ts']));
    const bin = join(app, 'node_modules', PKG.name, PKG.bin['ezrouter-mcp']!);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    // Runtime dependencies only: no compiler, test runner or benchmark clients in a user's install.
    for (const dev of ['typescript', 'vitest', 'tsx', 'openai', '@anthropic-ai/sdk']) {
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it.each([
    ['node_modules/.bin/ezrouter-mcp', (dir: string) => ({ command: join(dir, 'node_modules', '.bin', 'ezrouter-mcp'), args: [] as string[] })],
    ['npx ezrouter-mcp', () => ({ command: 'npx', args: ['ezrouter-mcp'] })],
  ])(
    '%s: a working stdio server (initialize, tools/list, complete); stdout carries only JSON-RPC',
    async (_label, launch) => {
      const { command, args } = launch(app);
      const transport = new StdioClientTransport({
        command,
        args,
        cwd: app,
        env: { PATH, EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url, EZROUTER_LOG_LEVEL: 'debug' },
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const client = new Client({ name: 'pack-test', version: '0' });
      const problems: Error[] = [];
      client.onerror = (error) => problems.push(error); // a non-JSON line on stdout lands here
      try {
        await client.connect(transport);
        expect(client.getServerVersion()).toMatchObject({ name: PKG.name, version: PKG.version });
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(['compare', 'complete', 'get_balance', 'list_models']);
        const result = (await client.callTool({
          name: 'complete',
          arguments: { prompt: 'from the tarball', model: 'claude-haiku-4-5' },
        })) as CallToolResult;
        expect(result.isError).toBeFalsy();
        expect(result.content[0]).toEqual({ type: 'text', text: defaultReply('claude-haiku-4-5', 'from the tarball') });
        expect(result.structuredContent).toMatchObject({ surface: 'anthropic', model: 'claude-haiku-4-5' });
      } finally {
        await client.close();
      }
      expect(problems).toEqual([]);
      expect(stderr).toMatch(/ready on stdio/);
      expect(stderr).not.toContain(emulator.apiKey);
    },
    60_000,
  );
});

describe('server.json (MCP registry metadata)', () => {
  const server = JSON.parse(readFileSync(join(ROOT, 'server.json'), 'utf8')) as {
    $schema: string;
    name: string;
    description: string;
    version: string;
    repository: { url: string; source: string };
    packages: {
      registryType: string;
      registryBaseUrl: string;
      identifier: string;
      version: string;
      transport: { type: string };
      environmentVariables: { name: string; isRequired?: boolean; isSecret?: boolean; description?: string }[];
    }[];
  };

  it('matches package.json: name = mcpName, same version, the npm package over stdio', () => {
    expect(server.$schema).toMatch(/^https:\/\/static\.modelcontextprotocol\.io\/schemas\/\d{4}-\d{2}-\d{2}\/server\.schema\.json$/);
    expect(server.name).toBe(PKG.mcpName);
    expect(server.name).toMatch(/^io\.github\.[a-zA-Z0-9-]+\/[a-zA-Z0-9._-]+$/);
    expect(server.description.length).toBeGreaterThan(0);
    expect(server.description.length).toBeLessThanOrEqual(100);
    expect(server.version).toBe(PKG.version);
    expect(server.repository).toEqual({ url: PKG.repository.url.replace(/^git\+/, '').replace(/\.git$/, ''), source: 'github' });
    expect(server.packages).toHaveLength(1);
    expect(server.packages[0]).toMatchObject({
      registryType: 'npm',
      registryBaseUrl: 'https://registry.npmjs.org',
      identifier: PKG.name,
      version: PKG.version,
      transport: { type: 'stdio' },
    });
  });

  it('declares the key as a required secret, and only variables the server reads', () => {
    const vars = server.packages[0]!.environmentVariables;
    expect(vars.find((v) => v.name === 'EZROUTER_API_KEY')).toMatchObject({ isRequired: true, isSecret: true });
    const known = new Set(['EZROUTER_API_KEY', ...CONFIG_FLAGS.values()]);
    for (const v of vars) {
      expect(known.has(v.name), v.name).toBe(true);
      expect(v.description, v.name).toBeTruthy();
      if (v.name !== 'EZROUTER_API_KEY') expect(v.isRequired ?? false, v.name).toBe(false);
    }
  });
});
