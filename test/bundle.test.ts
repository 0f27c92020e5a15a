/**
 * The bundled command as it runs: which of its files Node actually loads, watched by a module
 * loader hook (`node --import <hook> dist/cli.js`), mapped to the packages inside each file by
 * esbuild's metafile (dist/bundle-meta.json, written by scripts/bundle.mjs). The stdio server
 * must answer initialize and tools/list without loading undici (or the HTTP mode's Redis client
 * and JWT library), and load undici for its first upstream call. Also checks
 * that THIRD_PARTY_NOTICES.md lists every bundled package with its licence text.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReply, startEmulator, type Emulator } from '../src/emulator/index.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');

interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}
const META = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as { lazyOnly: string[]; cli: Metafile };

/** The package an esbuild input belongs to (innermost node_modules), or undefined for our own code. */
function packageOf(input: string): string | undefined {
  const parts = input.replace(/^[\w-]+:/, '').split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at === -1) return undefined;
  return parts[at + 1]!.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
}

/** Packages whose code is in the given built files (paths relative to the root, e.g. dist/chunks/x.js). */
function packagesIn(files: Iterable<string>): Set<string> {
  const found = new Set<string>();
  for (const file of files) {
    const output = META.cli.outputs[file];
    if (!output) throw new Error(`${file} is not an output of the bundle`);
    for (const input of Object.keys(output.inputs)) {
      const name = packageOf(input);
      if (name) found.add(name);
    }
  }
  return found;
}

describe('the bundled command loads what it needs, when it needs it', () => {
  let work: string;
  let hook: string;
  let emulator: Emulator;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ezrouter-bundle-'));
    hook = join(work, 'record-loads.mjs');
    // Registers a load hook (it runs in Node's loader thread) that appends every file URL loaded.
    const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.LOAD_LOG, url + '\\n');
  return next(url, context);
}`;
    writeFileSync(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});\n`);
    emulator = await startEmulator();
  });

  afterAll(async () => {
    await emulator?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Files loaded so far, relative to the root; every one must be a built output (nothing from node_modules). */
  function loaded(log: string): string[] {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      return [];
    }
    const files = [...new Set(text.trim().split('\n').filter(Boolean))].map((url) => relative(ROOT, fileURLToPath(url)).split('\\').join('/'));
    expect(files.filter((f) => f.includes('node_modules'))).toEqual([]);
    return files;
  }

  it('--version loads neither the SDK nor zod nor undici', () => {
    const log = join(work, 'version.log');
    const out = execFileSync(process.execPath, ['--import', pathToFileURL(hook).href, CLI, '--version'], { env: { ...process.env, LOAD_LOG: log }, encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const packages = packagesIn(loaded(log));
    for (const name of ['@modelcontextprotocol/sdk', 'undici', ...META.lazyOnly]) expect(packages.has(name), name).toBe(false);
  });

  it('the stdio server answers initialize and tools/list without undici, and loads it for the first upstream call', async () => {
    const log = join(work, 'server.log');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', pathToFileURL(hook).href, CLI],
      env: { PATH: process.env['PATH'] ?? '', LOAD_LOG: log, EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url, EZROUTER_LOG_LEVEL: 'warn' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'bundle-test', version: '0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('complete');
      const atStart = packagesIn(loaded(log));
      // The mapping works (the SDK and zod are there), and nothing lazy is.
      expect(atStart.has('@modelcontextprotocol/sdk')).toBe(true);
      expect(atStart.has('zod')).toBe(true);
      for (const name of META.lazyOnly) expect(atStart.has(name), `${name} loaded at start-up`).toBe(false);

      const result = (await client.callTool({ name: 'complete', arguments: { prompt: 'lazy', model: 'gpt-5.2' } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.content[0]).toEqual({ type: 'text', text: defaultReply('gpt-5.2', 'lazy') });
      expect(packagesIn(loaded(log)).has('undici')).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('THIRD_PARTY_NOTICES.md', () => {
  const notices = readFileSync(join(ROOT, 'THIRD_PARTY_NOTICES.md'), 'utf8');
  const bundled = new Map<string, string>();
  for (const input of Object.keys(META.cli.inputs)) {
    const name = packageOf(input);
    if (!name) continue;
    const path = input.replace(/^[\w-]+:/, '');
    const dir = path.slice(0, path.lastIndexOf(`node_modules/${name}`) + `node_modules/${name}`.length);
    bundled.set(name, join(dir.startsWith('/') ? '' : ROOT, dir));
  }

  it('lists every package bundled into the command, with the version installed, and the four runtime libraries among them', () => {
    expect([...bundled.keys()]).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'zod', 'eventsource-parser', 'undici']));
    const rows = new Map([...notices.matchAll(/^\| (\S+) \| (\S+) \| ([^|]+) \|$/gm)].filter((m) => m[1] !== 'package').map((m) => [m[1]!, m[2]!]));
    expect([...rows.keys()].sort()).toEqual([...bundled.keys()].sort());
    for (const [name, dir] of bundled) {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
      expect(rows.get(name), name).toBe(pkg.version);
    }
  });

  it('carries each package\'s own licence file, verbatim', () => {
    for (const [name, dir] of bundled) {
      const licence = readdirSync(dir).find((f) => /^licen[cs]e(\.(md|txt))?$/i.test(f));
      if (licence === undefined) {
        // Some packages (@redis/client) declare their licence in package.json only: the notice says so.
        const declared = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { license?: string }).license;
        expect(declared, `${name} declares a licence`).toBeTruthy();
        expect(notices, name).toContain(`## ${name} `);
        expect(notices).toContain(`(The package ships no licence file; its package.json declares ${declared}.)`);
        continue;
      }
      const text = readFileSync(join(dir, licence!), 'utf8').trim();
      const section = notices.slice(notices.indexOf(`## ${name} `));
      expect(section.slice(0, section.indexOf('\n---') === -1 ? undefined : section.indexOf('\n---')), name).toContain(text);
    }
  });
});
