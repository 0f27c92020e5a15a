/**
 * Which proxy, if any, an upstream request to a URL goes through. Mirrors the rules of undici's
 * EnvHttpProxyAgent (what `createDispatcher` uses): https targets use HTTPS_PROXY, else
 * HTTP_PROXY; http targets use HTTP_PROXY; NO_PROXY `*` disables proxies; a NO_PROXY entry
 * matches the host itself or any subdomain (a leading `.` or `*.` is ignored), optionally with a
 * `:port`. There is no implicit exception for localhost or IP ranges.
 */
import type { ProxyConfig } from '../../config.js';

export type ProxyRoute =
  | { kind: 'direct'; reason: 'no-proxy-set' }
  | { kind: 'direct'; reason: 'no-proxy-match'; entry: string }
  | { kind: 'proxy'; proxy: string; variable: 'HTTPS_PROXY' | 'HTTP_PROXY' };

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

export function proxyRoute(target: string, proxy: ProxyConfig): ProxyRoute {
  const url = new URL(target);
  const chosen =
    url.protocol === 'https:'
      ? proxy.httpsProxy !== undefined
        ? { proxy: proxy.httpsProxy, variable: 'HTTPS_PROXY' as const }
        : proxy.httpProxy !== undefined
          ? { proxy: proxy.httpProxy, variable: 'HTTP_PROXY' as const }
          : undefined
      : proxy.httpProxy !== undefined
        ? { proxy: proxy.httpProxy, variable: 'HTTP_PROXY' as const }
        : undefined;
  if (!chosen) return { kind: 'direct', reason: 'no-proxy-set' };
  const host = url.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
  const entry = noProxyMatch(host, port, proxy.noProxy ?? '');
  if (entry !== undefined) return { kind: 'direct', reason: 'no-proxy-match', entry };
  return { kind: 'proxy', ...chosen };
}

function noProxyMatch(host: string, port: number, noProxy: string): string | undefined {
  if (noProxy.trim() === '*') return '*';
  for (const raw of noProxy.split(/[,\s]/)) {
    if (!raw) continue;
    const withPort = /^(.+):(\d+)$/.exec(raw);
    const entryHost = (withPort?.[1] ?? raw).replace(/^\*?\./, '').toLowerCase();
    const entryPort = withPort?.[2] ? Number.parseInt(withPort[2], 10) : 0;
    if (entryPort && entryPort !== port) continue;
    if (host === entryHost || host.endsWith(`.${entryHost}`)) return raw;
  }
  return undefined;
}

/** A proxy URL fit to print: the password (and a user name that looks like a token) masked. */
export function showProxy(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    else if (url.username) url.username = '***';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(not a valid URL)';
  }
}

/** One line for the doctor report, e.g. `via proxy http://proxy:8080 (HTTPS_PROXY)`. */
export function describeRoute(route: ProxyRoute): string {
  if (route.kind === 'proxy') return `via proxy ${showProxy(route.proxy)} (${route.variable})`;
  if (route.reason === 'no-proxy-match') return `direct (NO_PROXY entry "${route.entry}" matches)`;
  return 'direct (no proxy configured)';
}
