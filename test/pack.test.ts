/**
 * The published shape, exactly as users get it: `npm pack` the repository, install the tarball
 * into an empty folder, then launch `node_modules/.bin/ezrouter-mcp` and `npx ezrouter-mcp` from
 * there as an MCP client would and talk to them over stdio against the emulator. The runtime
 * libraries are bundled, so that install is one package and nothing else. A second folder
 * installs the tarball beside the four runtime libraries and embeds `createServer` on its own
 * SDK, from JavaScript and from TypeScript. Also checks server.json (MCP registry metadata)
 * against package.json.
 *
 * `npm pack --ignore-scripts`: dist/ is already current (test/global-setup.ts rebuilds it when a
 * source is newer), and re-running `prepare` (tsc) here would rewrite dist/ under the other test
 * files that spawn it in parallel.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
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
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** What an embedder of the library entry installs beside it (README, "Embedding"), at the ranges we build with. */
const RUNTIME_LIBRARIES = ['@modelcontextprotocol/sdk', 'zod', 'eventsource-parser', 'undici'];
/** The same Node that runs the tests, first on PATH (for `#!/usr/bin/env node` and npx). */
const PATH = [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter);
const INSTALL_TIMEOUT_MS = 180_000;

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, PATH, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: INSTALL_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Every package folder under a node_modules tree, nested ones included (`@scope/name` counts once). */
function installedPackages(nodeModules: string): string[] {
  const found: string[] = [];
  if (!existsSync(nodeModules)) return found;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue; // .bin, .package-lock.json
    const names = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      found.push(name);
      found.push(...installedPackages(join(nodeModules, name, 'node_modules')).map((n) => `${name} > ${n}`));
    }
  }
  return found.sort();
}

function emptyApp(dir: string): string {
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ezrouter-mcp-pack-test', version: '1.0.0', private: true, type: 'module' }));
  return dir;
}

describe('the published package (npm pack -> npm install -> run)', () => {
  let work: string;
  let tarball: string;
  let app: string;
  let files: string[];
  let emulator: Emulator;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ezrouter-pack-'));
    const packed = JSON.parse(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = join(work, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path).sort();
    app = emptyApp(join(work, 'app'));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    emulator = await startEmulator();
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    await emulator?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships only what runs: the bundled command, the library, its types, the notices, README, LICENSE and package.json', () => {
    for (const path of files) {
      expect(path).toMatch(/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|THIRD_PARTY_NOTICES\.md|dist\/(cli|server)\.js|dist\/(chunks|lib)\/[\w-]+\.js|dist\/.+\.d\.ts)$/);
    }
    expect(files.filter((p) => /^dist\/(emulator|demo)\//.test(p))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'THIRD_PARTY_NOTICES.md', 'dist/cli.js', 'dist/server.js', 'dist/server.d.ts']));
    // Every chunk the build made is shipped (a missing one would fail only when its import() runs).
    const chunks = (dir: string): string[] => readdirSync(join(ROOT, 'dist', dir)).map((f) => `dist/${dir}/${f}`);
    expect(files).toEqual(expect.arrayContaining([...chunks('chunks'), ...chunks('lib')]));
    const bin = join(app, 'node_modules', PKG.name, PKG.bin['ezrouter-mcp']!);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('every type the library declares is shipped: relative imports of each .d.ts resolve inside the package', () => {
    const shipped = new Set(files);
    for (const file of files.filter((f) => f.endsWith('.d.ts'))) {
      const text = readFileSync(join(app, 'node_modules', PKG.name, file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = posix.join(posix.dirname(file), spec!).replace(/\.js$/, '.d.ts');
        expect(shipped.has(target), `${file} imports ${spec}`).toBe(true);
      }
    }
  });

  it('installs exactly one package: no dependencies or peers (the runtime libraries are bundled into the command)', () => {
    expect(PKG.dependencies ?? {}).toEqual({});
    expect(PKG.peerDependencies ?? {}).toEqual({});
    for (const name of RUNTIME_LIBRARIES) expect(PKG.devDependencies[name], name).toBeTruthy();
    expect(installedPackages(join(app, 'node_modules'))).toEqual([PKG.name]);
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).sort()).toEqual(['', `node_modules/${PKG.name}`]);
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

  describe('the library entry, embedded by a project that brings its own SDK', () => {
    let lib: string;

    beforeAll(async () => {
      lib = emptyApp(join(work, 'embedder'));
      const libraries = RUNTIME_LIBRARIES.map((name) => `${name}@${PKG.devDependencies[name]}`);
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...libraries], lib);
    }, INSTALL_TIMEOUT_MS);

    it('createServer runs on the embedder\'s copy of the SDK (one copy, same classes) and answers a complete', async () => {
      // No second copy of any library inside the package: it uses the embedder's.
      expect(existsSync(join(lib, 'node_modules', PKG.name, 'node_modules'))).toBe(false);
      writeFileSync(
        join(lib, 'embed.mjs'),
        `import { createServer, loadConfig } from 'ezrouter-mcp';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
const { server, close } = createServer(loadConfig({ EZROUTER_API_KEY: process.env.KEY, EZROUTER_BASE_URL: process.env.URL, EZROUTER_LOG_LEVEL: 'silent' }));
const client = new Client({ name: 'embedder', version: '0' });
const [a, b] = InMemoryTransport.createLinkedPair();
await Promise.all([server.connect(a), client.connect(b)]);
const result = await client.callTool({ name: 'complete', arguments: { prompt: 'embedded', model: 'gpt-5.2' } });
process.stdout.write(JSON.stringify({ sameSdk: server instanceof McpServer, server: client.getServerVersion(), result }));
await client.close();
await close();
`,
      );
      const out = JSON.parse(await run(process.execPath, ['embed.mjs'], lib, { KEY: emulator.apiKey, URL: emulator.url })) as {
        sameSdk: boolean;
        server: { name: string };
        result: CallToolResult;
      };
      expect(out.sameSdk).toBe(true);
      expect(out.server.name).toBe(PKG.name);
      expect(out.result.isError).toBeFalsy();
      expect(out.result.content[0]).toEqual({ type: 'text', text: defaultReply('gpt-5.2', 'embedded') });
    });

    it('type-checks for a TypeScript embedder: createServer is typed, its server is the SDK\'s McpServer', async () => {
      writeFileSync(
        join(lib, 'embed.ts'),
        `import { createServer, loadConfig, type Config } from 'ezrouter-mcp';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
const config: Readonly<Config> = loadConfig({});
const { server, close }: { server: McpServer; close(): Promise<void> } = createServer(config);
void close;
// @ts-expect-error: a config is required (fails as "unused" if the types were missing and createServer were any)
createServer(42);
// @ts-expect-error: McpServer has no such member (fails as "unused" if server were any)
server.notAMember();
`,
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      await run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'embed.ts'], lib);
    }, 60_000);
  });
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
