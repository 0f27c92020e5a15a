/**
 * `ezrouter-mcp doctor --http <url>`: checks a running `ezrouter-mcp http` endpoint the way a
 * client meets it: /healthz, /readyz, that /mcp refuses a request without credentials, then an
 * MCP session with the bearer token from EZROUTER_HTTP_TOKEN (tools/list, list_models). Same
 * report and exit statuses as the doctor; the token never appears (every line is redacted).
 */
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Env } from '../../config.js';
import { createRedactor } from '../../redact.js';
import { VERSION } from '../../version.js';
import { EXIT_OK, EXIT_PROBLEM, formatMs, renderCheck, type CheckResult } from './report.js';

export const TOKEN_VARIABLE = 'EZROUTER_HTTP_TOKEN';
const STEP_TIMEOUT_MS = 15_000;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface HttpCheckOptions {
  url: string;
  env: Env;
  write: (text: string) => void;
  /** Per step; tests shorten it. */
  timeoutMs?: number;
}

export async function runHttpCheck(options: HttpCheckOptions): Promise<number> {
  const now = (): number => performance.now();
  const started = now();
  const token = options.env[TOKEN_VARIABLE]?.trim() || undefined;
  const redactToken = createRedactor(token);
  const redactKey = createRedactor(options.env['EZROUTER_API_KEY']?.trim());
  const write = (text: string): void => options.write(redactKey(redactToken(text)));
  const timeoutMs = options.timeoutMs ?? STEP_TIMEOUT_MS;
  const endpoint = new URL(options.url);
  // /healthz and /readyz sit beside /mcp (under the same prefix behind a proxy).
  const prefix = endpoint.pathname.replace(/\/mcp\/?$/, '').replace(/\/+$/, '');
  const beside = (path: string): string => new URL(`${prefix}${path}`, endpoint).toString();

  write(`ezrouter-mcp doctor ${VERSION} --http (node ${process.version}, ${process.platform} ${process.arch})\n\n`);
  const checks: CheckResult[] = [];
  const report = (check: CheckResult): CheckResult => {
    checks.push(check);
    write(renderCheck(check));
    return check;
  };

  const health = report(await probe('health', beside('/healthz'), endpoint, timeoutMs, now));
  if (health.status === 'fail') {
    for (const title of ['readiness', 'auth', 'MCP session']) report({ title, status: 'skip', summary: 'skipped: the endpoint is unreachable' });
  } else {
    report(await probe('readiness', beside('/readyz'), endpoint, timeoutMs, now));
    const auth = report(await checkRefusesAnonymous(endpoint, timeoutMs, now));
    if (auth.status === 'fail' && auth.summary.startsWith('403')) {
      report({ title: 'MCP session', status: 'skip', summary: 'skipped: the server refuses this Host or Origin' });
    } else if (token === undefined && auth.status === 'ok') {
      report({ title: 'MCP session', status: 'skip', summary: `skipped: set ${TOKEN_VARIABLE} to the bearer token (your ezrouter key for a byok endpoint) to check a session` });
    } else {
      report(await checkSession(endpoint, token, timeoutMs, now));
    }
  }

  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  const skipped = checks.some((c) => c.status === 'skip');
  const total = `total ${formatMs(now() - started)}`;
  if (failed > 0) {
    write(`\nVerdict: NOT READY - ${failed} check${failed === 1 ? '' : 's'} failed: fix the [FAIL] lines above (${total}).\n`);
    return EXIT_PROBLEM;
  }
  const caveat = warned > 0 ? `, with ${warned} warning${warned === 1 ? '' : 's'}` : '';
  const scope = skipped ? 'the endpoint is up and refuses anonymous requests (no session checked)' : 'the endpoint serves MCP with this token';
  write(`\nVerdict: READY${caveat} - ${scope} (${total}).\n`);
  return EXIT_OK;
}

/** GET /healthz or /readyz: 200 with a JSON status; the transport (TLS or not) on the first one. */
async function probe(title: string, url: string, endpoint: URL, timeoutMs: number, now: () => number): Promise<CheckResult> {
  const start = now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const text = await res.text().catch(() => '');
    const status = jsonField(text, 'status', 40);
    const ms = now() - start;
    const details = title === 'health' ? [transportLine(endpoint)] : [];
    const plainRemote = endpoint.protocol === 'http:' && !LOOPBACK.has(endpoint.hostname);
    if (res.status === 200) {
      return { title, status: plainRemote ? 'warn' : 'ok', summary: `${new URL(url).pathname} answered ${status ?? 'HTTP 200'}`, details, ms };
    }
    const reason = jsonField(text, 'reason', 60);
    return {
      title,
      status: 'fail',
      summary: `${new URL(url).pathname} answered HTTP ${res.status}${status ? ` (${status}${reason ? `: ${reason}` : ''})` : ''}`,
      details: title === 'readiness' ? ['the server cannot reach the ezrouter gateway: run `ezrouter-mcp doctor` where the server runs, with its environment', ...details] : details,
      ms,
    };
  } catch (error) {
    return { title, status: 'fail', summary: `no answer from ${url}: ${describe(error)}`, details: ['is the server running, and is the URL the one it listens on (see its "listening on" log line)?'], ms: now() - start };
  }
}

/** An initialize without credentials must get 401 with `WWW-Authenticate: Bearer`. */
async function checkRefusesAnonymous(endpoint: URL, timeoutMs: number, now: () => number): Promise<CheckResult> {
  const start = now();
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'ezrouter-mcp-doctor', version: VERSION } } }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await res.body?.cancel().catch(() => {});
    const ms = now() - start;
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (res.status === 401) {
      return /^Bearer\b/i.test(challenge)
        ? { title: 'auth', status: 'ok', summary: 'refuses a request without credentials (401, WWW-Authenticate: Bearer)', ms }
        : { title: 'auth', status: 'warn', summary: `401 without a "WWW-Authenticate: Bearer" header (got ${JSON.stringify(challenge.slice(0, 60))})`, ms };
    }
    if (res.status === 403) {
      return {
        title: 'auth',
        status: 'fail',
        summary: `403: the server does not answer requests for Host ${endpoint.host}`,
        details: [`add ${endpoint.hostname} to the server's EZROUTER_HTTP_ALLOWED_HOSTS (behind a proxy: the Host the proxy forwards)`],
        ms,
      };
    }
    if (res.ok) {
      return { title: 'auth', status: 'warn', summary: `accepts requests without credentials (HTTP ${res.status}): EZROUTER_HTTP_AUTH=none, fine on loopback only`, ms };
    }
    return { title: 'auth', status: 'fail', summary: `unexpected HTTP ${res.status} from ${endpoint.pathname}`, details: ['is this URL the MCP endpoint (it ends in /mcp)?'], ms };
  } catch (error) {
    return { title: 'auth', status: 'fail', summary: `POST ${endpoint.pathname} failed: ${describe(error)}`, ms: now() - start };
  }
}

/** A whole MCP session with the token: initialize, tools/list, list_models. */
async function checkSession(endpoint: URL, token: string | undefined, timeoutMs: number, now: () => number): Promise<CheckResult> {
  const start = now();
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers } });
  const client = new Client({ name: 'ezrouter-mcp-doctor', version: VERSION });
  try {
    await client.connect(transport, { timeout: timeoutMs });
    const tools = await client.listTools(undefined, { timeout: timeoutMs });
    const names = tools.tools.map((t) => t.name).sort();
    const models = await client.callTool({ name: 'list_models', arguments: {} }, undefined, { timeout: timeoutMs });
    // The catalog may be fetched with the server's key; the balance is always this principal's: it checks the key.
    const balance = await client.callTool({ name: 'get_balance', arguments: {} }, undefined, { timeout: timeoutMs });
    const ms = now() - start;
    const failure = [['list_models', models], ['get_balance', balance]].find(([, r]) => (r as typeof models).isError && errorCode(r as typeof models) !== 'not_supported');
    if (failure) {
      const [tool, result] = failure as [string, typeof models];
      const code = errorCode(result);
      return {
        title: 'MCP session',
        status: 'fail',
        summary: `${names.length} tools, but ${tool} failed (ezrouter error: ${code})`,
        details: [code === 'invalid_api_key' || code === 'missing_api_key' ? 'the ezrouter key behind this token is missing or refused: check the tokens file (or, for byok, the key itself)' : 'run `ezrouter-mcp doctor` where the server runs, with its environment'],
        ms,
      };
    }
    const count = (models.structuredContent as { count?: number } | undefined)?.count ?? '?';
    const key = balance.isError ? 'no balance endpoint to check the key with' : 'the key behind it works (get_balance)';
    return { title: 'MCP session', status: 'ok', summary: `${names.length} tools (${names.join(', ')}); list_models: ${count} models; ${key}`, ms };
  } catch (error) {
    const ms = now() - start;
    if (error instanceof StreamableHTTPError && error.code === 401) {
      return {
        title: 'MCP session',
        status: 'fail',
        summary: token === undefined ? `401: the endpoint needs a bearer token: set ${TOKEN_VARIABLE}` : `401: the token in ${TOKEN_VARIABLE} is refused`,
        ms,
      };
    }
    return { title: 'MCP session', status: 'fail', summary: `the MCP session failed: ${describe(error)}`, ms };
  } finally {
    await client.close().catch(() => {});
  }
}

function errorCode(result: { _meta?: unknown }): string {
  return (result._meta as { error?: { code?: string } } | undefined)?.error?.code ?? 'unknown';
}

function transportLine(endpoint: URL): string {
  if (endpoint.protocol === 'https:') return 'TLS certificate verified';
  return LOOPBACK.has(endpoint.hostname) ? 'plain HTTP on loopback' : 'plain HTTP beyond this machine: tokens and keys travel unencrypted; put TLS in front';
}

/** A short string field of a JSON body (the probes' `status` and `reason`), if there is one. */
function jsonField(text: string, name: string, max: number): string | undefined {
  try {
    const value = (JSON.parse(text) as Record<string, unknown>)[name];
    return typeof value === 'string' ? value.slice(0, max) : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return (cause?.code ?? cause?.message ?? error.message).slice(0, 200);
  }
  return String(error).slice(0, 200);
}
