#!/usr/bin/env node
/**
 * `npm run bundle:mcpb` (after `npm run build`): the Claude Desktop extension,
 * `ezrouter-mcp-<version>.mcpb`, made with the official tooling (@anthropic-ai/mcpb).
 *
 * 1. Stages only what runs: dist/cli.js and the chunks the stdio server can load (the bundled
 *    command: no node_modules needed), a package.json reduced to what Node and the server read
 *    (name, version, "type"), LICENSE, THIRD_PARTY_NOTICES.md and assets/icon.png. The chunks are
 *    the closure computed from the build's metafile (dist/bundle-meta.json, scripts/bundle-graph.mjs):
 *    cli.js with its static imports, plus the stdio transport's chunk with everything it imports,
 *    statically or lazily. Claude Desktop only ever runs `node dist/cli.js` (mcp_config below), the
 *    stdio server, so the chunks of `doctor`, `config` and the HTTP mode (its Redis client, JWT
 *    library and server) are left out; those commands are for the npm package.
 * 2. Starts the staged server and asks it `tools/list` through the SDK client: the manifest's
 *    tools (names, descriptions; titles under _meta, which the manifest's tool entries have no
 *    field for) are the code's own, so they never drift.
 * 3. Writes manifest.json: the long description (its tool list, too, from tools/list), the node server and its mcp_config (`node ${__dirname}/dist/cli.js`),
 *    user_config (the API key as a required, sensitive string, which Claude Desktop keeps in the
 *    OS keychain; base URL, default model and call timeout optional, with the server's own
 *    defaults) mapped to the server's environment, compatibility (platforms, node from
 *    package.json engines) and the icon.
 * 4. `mcpb validate`, then `mcpb pack` into the output folder.
 *
 *   node scripts/build-mcpb.mjs [--out-dir=DIR]   (default: the repository root)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stdioFiles } from './bundle-graph.mjs';
import { bundledPackages, noticesText } from './notices.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const MCPB = join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', 'dist', 'cli', 'cli.js');
/** Our key under the manifest's `_meta` (reverse-DNS, as in server.json). */
export const META_KEY = PKG.mcpName;

const outDir = resolve(process.argv.find((a) => a.startsWith('--out-dir='))?.slice(10) ?? ROOT);

function fail(message) {
  process.stderr.write(`bundle:mcpb: ${message}\n`);
  process.exit(1);
}

function mcpb(args, cwd = ROOT) {
  return execFileSync(process.execPath, [MCPB, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function toolsOf(stage) {
  // No key: the server starts and lists its tools without one (every call would say missing_api_key).
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(stage, 'dist', 'cli.js')],
    env: { PATH: process.env.PATH ?? '', EZROUTER_LOG_LEVEL: 'warn' },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'ezrouter-mcp-bundle-mcpb', version: PKG.version });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
  }
}

/**
 * The manifest's long description, its tool list built from `tools/list` (names and titles), so a
 * tool added to the server cannot be missing from it.
 */
function longDescription(tools) {
  const list = tools.map((t) => `\`${t.name}\` (${lowerFirst(t.title ?? t.name)})`);
  return (
    'Ask any model on the ezrouter LLM gateway (Claude, GPT, DeepSeek, GLM, Kimi, Gemini…) from Claude, and get the whole answer back with token usage, with progress while it streams. ' +
    `Tools: ${list.join(', ')}. ` +
    "One ezrouter API key (it starts with sk-) covers every model; Claude Desktop keeps it in your operating system's keychain."
  );
}

const lowerFirst = (text) => text.charAt(0).toLowerCase() + text.slice(1);

async function main() {
  for (const file of ['dist/cli.js', 'dist/bundle-meta.json', 'THIRD_PARTY_NOTICES.md', 'assets/icon.png', 'LICENSE']) {
    if (!existsSync(join(ROOT, file))) fail(`${file} is missing: run \`npm run build\` first (or \`npm run bundle:mcpb\`, which does)`);
  }
  const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle-meta.json'), 'utf8'));
  const stage = mkdtempSync(join(tmpdir(), 'ezrouter-mcpb-'));
  try {
    const files = stdioFiles(meta.cli, meta.entry, meta.stdio);
    mkdirSync(join(stage, 'dist', 'chunks'), { recursive: true });
    for (const file of files) cpSync(join(ROOT, file), join(stage, file));
    const all = Object.keys(meta.cli.outputs);
    const kib = (list) => Math.round(list.reduce((sum, f) => sum + meta.cli.outputs[f].bytes, 0) / 1024);
    process.stdout.write(`bundle:mcpb: staged ${files.length} of ${all.length} built files (${kib(files)} of ${kib(all)} KiB): what the stdio server can load\n`);
    cpSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
    // The notices of what the extension ships: the packages whose code its files hold, no others.
    const shippedInputs = files.flatMap((file) => Object.keys(meta.cli.outputs[file]?.inputs ?? {}));
    const notices = noticesText(bundledPackages(ROOT, shippedInputs), [
      `The ${PKG.name} ${PKG.version} extension for Claude Desktop bundles the code of the packages below into`,
      '`dist/cli.js` and `dist/chunks/` (the stdio server: the HTTP mode and its libraries are not in it).',
      'Each is listed with its version and licence, followed by the licence text it ships. Generated by',
      '`scripts/build-mcpb.mjs` from node_modules at build time.',
    ]);
    writeFileSync(join(stage, 'THIRD_PARTY_NOTICES.md'), notices);
    cpSync(join(ROOT, 'assets', 'icon.png'), join(stage, 'icon.png'));
    // What Node ("type": "module" for dist/*.js) and the server (its name and version) read.
    const runtimePkg = { name: PKG.name, version: PKG.version, description: PKG.description, license: PKG.license, type: 'module', engines: PKG.engines };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(runtimePkg, null, 2)}\n`);

    const tools = await toolsOf(stage);
    if (tools.length === 0) fail('the staged server listed no tools');
    const { loadConfig } = await import(pathToFileURL(join(ROOT, 'dist', 'config.js')).href);
    const defaults = loadConfig({});
    const repo = PKG.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

    const manifest = {
      manifest_version: '0.3',
      name: PKG.name,
      display_name: 'ezrouter',
      version: PKG.version,
      description: PKG.description,
      long_description: longDescription(tools),
      author: { name: 'ezrouter', url: 'https://www.ezrouter.dev' },
      repository: { type: 'git', url: repo },
      homepage: repo,
      documentation: `${repo}#readme`,
      support: `${repo}/issues`,
      icon: 'icon.png',
      server: {
        type: 'node',
        entry_point: 'dist/cli.js',
        mcp_config: {
          command: 'node',
          args: ['${__dirname}/dist/cli.js'],
          env: {
            EZROUTER_API_KEY: '${user_config.api_key}',
            EZROUTER_BASE_URL: '${user_config.base_url}',
            EZROUTER_DEFAULT_MODEL: '${user_config.default_model}',
            EZROUTER_TIMEOUT_MS: '${user_config.timeout_ms}',
          },
        },
      },
      tools: tools.map((t) => ({ name: t.name, description: t.description })),
      tools_generated: false,
      keywords: PKG.keywords,
      license: PKG.license,
      compatibility: {
        platforms: ['darwin', 'win32', 'linux'],
        runtimes: { node: PKG.engines.node },
      },
      user_config: {
        api_key: {
          type: 'string',
          title: 'ezrouter API key',
          description: 'Your key from the ezrouter dashboard (API keys page); it starts with sk-. Stored in the operating system keychain.',
          sensitive: true,
          required: true,
        },
        base_url: {
          type: 'string',
          title: 'Gateway URL',
          description: 'The ezrouter gateway root. Change it only for a self-hosted or regional gateway.',
          required: false,
          default: defaults.baseUrl,
        },
        default_model: {
          type: 'string',
          title: 'Default model',
          description: 'Model used when complete is called without one, e.g. claude-sonnet-4-6. Leave empty to always name the model.',
          required: false,
          default: '',
        },
        timeout_ms: {
          type: 'number',
          title: 'Call timeout (milliseconds)',
          description: 'Deadline for one whole complete call, retries included. Raise it for long answers.',
          required: false,
          default: defaults.timeoutMs,
          min: 1000,
          max: 3_600_000,
        },
      },
      _meta: {
        [META_KEY]: { tool_titles: Object.fromEntries(tools.map((t) => [t.name, t.title ?? t.name])) },
      },
    };
    writeFileSync(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    process.stdout.write(mcpb(['validate', join(stage, 'manifest.json')]));
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, `${PKG.name}-${PKG.version}.mcpb`);
    rmSync(out, { force: true });
    process.stdout.write(mcpb(['pack', stage, out], stage)); // from the stage, so it lists the files by their own paths
    const bytes = readFileSync(out);
    process.stdout.write(
      `bundle:mcpb: ${out} (${Math.round(statSync(out).size / 1024)} KiB, sha256 ${createHash('sha256').update(bytes).digest('hex')}); tools: ${tools.map((t) => t.name).join(', ')}\n`,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

main().catch((error) => fail(error instanceof Error ? error.stack ?? error.message : String(error)));
