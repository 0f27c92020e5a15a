/**
 * deploy/Dockerfile and .dockerignore, without a Docker engine: the image's HEALTHCHECK command,
 * taken from the Dockerfile as written, run with node against a real `ezrouter-mcp http` on a
 * port set by EZROUTER_HTTP_PORT (it must follow the variable, with the image's default), and
 * the build context's exclusions (nothing local or secret in it, nothing the build needs left out).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { DEFAULT_HTTP_PORT } from '../src/transports/http/http-config.js';
import { waitFor } from './harness.js';
import { freePort } from './support/redis-server.js';

const ROOT = join(import.meta.dirname, '..');
const DOCKERFILE = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');

/** The script of `HEALTHCHECK ... CMD node -e "<script>"`. */
function healthcheckScript(): string {
  const line = DOCKERFILE.split('\n').find((l) => l.startsWith('HEALTHCHECK '));
  const script = line && /CMD node -e "(.*)"$/.exec(line)?.[1];
  if (!script) throw new Error('deploy/Dockerfile has no HEALTHCHECK ... CMD node -e "..." line');
  return script;
}

function runCheck(env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', healthcheckScript()], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 10_000 }, (error) =>
      resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
    );
  });
}

describe('deploy/Dockerfile: the HEALTHCHECK follows EZROUTER_HTTP_PORT', () => {
  let emulator: Emulator;
  let server: ChildProcess;
  let port: number;

  beforeAll(async () => {
    emulator = await startEmulator();
    port = await freePort();
    server = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'http'], {
      env: { PATH: process.env['PATH'], EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url, EZROUTER_HTTP_AUTH: 'none', EZROUTER_HTTP_HOST: '127.0.0.1', EZROUTER_HTTP_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    await waitFor(() => (/listening on/.test(stderr) ? true : undefined), 10_000);
  }, 20_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await emulator?.close();
  });

  it('the image sets the variable to the default port and exposes it', () => {
    expect(DOCKERFILE).toMatch(new RegExp(`EZROUTER_HTTP_PORT=${DEFAULT_HTTP_PORT}\\b`));
    expect(DOCKERFILE).toMatch(new RegExp(`^EXPOSE ${DEFAULT_HTTP_PORT}$`, 'm'));
    expect(healthcheckScript()).not.toContain(`:${DEFAULT_HTTP_PORT}/`); // no port written into the URL
  });

  it('passes against the server on the configured port, fails where no server listens', async () => {
    expect(await runCheck({ EZROUTER_HTTP_PORT: String(port) })).toBe(0);
    expect(await runCheck({ EZROUTER_HTTP_PORT: String(await freePort()) })).toBe(1);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps local builds, the git history and secrets out of the build context', () => {
    expect(patterns).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'coverage', '*.mcpb', '*.tgz', 'deploy/tokens*.json', '.env']));
  });

  it('keeps everything the image build needs (npm ci, npm run build, npm pack)', () => {
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'scripts', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
      expect(patterns.filter((p) => p === needed || p === `${needed}/` || p === '*' || p === '**'), needed).toEqual([]);
    }
  });
});
