#!/usr/bin/env node
/**
 * `npm run bundle` (the second half of `npm run build`, after tsc): turns the compiled tree into
 * what the package ships.
 *
 * 1. The command, `dist/cli.js` + `dist/chunks/`: src/cli.ts with every runtime library bundled
 *    in (@modelcontextprotocol/sdk, zod, eventsource-parser, undici, and whatever later modes
 *    add), so that `npx -y ezrouter-mcp` installs one package. Code-split: a module reached only
 *    through `import()` lands in a chunk loaded when that import runs (the server, doctor, setup;
 *    undici on the first upstream call; the HTTP mode's Redis client and JWT library).
 * 2. The library, `dist/server.js` (+ `dist/lib/`): src/server.ts (createServer) bundled with our
 *    own modules only; its imports of the runtime libraries stay bare, resolved from the
 *    embedder's own node_modules: an embedder's server is built on the embedder's SDK.
 * 3. THIRD_PARTY_NOTICES.md: name, version, licence and the licence text of every package whose
 *    code is in the bundle, read from node_modules (the bundle's own list of inputs).
 *
 * Then it checks what must stay true, and fails the build otherwise:
 * - the stdio server's start-up (cli.js and the stdio transport's chunk, with everything they
 *   import statically) contains none of LAZY_ONLY: those load only when a call needs them;
 * - the package has no dependencies; every bare import left in the library is one of the four
 *   runtime libraries (RUNTIME_LIBRARIES); the command has none;
 * - every bundled package has a licence (a file, or at least an SPDX id in its package.json).
 *
 * Writes dist/bundle-meta.json (not shipped): the esbuild metafiles, for the tests.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundledPackages, inputPath as inputPathFrom, noticesText, packageOf as packageOfFrom } from './notices.mjs';
import { staticClosure } from './bundle-graph.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Packages that the stdio server must not load before a call needs them. */
const LAZY_ONLY = ['undici', 'jose', 'redis', '@redis/client', 'ioredis'];
/**
 * The libraries the library entry imports from the embedder's node_modules (README, "Embedding").
 * Not declared as peerDependencies, even optional ones: npm fetches the metadata of every peer
 * (and of their peers) on each install, `npx -y ezrouter-mcp` included (BENCHMARKS.md).
 */
const RUNTIME_LIBRARIES = ['@modelcontextprotocol/sdk', 'zod', 'eventsource-parser', 'undici'];
/** The module that starts the stdio server (src/transports/stdio.ts). */
const STDIO_ENTRY = /(^|\/)stdio\.ts$/;

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  legalComments: 'none', // the licences are in THIRD_PARTY_NOTICES.md
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: ROOT,
};

function fail(message) {
  process.stderr.write(`bundle: ${message}\n`);
  process.exit(1);
}

/**
 * `import('undici')` of a bundled CommonJS package yields only `default` (esbuild gives a
 * dynamically imported CommonJS chunk a default export; Node itself would also offer the named
 * exports it detects). So a lazily loaded CommonJS package is imported through a small ES module
 * that names its exports: `export const { request, Agent, ... } = module.exports`, the names read
 * from the package itself here (for a module compiled with __esModule, from its namespace). ES-module packages (jose) need no such wrapper.
 */
const cjsNamedExports = {
  name: 'cjs-named-exports',
  setup(b) {
    const requireHere = createRequire(join(ROOT, 'package.json'));
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.inner || args.importer.includes('/node_modules/') || !LAZY_ONLY.includes(args.path)) return undefined;
      let names;
      try {
        names = Object.keys(requireHere(args.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
      } catch {
        return undefined; // an ES module (require() refuses it): bundled as is
      }
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { inner: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'cjs-named-exports', pluginData: { names } };
    });
    b.onLoad({ filter: /.*/, namespace: 'cjs-named-exports' }, (args) => ({
      // A CommonJS module compiled from ES modules (__esModule set: @redis/client) has no default:
      // its namespace holds the exports; otherwise (undici) the default is module.exports.
      contents: `import * as ns from ${JSON.stringify(args.path)};\nconst m = ns.__esModule ? ns : (ns.default ?? ns);\nexport default m;\nexport const { ${args.pluginData.names.join(', ')} } = m;\n`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

const inputPath = (input) => inputPathFrom(ROOT, input);
const packageOf = (input) => packageOfFrom(ROOT, input);

// --- 1. The command -------------------------------------------------------------------------
for (const dir of ['chunks', 'lib']) rmSync(join(ROOT, 'dist', dir), { recursive: true, force: true });
const cli = await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [cjsNamedExports],
  // Bundled CommonJS (undici, ajv) calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

const outputs = Object.keys(cli.metafile.outputs);
const entry = outputs.find((o) => cli.metafile.outputs[o].entryPoint === 'src/cli.ts');
const stdio = outputs.find((o) => STDIO_ENTRY.test(cli.metafile.outputs[o].entryPoint ?? ''));
if (!entry || !stdio) fail(`cannot find the outputs of src/cli.ts and of the stdio transport among ${outputs.join(', ')}`);
const startup = new Set([...staticClosure(cli.metafile, entry), ...staticClosure(cli.metafile, stdio)]);
for (const file of startup) {
  for (const input of Object.keys(cli.metafile.outputs[file].inputs)) {
    const name = packageOf(input);
    if (name && LAZY_ONLY.includes(name)) fail(`${name} is loaded when the stdio server starts (${input} in ${file}); import it with import() where it is used`);
  }
}
/**
 * Bare imports a bundled library may leave: Node's built-ins without `node:` (the Redis client
 * writes `net`), and optional packages it imports only for a feature we never call, failing
 * cleanly when absent (@redis/client's `digest` helper, behind import('@node-rs/xxhash')).
 */
const OPTIONAL_UNUSED = ['@node-rs/xxhash'];
const allowedExternal = (path) => path.startsWith('node:') || builtinModules.includes(path) || OPTIONAL_UNUSED.includes(path);
for (const o of outputs) {
  const external = cli.metafile.outputs[o].imports.filter((i) => i.external && !allowedExternal(i.path));
  if (external.length > 0) fail(`${o} imports ${external.map((i) => i.path).join(', ')} from outside the bundle`);
}

// --- 2. The library -------------------------------------------------------------------------
// Split too, so that undici stays behind its import() here as well (dist/lib/ holds the chunks).
const lib = await build({
  ...common,
  entryPoints: ['src/server.ts'],
  outdir: 'dist',
  splitting: true,
  chunkNames: 'lib/[name]-[hash]',
  packages: 'external',
});
for (const name of RUNTIME_LIBRARIES) {
  if (!PKG.devDependencies?.[name]) fail(`${name} is missing from devDependencies (the build bundles it from there)`);
}
if (Object.keys(PKG.dependencies ?? {}).length > 0) fail('package.json has dependencies: the command bundles what it needs, so `npx -y ezrouter-mcp` installs one package');
for (const [file, output] of Object.entries(lib.metafile.outputs)) {
  for (const edge of output.imports) {
    if (!edge.external || edge.path.startsWith('node:')) continue;
    const name = edge.path.startsWith('@') ? edge.path.split('/').slice(0, 2).join('/') : edge.path.split('/')[0];
    if (!RUNTIME_LIBRARIES.includes(name)) fail(`${file} imports ${edge.path}, which is not one of the runtime libraries the README asks embedders to install`);
  }
}

// --- 3. Notices -----------------------------------------------------------------------------
let sorted;
try {
  sorted = bundledPackages(ROOT, Object.keys(cli.metafile.inputs));
} catch (error) {
  fail(error.message);
}
const intro = [
  `${PKG.name} ${PKG.version} bundles the code of the packages below into \`dist/cli.js\` and`,
  '`dist/chunks/` (the library entry, `dist/server.js`, bundles none of them: it imports the',
  "consumer's own copies). Each is listed with its version and licence, followed by the licence text",
  'it ships. Generated by `scripts/bundle.mjs` from node_modules at build time.',
];
writeFileSync(join(ROOT, 'THIRD_PARTY_NOTICES.md'), noticesText(sorted, intro));

writeFileSync(
  join(ROOT, 'dist', 'bundle-meta.json'),
  `${JSON.stringify({ lazyOnly: LAZY_ONLY, entry, stdio, startup: [...startup].sort(), cli: cli.metafile, lib: lib.metafile }, null, 1)}\n`,
);
const size = (files) => files.reduce((sum, f) => sum + cli.metafile.outputs[f].bytes, 0);
process.stderr.write(
  `bundle: dist/cli.js + ${outputs.length - 1} chunks (${Math.round(size(outputs) / 1024)} KiB; ${Math.round(size([...startup]) / 1024)} KiB at stdio start-up), ` +
    `dist/server.js + dist/lib/ (${Math.round(Object.values(lib.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0) / 1024)} KiB), THIRD_PARTY_NOTICES.md (${sorted.length} packages)\n`,
);
