/**
 * `npm run bench:install`: the first launch a new user meets, `npx -y <package>` on an empty npm
 * cache, for ezrouter-mcp and two peers (@perplexity-ai/mcp-server,
 * @stabgan/openrouter-mcp-multimodal), served by a local registry on loopback. Prints packages
 * installed, bytes on disk, bytes fetched and the time to the `initialize` (and `tools/list`)
 * answer, with ratios to each peer, all measured in one run; writes bench/install-results.json.
 * Also measured: the same tarball repacked to declare the four runtime libraries as optional
 * peerDependencies (the design not taken for the library entry: npm fetches peers' metadata on
 * every install). See BENCHMARKS.md.
 *
 * How:
 * 1. verdaccio 6.8.0 (bench/install/verdaccio: its package.json pins node-fetch 2.7.0, without
 *    which it does not install; 6.10 needs Node 22) is installed with `npm ci` into
 *    node_modules/.cache/ezrouter-mcp-bench/, once, not into the project.
 * 2. The packed tarball of this build (`npm pack`) and the peers' tarballs (`npm pack <name>`
 *    from the configured registry) are published to verdaccio on 127.0.0.1.
 * 3. Priming: verdaccio runs with the configured registry as its uplink, and one untimed
 *    `npx -y` launch of each package makes it fetch and keep every dependency.
 * 4. Verdaccio is restarted with no uplink: from here on everything comes from loopback (checked:
 *    a package that was never primed is a 404). Each timed launch gets a new, empty npm cache
 *    and HOME; the packages run in turns, `--runs` rounds (default 3); medians are reported.
 *    One more launch per package on the cache its last run left is the warm start.
 *
 * Options: --runs=N  --keep (keep the temp folder)  --timeout-ms=N (per launch, default 180000)
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT, coldStart } from './lib/mcp.js';
import { median, round } from './lib/stats.js';
import { freePort } from '../test/support/redis-server.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const RUNS = Number(option('runs') ?? 3);
const LAUNCH_TIMEOUT_MS = Number(option('timeout-ms') ?? 180_000);
const KEEP = args.includes('--keep');

interface Contender {
  /** The package name (and display name). */
  name: string;
  /** What is given to `npx -y` (default: the name). */
  spec?: string;
  label?: string;
  /** Environment the server needs to start (dummy keys: no upstream call is made). */
  env: Record<string, string>;
  tarball?: string;
  version?: string;
  skipped?: string;
}

const OURS_ENV = { EZROUTER_API_KEY: 'sk-bench-not-a-key', EZROUTER_LOG_LEVEL: 'silent' };
/** The design not taken: the same tarball declaring the four runtime libraries as optional peers. */
const PEERS_VARIANT = 'optional-peers';
const CONTENDERS: Contender[] = [
  { name: 'ezrouter-mcp', env: OURS_ENV },
  { name: 'ezrouter-mcp', label: 'ezrouter-mcp, variant: optional peerDependencies', env: OURS_ENV },
  { name: '@perplexity-ai/mcp-server', env: { PERPLEXITY_API_KEY: 'pplx-bench-not-a-key' } },
  { name: '@stabgan/openrouter-mcp-multimodal', env: { OPENROUTER_API_KEY: 'sk-or-bench-not-a-key' } },
];

interface Launch {
  initializeMs: number;
  toolsListMs: number;
  tools: number;
  strayLines: number;
  packages: number;
  diskBytes: number;
  fileBytes: number;
  cacheBytes: number;
}

function sh(command: string, argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, argv, { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 600_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${argv.join(' ')}: ${error.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}


/** Bytes of every file under a folder: apparent sizes, and blocks allocated on disk (what `du` counts). */
function sizeOf(dir: string): { fileBytes: number; diskBytes: number } {
  let fileBytes = 0;
  let diskBytes = 0;
  if (!existsSync(dir)) return { fileBytes, diskBytes };
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    diskBytes += stat.blocks * 512;
    if (stat.isDirectory()) {
      const inner = sizeOf(path);
      fileBytes += inner.fileBytes;
      diskBytes += inner.diskBytes;
    } else {
      fileBytes += stat.size;
    }
  }
  return { fileBytes, diskBytes };
}

/** Package folders under a node_modules tree, nested ones included. */
function countPackages(nodeModules: string): number {
  if (!existsSync(nodeModules)) return 0;
  let count = 0;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((n) => join(entry, n)) : [entry];
    for (const name of names) {
      if (!existsSync(join(nodeModules, name, 'package.json'))) continue;
      count += 1 + countPackages(join(nodeModules, name, 'node_modules'));
    }
  }
  return count;
}

// --- verdaccio --------------------------------------------------------------------------------

async function installVerdaccio(): Promise<string> {
  const source = join(ROOT, 'bench', 'install', 'verdaccio');
  const lock = readFileSync(join(source, 'package-lock.json'));
  const dir = join(ROOT, 'node_modules', '.cache', 'ezrouter-mcp-bench', `verdaccio-${createHash('sha256').update(lock).digest('hex').slice(0, 12)}`);
  const bin = join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  if (existsSync(join(dir, '.installed'))) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(source, file), join(dir, file));
  log(`installing verdaccio into ${dir} (once)`);
  await sh('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  writeFileSync(join(dir, '.installed'), '');
  return bin;
}

interface Registry {
  url: string;
  stop(): Promise<void>;
}

async function startRegistry(bin: string, work: string, port: number, uplink: string | undefined, local: string[]): Promise<Registry> {
  const quote = (s: string): string => JSON.stringify(s);
  const config = [
    `storage: ${quote(join(work, 'storage'))}`,
    `auth:\n  htpasswd:\n    file: ${quote(join(work, 'htpasswd'))}\n    max_users: -1`,
    uplink ? `uplinks:\n  upstream:\n    url: ${quote(uplink)}\n    timeout: 60s\n    max_fails: 20` : 'uplinks: {}',
    'packages:',
    // Our package and the peers are local only: what was published here, never the uplink's.
    ...local.map((name) => `  ${quote(name)}:\n    access: $all\n    publish: $all\n    unpublish: $all`),
    `  '**':\n    access: $all\n    publish: $all${uplink ? '\n    proxy: upstream' : ''}`,
    'server:\n  keepAliveTimeout: 60',
    'log: { type: stdout, format: pretty, level: error }',
    'security:\n  api:\n    legacy: true',
    '',
  ].join('\n');
  const file = join(work, uplink ? 'config-primed.yaml' : 'config-offline.yaml');
  writeFileSync(file, config);
  const child: ChildProcess = spawn(process.execPath, [bin, '--config', file, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VERDACCIO_STORAGE_PATH: join(work, 'storage') },
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}/`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited: ${output}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) throw new Error(`verdaccio did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

// --- launches ---------------------------------------------------------------------------------

/** The environment of one launch: a fresh npm cache and HOME, the local registry, nothing else. */
function launchEnv(home: string, registry: string, extra: Record<string, string>): Record<string, string> {
  const npmrc = join(home, '.npmrc');
  if (!existsSync(npmrc)) writeFileSync(npmrc, `registry=${registry}\n`);
  return {
    HOME: home,
    npm_config_userconfig: npmrc,
    npm_config_globalconfig: join(home, 'npmrc-global'),
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_registry: registry,
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_loglevel: 'error',
    ...extra,
  };
}

async function launch(contender: Contender, registry: string, home: string): Promise<Launch> {
  mkdirSync(home, { recursive: true });
  const cwd = join(home, 'cwd');
  mkdirSync(cwd, { recursive: true });
  const r = await coldStart(['-y', contender.spec ?? contender.name], launchEnv(home, registry, contender.env), { command: 'npx', cwd, timeoutMs: LAUNCH_TIMEOUT_MS });
  const npx = join(home, 'npm-cache', '_npx');
  const installs = existsSync(npx) ? readdirSync(npx).map((d) => join(npx, d, 'node_modules')) : [];
  const sizes = installs.map(sizeOf);
  return {
    ...r,
    packages: installs.reduce((n, dir) => n + countPackages(dir), 0),
    fileBytes: sizes.reduce((n, s) => n + s.fileBytes, 0),
    diskBytes: sizes.reduce((n, s) => n + s.diskBytes, 0),
    cacheBytes: sizeOf(join(home, 'npm-cache', '_cacache')).fileBytes,
  };
}

function slug(c: Contender): string {
  return `${c.name}${c.spec ? `-${PEERS_VARIANT}` : ''}`.replace(/[@/]/g, '_');
}

/**
 * Repacks our tarball as `<version>-optional-peers`, declaring the four runtime libraries as
 * optional peerDependencies (at the ranges we build with): what npm does with such a package.
 */
async function peersVariant(tarball: string, dir: string, out: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await sh('tar', ['-xzf', tarball, '-C', dir]);
  const file = join(dir, 'package', 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { version: string };
  const dev = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
  const names = ['@modelcontextprotocol/sdk', 'zod', 'eventsource-parser', 'undici'];
  pkg.version = `${pkg.version}-${PEERS_VARIANT}`;
  pkg['peerDependencies'] = Object.fromEntries(names.map((n) => [n, dev[n]]));
  pkg['peerDependenciesMeta'] = Object.fromEntries(names.map((n) => [n, { optional: true }]));
  writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  return sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: join(dir, 'package') });
}

function log(line: string): void {
  process.stderr.write(`bench:install: ${line}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const info = {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    memGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    npm: (await sh('npm', ['--version'])).trim(),
    platform: `${process.platform} ${process.arch}`,
  };
  console.log(`ezrouter-mcp bench:install · ${info.date} · ${info.nproc} × ${info.cpu} · node ${info.node} · npm ${info.npm} · ${RUNS} runs`);
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const upstream = (await sh('npm', ['config', 'get', 'registry'])).trim();
  const work = mkdtempSync(join(tmpdir(), 'ezrouter-bench-install-'));
  let registry: Registry | undefined;
  const stopAll = async (): Promise<void> => {
    await registry?.stop();
    registry = undefined;
    if (!KEEP) rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const bin = await installVerdaccio();

    // Tarballs: this build, and the peers as published.
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    for (const c of CONTENDERS) {
      try {
        const out = c.label?.includes('variant')
          ? await peersVariant(CONTENDERS[0]!.tarball!, join(work, 'variant'), tarballs)
          : c.name === 'ezrouter-mcp'
            ? await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tarballs], { cwd: ROOT })
            : await sh('npm', ['pack', '--json', '--pack-destination', tarballs, c.name], { cwd: work });
        const packed = (JSON.parse(out) as { filename: string; version: string }[])[0]!;
        c.tarball = join(tarballs, packed.filename);
        c.version = packed.version;
        if (c.version.endsWith(PEERS_VARIANT)) c.spec = `${c.name}@${c.version}`;
      } catch (error) {
        c.skipped = `could not be fetched with npm pack: ${(error as Error).message.split('\n')[0]}`;
        log(`${c.name} ${c.skipped}`);
      }
    }
    const present = CONTENDERS.filter((c) => !c.skipped);
    if (!present.some((c) => c.name === 'ezrouter-mcp')) throw new Error('the ezrouter-mcp tarball could not be made');
    const port = await freePort();

    // Prime: publish, then one launch of each through the uplink, so verdaccio keeps every dependency.
    const localNames = [...new Set(present.map((c) => c.name))];
    registry = await startRegistry(bin, work, port, upstream, localNames);
    log(`verdaccio on ${registry.url} (uplink ${upstream}): publishing ${present.map((c) => `${c.name}@${c.version}`).join(', ')}`);
    const publisher = join(work, 'publisher');
    mkdirSync(publisher);
    writeFileSync(join(publisher, '.npmrc'), `registry=${registry.url}\n//127.0.0.1:${port}/:_authToken=bench\n`);
    // The variant last, under a prerelease tag, so that `latest` stays the real build.
    for (const c of [...present].sort((a, b) => Number(a.version!.endsWith(PEERS_VARIANT)) - Number(b.version!.endsWith(PEERS_VARIANT)))) {
      const tag = c.version!.endsWith(PEERS_VARIANT) ? PEERS_VARIANT : 'latest';
      await sh('npm', ['publish', c.tarball!, '--registry', registry.url, '--userconfig', join(publisher, '.npmrc'), '--tag', tag, '--access', 'public', '--ignore-scripts', '--provenance=false'], { cwd: publisher });
    }
    for (const c of present) {
      log(`priming ${c.name} (untimed: verdaccio fetches its dependencies from the uplink)`);
      const r = await launch(c, registry.url, join(work, 'prime', slug(c)));
      if (r.tools < 1) throw new Error(`${c.name}: tools/list returned no tools`);
    }
    await registry.stop();

    // Offline from here: no uplink.
    registry = await startRegistry(bin, work, port, undefined, localNames);
    const probe = await fetch(`${registry.url}left-pad`);
    if (probe.status !== 404) throw new Error(`the offline registry answered ${probe.status} for a package it never fetched: it is not offline`);
    log(`verdaccio restarted on ${registry.url} with no uplink (a package never primed is a 404)`);

    const samples = new Map<Contender, Launch[]>(present.map((c) => [c, []]));
    for (let round_ = 1; round_ <= RUNS; round_++) {
      for (const c of present) {
        const r = await launch(c, registry.url, join(work, 'runs', `${round_}-${slug(c)}`));
        samples.get(c)!.push(r);
        log(`run ${round_}/${RUNS} ${c.label ?? c.name}: initialize ${round(r.initializeMs)} ms, ${r.packages} packages, ${round(r.diskBytes / 1024 / 1024, 1)} MiB`);
      }
    }
    const warm = new Map<Contender, Launch>();
    for (const c of present) warm.set(c, await launch(c, registry.url, join(work, 'runs', `${RUNS}-${slug(c)}`)));

    // Report.
    const summary = present.map((c) => {
      const s = samples.get(c)!;
      const m = (k: keyof Launch): number => median(s.map((x) => x[k]));
      return {
        name: c.label ?? c.name,
        version: c.version!,
        initializeMs: m('initializeMs'),
        toolsListMs: m('toolsListMs'),
        warmInitializeMs: warm.get(c)!.initializeMs,
        packages: m('packages'),
        diskBytes: m('diskBytes'),
        fileBytes: m('fileBytes'),
        cacheBytes: m('cacheBytes'),
        tarballBytes: lstatSync(c.tarball!).size,
        strayLines: Math.max(...s.map((x) => x.strayLines)),
        samples: s,
      };
    });
    const ours = summary[0]!;
    const mib = (b: number): string => `${round(b / 1024 / 1024, 2)} MiB`;
    const lines = [
      '',
      `| package | packages installed | on disk (du) | files | fetched (npm cache) | cold npx → initialize | → tools/list | warm npx → initialize |`,
      `|---|---:|---:|---:|---:|---:|---:|---:|`,
      ...summary.map(
        (s) =>
          `| ${s.name} ${s.version} | ${s.packages} | ${mib(s.diskBytes)} | ${mib(s.fileBytes)} | ${mib(s.cacheBytes)} | ${round(s.initializeMs)} ms | ${round(s.toolsListMs)} ms | ${round(s.warmInitializeMs)} ms |`,
      ),
      '',
      '| ezrouter-mcp vs | packages | on disk | fetched | cold → initialize | warm → initialize |',
      '|---|---:|---:|---:|---:|---:|',
      ...summary
        .filter((s) => s !== ours)
        .map(
          (s) =>
            `| ${s.name} | ${round(ours.packages / s.packages, 3)}× | ${round(ours.diskBytes / s.diskBytes, 3)}× | ${round(ours.cacheBytes / s.cacheBytes, 3)}× | ${round(ours.initializeMs / s.initializeMs, 3)}× | ${round(ours.warmInitializeMs / s.warmInitializeMs, 3)}× |`,
        ),
    ];
    for (const c of CONTENDERS.filter((x) => x.skipped)) lines.push('', `${c.label ?? c.name}: not measured, ${c.skipped}`);
    for (const s of summary.filter((x) => x.strayLines > 0)) lines.push('', `${s.name} printed ${s.strayLines} non-JSON-RPC line(s) on stdout.`);
    const seconds = round((performance.now() - started) / 1000, 1);
    console.log(lines.join('\n'));
    console.log(`\n(medians of ${RUNS} cold launches each, empty npm cache and HOME per launch, registry on loopback; ${seconds} s)`);
    writeFileSync(new URL('./install-results.json', import.meta.url), `${JSON.stringify({ machine: info, runs: RUNS, seconds, upstream: 'the configured npm registry (priming only)', summary, skipped: CONTENDERS.filter((c) => c.skipped) }, null, 2)}\n`);
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
