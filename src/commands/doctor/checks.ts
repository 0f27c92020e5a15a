/**
 * The doctor's checks, each a function returning a CheckResult. They use the server's own
 * upstream pieces (the undici dispatcher, HttpClient's error wording, EzrouterClient), so what
 * the doctor sees is what the server will see.
 */
import { request, type Dispatcher } from 'undici';
import type { Config, Env } from '../../config.js';
import { CallScope } from '../../ezrouter/call-scope.js';
import { suggestModels, type CatalogSnapshot } from '../../ezrouter/catalog.js';
import { MODELS_PATH, type EzrouterClient } from '../../ezrouter/client.js';
import { classifyTransportError, EzrouterError } from '../../ezrouter/errors.js';
import { discardBody, headerValue, REQUEST_ID_HEADER } from '../../ezrouter/http.js';
import { cleanUpstreamMessage, maskKey, type Redactor } from '../../redact.js';
import { USER_AGENT } from '../../version.js';
import { describeRoute, proxyRoute } from './proxy-route.js';
import type { CheckResult } from './report.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Statuses an unauthenticated GET /v1/models gets from a real gateway. */
const EXPECTED_PROBE_STATUSES = new Set([200, 401, 403]);
const MAX_SHOWN_JSON = 200;

/** Key present and plausible, values in range, what the server will use. */
export function checkConfiguration(config: Readonly<Config>): CheckResult {
  const details = [
    `timeout ${config.timeoutMs} ms per call, idle timeout ${config.idleTimeoutMs} ms, ${config.maxRetries} retries`,
    `default model: ${config.defaultModel ?? 'none (complete calls must name a model)'}`,
  ];
  const gateway = `gateway ${config.baseUrl}`;
  if (!config.apiKey) {
    return {
      title: 'configuration',
      status: 'fail',
      summary: `EZROUTER_API_KEY is not set; ${gateway}`,
      details: [
        'Put the key in the "env" block of your MCP client\'s configuration (see `ezrouter-mcp config <client>`),',
        'and in this shell to run the doctor: EZROUTER_API_KEY=sk-... ezrouter-mcp doctor',
        ...details,
      ],
      ms: 0,
    };
  }
  const problems = keyProblems(config.apiKey);
  const url = new URL(config.baseUrl);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    problems.push(`EZROUTER_BASE_URL uses plain http:// to ${url.hostname}: the key travels unencrypted; use https://.`);
  }
  return {
    title: 'configuration',
    status: problems.length > 0 ? 'warn' : 'ok',
    summary: `key ${maskKey(config.apiKey)}, ${gateway}`,
    details: [...problems, ...details],
    ms: 0,
  };
}

/** Common copy-paste mistakes that make a key fail with invalid_api_key. */
function keyProblems(key: string): string[] {
  const problems: string[] = [];
  if (/^bearer\s/i.test(key)) problems.push('EZROUTER_API_KEY starts with "Bearer ": give the key alone.');
  else if (/^["']|["']$/.test(key)) problems.push('EZROUTER_API_KEY includes quote characters: remove them.');
  else if (/\s/.test(key)) problems.push('EZROUTER_API_KEY contains whitespace: it was probably pasted with a line break.');
  else if (!key.startsWith('sk-')) problems.push('EZROUTER_API_KEY does not look like an ezrouter key (they start with "sk-").');
  return problems;
}

export interface GatewayCheckContext {
  config: Readonly<Config>;
  env: Env;
  dispatcher: Dispatcher;
  redact: Redactor;
  now: () => number;
}

/**
 * One unauthenticated GET {base}/v1/models through the server's dispatcher: any HTTP answer
 * proves DNS, TCP, the proxy and TLS work. No retries: the doctor reports the first failure.
 */
export async function checkGateway(ctx: GatewayCheckContext): Promise<CheckResult> {
  const { config, env } = ctx;
  const url = config.baseUrl + MODELS_PATH;
  const route = describeRoute(proxyRoute(url, config.proxy));
  const secure = url.startsWith('https:');
  const extraCa = env['NODE_EXTRA_CA_CERTS']?.trim();
  const tlsOff = secure && env['NODE_TLS_REJECT_UNAUTHORIZED'] === '0';
  const scope = new CallScope(config.timeoutMs);
  const started = ctx.now();
  try {
    const res = await request(url, {
      method: 'GET',
      headers: { 'user-agent': USER_AGENT, accept: 'application/json' },
      dispatcher: ctx.dispatcher,
      signal: scope.signal,
      headersTimeout: config.idleTimeoutMs,
      bodyTimeout: config.idleTimeoutMs,
    });
    discardBody(res.body);
    const ms = ctx.now() - started;
    const tls = !secure
      ? 'plain HTTP (no TLS)'
      : tlsOff
        ? 'TLS certificate NOT verified'
        : `TLS certificate verified${extraCa ? ` (extra CAs from NODE_EXTRA_CA_CERTS=${extraCa})` : ''}`;
    const details = [`${tls}, ${route}`];
    const requestId = headerValue(res.headers[REQUEST_ID_HEADER]);
    if (requestId) details.push(`request id: ${requestId}`);
    if (tlsOff) {
      details.unshift('NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off: remove it, and point NODE_EXTRA_CA_CERTS at your CA instead.');
    }
    const expected = EXPECTED_PROBE_STATUSES.has(res.statusCode);
    if (!expected) {
      details.unshift(`An ezrouter gateway answers 401 or 200 here: check EZROUTER_BASE_URL is the gateway root (e.g. https://www.ezrouter.dev).`);
    }
    return {
      title: 'gateway',
      status: expected && !tlsOff ? 'ok' : 'warn',
      summary: `${config.baseUrl} answered (HTTP ${res.statusCode} to an unauthenticated GET ${MODELS_PATH})`,
      details,
      ms,
    };
  } catch (error) {
    const ms = ctx.now() - started;
    // The same classification and wording the server gives (TLS, refused, timeouts).
    const failure = classifyTransportError(error, {
      scopeEnd: scope.reason,
      timeoutMs: scope.timeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      baseUrl: config.baseUrl,
      path: MODELS_PATH,
    });
    const details = [route];
    if (secure && !extraCa) details.push('NODE_EXTRA_CA_CERTS is not set (needed only for a private or TLS-inspecting CA).');
    if (secure && extraCa) details.push(`extra CAs from NODE_EXTRA_CA_CERTS=${extraCa}`);
    return { title: 'gateway', status: 'fail', summary: ctx.redact(failure.message), details, ms };
  } finally {
    scope.dispose();
  }
}

/** GET /v1/models with the key: 200 means the key works (and gives the catalog). */
export async function checkKey(
  client: EzrouterClient,
  redact: Redactor,
  now: () => number,
): Promise<{ result: CheckResult; snapshot?: CatalogSnapshot }> {
  const started = now();
  try {
    const snapshot = await client.models({ refresh: true });
    return {
      result: { title: 'API key', status: 'ok', summary: `accepted by GET ${MODELS_PATH}`, ms: now() - started },
      snapshot,
    };
  } catch (error) {
    return { result: failed('API key', error, redact, now() - started) };
  }
}

/** The catalog from the key check: its size, the Anthropic-capable share, the default model. */
export function checkCatalog(snapshot: CatalogSnapshot, config: Readonly<Config>): CheckResult {
  const { models } = snapshot;
  const anthropic = models.filter((m) => m.surfaces.includes('anthropic')).length;
  const sample = models.slice(0, 6).map((m) => m.id);
  const details = sample.length > 0 ? [`e.g. ${sample.join(', ')}${models.length > sample.length ? ', ...' : ''}`] : [];
  let status: CheckResult['status'] = models.length > 0 ? 'ok' : 'warn';
  if (models.length === 0) details.push('The gateway lists no models: complete cannot be used until it does.');
  const wanted = config.defaultModel;
  if (wanted && models.length > 0) {
    if (models.some((m) => m.id === wanted)) {
      details.push(`default model ${wanted} is in the catalog`);
    } else {
      status = 'warn';
      details.push(`EZROUTER_DEFAULT_MODEL "${wanted}" is not in the catalog; closest: ${suggestModels(wanted, models).join(', ')}.`);
    }
  }
  return {
    title: 'model catalog',
    status,
    summary: `${models.length} model${models.length === 1 ? '' : 's'} (${anthropic} also on the Anthropic surface)`,
    details,
  };
}

/** GET /v1/user/balance: a missing endpoint or an unknown shape is a warning, not a failure. */
export async function checkBalance(client: EzrouterClient, redact: Redactor, now: () => number): Promise<CheckResult> {
  const started = now();
  try {
    const balance = await client.balance();
    const ms = now() - started;
    if (balance.balance === null) {
      return {
        title: 'balance',
        status: 'warn',
        summary: 'the gateway answered in a shape this server does not recognise',
        details: [`raw: ${redact(truncate(JSON.stringify(balance.raw) ?? 'null', MAX_SHOWN_JSON))}`],
        ms,
      };
    }
    const amount = `${balance.balance}${balance.currency ? ` ${balance.currency}` : ''}`;
    if (balance.balance <= 0) {
      return {
        title: 'balance',
        status: 'warn',
        summary: amount,
        details: ['Calls will fail with insufficient_balance: top up the account in the ezrouter dashboard.'],
        ms,
      };
    }
    return { title: 'balance', status: 'ok', summary: amount, ms };
  } catch (error) {
    const result = failed('balance', error, redact, now() - started);
    if (error instanceof EzrouterError && error.code === 'not_supported') result.status = 'warn';
    return result;
  }
}

/** A failed upstream call as a check: code and status first, then what to do and the request id. */
function failed(title: string, error: unknown, redact: Redactor, ms: number): CheckResult {
  if (!(error instanceof EzrouterError)) {
    return { title, status: 'fail', summary: redact(error instanceof Error ? error.message : String(error)), ms };
  }
  const details = [redact(error.message)];
  const said = cleanUpstreamMessage(error.upstreamMessage, redact);
  if (said) details.push(`ezrouter said: ${said}`);
  if (error.requestId) details.push(`request id: ${error.requestId}`);
  const upstream = error.upstreamCode && error.upstreamCode !== error.code ? `, ezrouter code ${error.upstreamCode}` : '';
  const status = error.status === undefined ? '' : ` (HTTP ${error.status}${upstream})`;
  return { title, status: 'fail', summary: `${error.code}${status}`, details, ms };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
