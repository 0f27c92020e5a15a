/**
 * Corporate networks: HTTPS_PROXY / HTTP_PROXY / NO_PROXY through undici's EnvHttpProxyAgent (a
 * tiny CONNECT + forward proxy on loopback sees the traffic), and a gateway behind a private
 * certificate authority: works with NODE_EXTRA_CA_CERTS, fails with a network_error naming TLS
 * without it. NODE_EXTRA_CA_CERTS is read when Node starts, so these tests spawn the built server.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../src/commands/doctor/doctor.js';
import { proxyRoute, showProxy } from '../src/commands/doctor/proxy-route.js';
import { defaultReply, startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';

const BIN = join(import.meta.dirname, '..', 'dist', 'cli.js');
const HAS_OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Pki {
  dir: string;
  caFile: string;
  key: string;
  cert: string;
}

/** A throwaway CA and a leaf certificate for 127.0.0.1 / localhost signed by it. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'ezrouter-pki-'));
  const at = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', '-new', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=ezrouter-mcp test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', '-new', ...ec, '-keyout', at('leaf.key'), '-out', at('leaf.csr'), '-subj', '/CN=localhost');
  writeFileSync(
    at('leaf.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  ssl('x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('leaf.pem'), '-days', '2',
    '-extfile', at('leaf.ext'));
  return { dir, caFile: at('ca.pem'), key: readFileSync(at('leaf.key'), 'utf8'), cert: readFileSync(at('leaf.pem'), 'utf8') };
}

interface Proxy {
  url: string;
  /** `CONNECT host:port` tunnels and absolute-form `GET http://...` requests, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** A minimal HTTP proxy: CONNECT tunnels (what undici uses) and absolute-form forwarding. */
async function startProxy(): Promise<Proxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers: req.headers },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = netConnect(Number(port), host ?? '', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let pki: Pki | undefined;
let emulator: Emulator | undefined;
let proxy: Proxy | undefined;
let client: Client | undefined;

beforeAll(() => {
  if (HAS_OPENSSL) pki = makePki();
});
afterAll(() => {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  await emulator?.close();
  emulator = undefined;
  await proxy?.close();
  proxy = undefined;
});

async function httpsEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  if (!pki) throw new Error('no openssl');
  emulator = await startEmulator({ ...options, tls: { key: pki.key, cert: pki.cert } });
  return emulator;
}

/** Spawns the built server with exactly this environment (nothing inherited but PATH/HOME) and connects. */
async function spawnServer(env: Record<string, string>): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: { EZROUTER_MAX_RETRIES: '0', EZROUTER_IDLE_TIMEOUT_MS: '3000', EZROUTER_LOG_LEVEL: 'debug', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  client = new Client({ name: 'proxy-tls-test', version: '0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

async function complete(c: Client, model = 'gpt-5.2'): Promise<CallToolResult> {
  return (await c.callTool({ name: 'complete', arguments: { prompt: 'through the corporate network', model } })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  const block = result.content[0];
  return block?.type === 'text' ? block.text : '';
}

function errorCode(result: CallToolResult): string | undefined {
  return (result._meta as { error?: { code: string } } | undefined)?.error?.code;
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!HAS_OPENSSL)('a gateway behind a private certificate authority', () => {
  it('works when the server is started with NODE_EXTRA_CA_CERTS', async () => {
    const emu = await httpsEmulator();
    expect(emu.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { client: c } = await spawnServer({ EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, NODE_EXTRA_CA_CERTS: pki!.caFile });
    const result = await complete(c, 'claude-haiku-4-5');
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe(defaultReply('claude-haiku-4-5', 'through the corporate network'));
  });

  it('fails with a network_error naming TLS and NODE_EXTRA_CA_CERTS without it', async () => {
    const emu = await httpsEmulator();
    const { client: c, stderr } = await spawnServer({ EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url });
    const result = await complete(c);
    expect(result.isError).toBe(true);
    expect(errorCode(result)).toBe('network_error');
    expect(textOf(result)).toMatch(new RegExp(`^TLS verification failed for ${emu.url.replace(/\./g, '\\.')} \\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|DEPTH_ZERO_SELF_SIGNED_CERT)\\)`));
    expect(textOf(result)).toContain('NODE_EXTRA_CA_CERTS');
    expect(textOf(result)).toMatch(/\(ezrouter error: network_error\)$/);
    expect(emu.requests).toHaveLength(0); // the handshake failed: no HTTP request arrived
    expect(stderr()).not.toContain(emu.apiKey);
  });

  it('doctor names the TLS failure without the CA, and reports the extra CAs with it', async () => {
    const emu = await httpsEmulator();
    const base = { EZROUTER_API_KEY: emu.apiKey, EZROUTER_BASE_URL: emu.url, EZROUTER_MAX_RETRIES: '0' };
    const without = await runCli(['doctor'], base);
    expect(without.code).toBe(1);
    expect(without.stdout).toMatch(/\[FAIL\] gateway +TLS verification failed for https:\/\/127\.0\.0\.1:\d+/);
    expect(without.stdout).toContain('NODE_EXTRA_CA_CERTS is not set');
    const withCa = await runCli(['doctor'], { ...base, NODE_EXTRA_CA_CERTS: pki!.caFile });
    expect(withCa.code).toBe(0);
    expect(withCa.stdout).toContain(`TLS certificate verified (extra CAs from NODE_EXTRA_CA_CERTS=${pki!.caFile}), direct (no proxy configured)`);
  });

  it('reaches an HTTPS gateway through HTTPS_PROXY with a CONNECT tunnel (TLS end to end)', async () => {
    const emu = await httpsEmulator();
    proxy = await startProxy();
    const { client: c } = await spawnServer({
      EZROUTER_API_KEY: emu.apiKey,
      EZROUTER_BASE_URL: emu.url,
      NODE_EXTRA_CA_CERTS: pki!.caFile,
      HTTPS_PROXY: proxy.url,
    });
    const result = await complete(c);
    expect(result.isError).toBeFalsy();
    expect(proxy.seen[0]).toBe(`CONNECT ${new URL(emu.url).host}`);
    expect(emu.count('/v1/chat/completions')).toBe(1);
  });
});

describe('proxies', () => {
  it('HTTP_PROXY carries requests to an http:// gateway (undici tunnels with CONNECT)', async () => {
    emulator = await startEmulator();
    proxy = await startProxy();
    const { client: c } = await spawnServer({ EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url, HTTP_PROXY: proxy.url });
    const result = await complete(c);
    expect(result.isError).toBeFalsy();
    const host = new URL(emulator.url).host;
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((line) => line === `CONNECT ${host}` || line.startsWith(`POST http://${host}/`))).toBe(true);
  });

  it('NO_PROXY exempts a host: the proxy sees nothing, the call still works', async () => {
    emulator = await startEmulator();
    proxy = await startProxy();
    const { client: c } = await spawnServer({
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      NO_PROXY: 'localhost,127.0.0.1',
    });
    expect((await complete(c)).isError).toBeFalsy();
    expect(proxy.seen).toEqual([]);
  });

  it('a proxy that is down gives a network_error pointing at the proxy settings', async () => {
    emulator = await startEmulator();
    const dead = createNetServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const { port } = dead.address() as { port: number };
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const { client: c } = await spawnServer({
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      HTTP_PROXY: `http://127.0.0.1:${port}`,
    });
    const result = await complete(c);
    expect(errorCode(result)).toBe('network_error');
    expect(textOf(result)).toMatch(/check the network, EZROUTER_BASE_URL and any proxy settings/);
    expect(emulator.requests).toHaveLength(0);
  });

  it('doctor shows the proxy in use (credentials masked) and every check goes through it', async () => {
    emulator = await startEmulator();
    proxy = await startProxy();
    const proxyWithAuth = proxy.url.replace('http://', 'http://alice:s3cret-pass@');
    let out = '';
    const code = await runDoctor({
      env: { EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url, HTTP_PROXY: proxyWithAuth },
      write: (text) => (out += text),
    });
    expect(code).toBe(0);
    expect(out).toContain(`via proxy http://alice:***@${new URL(proxy.url).host} (HTTP_PROXY)`);
    expect(out).not.toContain('s3cret-pass');
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(emulator.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/models', '/v1/user/balance']);

    out = '';
    await runDoctor({
      env: { EZROUTER_API_KEY: emulator.apiKey, EZROUTER_BASE_URL: emulator.url, HTTP_PROXY: proxy.url, NO_PROXY: '.0.0.1' },
      write: (text) => (out += text),
    });
    expect(out).toContain('direct (NO_PROXY entry ".0.0.1" matches)');
  });
});

describe('proxyRoute mirrors EnvHttpProxyAgent', () => {
  const none = { httpProxy: undefined, httpsProxy: undefined, noProxy: undefined };
  it('https uses HTTPS_PROXY, else HTTP_PROXY; http uses HTTP_PROXY only', () => {
    expect(proxyRoute('https://gw.example/v1', { ...none, httpsProxy: 'http://s', httpProxy: 'http://p' })).toEqual({ kind: 'proxy', proxy: 'http://s', variable: 'HTTPS_PROXY' });
    expect(proxyRoute('https://gw.example/v1', { ...none, httpProxy: 'http://p' })).toEqual({ kind: 'proxy', proxy: 'http://p', variable: 'HTTP_PROXY' });
    expect(proxyRoute('http://gw.example/v1', { ...none, httpsProxy: 'http://s' })).toEqual({ kind: 'direct', reason: 'no-proxy-set' });
    expect(proxyRoute('http://gw.example/v1', none)).toEqual({ kind: 'direct', reason: 'no-proxy-set' });
  });

  it('NO_PROXY: *, exact host, subdomains (with or without a leading dot), ports', () => {
    const via = (noProxy: string, url = 'https://api.ezrouter.dev/v1') => proxyRoute(url, { ...none, httpsProxy: 'http://p', noProxy }).kind;
    expect(via('*')).toBe('direct');
    expect(via('api.ezrouter.dev')).toBe('direct');
    expect(via('ezrouter.dev')).toBe('direct');
    expect(via('.ezrouter.dev')).toBe('direct');
    expect(via('*.ezrouter.dev')).toBe('direct');
    expect(via('rezrouter.dev')).toBe('proxy');
    expect(via('ezrouter.dev:443')).toBe('direct');
    expect(via('ezrouter.dev:8443')).toBe('proxy');
    expect(via('other.example, ezrouter.dev')).toBe('direct');
    expect(via('localhost', 'http://127.0.0.1:9/v1')).toBe('direct'); // no proxy for http at all here
    expect(proxyRoute('http://127.0.0.1:9', { ...none, httpProxy: 'http://p', noProxy: 'localhost' }).kind).toBe('proxy'); // no implicit loopback exception
  });

  it('showProxy masks credentials', () => {
    expect(showProxy('http://user:pw@proxy.corp:8080')).toBe('http://user:***@proxy.corp:8080');
    expect(showProxy('http://tokenonly@proxy.corp:8080/')).toBe('http://***@proxy.corp:8080');
    expect(showProxy('not a url')).toBe('(not a valid URL)');
  });
});
