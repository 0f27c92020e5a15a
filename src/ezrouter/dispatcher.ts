/**
 * The undici dispatcher every upstream call shares: keep-alive sockets, bounded per origin,
 * proxy-aware (HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the config). Importing this module loads
 * undici; the server does so only when its first upstream call needs it (see lazyDispatcher).
 */
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { Config } from '../config.js';

/** Sockets per origin: enough for many parallel calls, bounded so a burst cannot exhaust the host. */
export const MAX_SOCKETS_PER_ORIGIN = 64;
const MAX_CONNECT_TIMEOUT_MS = 10_000;

export type DispatcherConfig = Pick<Config, 'proxy' | 'idleTimeoutMs'>;

export interface DispatcherOptions {
  maxSocketsPerOrigin?: number;
}

export function createDispatcher(config: DispatcherConfig, options: DispatcherOptions = {}): Dispatcher {
  return new EnvHttpProxyAgent({
    httpProxy: config.proxy.httpProxy,
    httpsProxy: config.proxy.httpsProxy,
    noProxy: config.proxy.noProxy,
    connections: options.maxSocketsPerOrigin ?? MAX_SOCKETS_PER_ORIGIN,
    keepAliveTimeout: 30_000,
    connect: { timeout: Math.min(config.idleTimeoutMs, MAX_CONNECT_TIMEOUT_MS) },
  });
}
