/**
 * One connection to the Redis that replicas share (EZROUTER_REDIS_URL), for the HTTP mode's
 * answer store, task store and limits. The `@redis/client` package (node-redis's core, the client Redis itself
 * maintains) is imported here only, with import(): the stdio server never loads it.
 *
 * Commands never wait for a connection: with the offline queue off, a command while Redis is
 * unreachable fails at once, and `run` turns any failure into `store_unavailable`. The client
 * reconnects by itself (backoff up to RECONNECT_MAX_MS), so the service recovers without a restart.
 */
import { EzrouterError } from '../ezrouter/errors.js';
import type { Logger } from '../log.js';

const RECONNECT_MAX_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
/** A reconnect loop logs its error once per this interval, not once per attempt. */
const LOG_EVERY_MS = 10_000;

/** The few commands the stores use (node-redis's raw command API keeps us off its typed surface). */
export interface RedisCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

interface NodeRedisClient extends RedisCommands {
  isReady: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  duplicate(): NodeRedisClient;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  destroy(): void;
}

export function storeUnavailable(cause?: unknown): EzrouterError {
  return new EzrouterError({ code: 'store_unavailable', message: 'The shared store (Redis) cannot be reached right now', cause });
}

export class RedisConnection {
  private constructor(
    private readonly client: NodeRedisClient,
    private readonly subscriber: NodeRedisClient,
    readonly prefix: string,
  ) {}

  /** Connects in the background (a Redis that is down at start-up is not fatal: calls get store_unavailable until it is up). */
  static async open(url: string, log: Logger, prefix = 'ezrouter-mcp:'): Promise<RedisConnection> {
    const mod = (await import('@redis/client')) as unknown as { createClient?: unknown; default?: { createClient?: unknown } };
    const createClient = (mod.createClient ?? mod.default?.createClient) as (options: unknown) => NodeRedisClient;
    let lastLog = 0;
    const make = (role: string, queueWhileOffline: boolean): NodeRedisClient => {
      const client = createClient({
        url,
        disableOfflineQueue: !queueWhileOffline,
        socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), RECONNECT_MAX_MS) },
      });
      client.on('error', (error) => {
        const now = Date.now();
        if (now - lastLog < LOG_EVERY_MS) return;
        lastLog = now;
        // The URL may carry a password: only the error's code and message are logged.
        const e = error as { code?: string; message?: string };
        log.warn(`the shared store (Redis, ${role}) is unreachable; reconnecting`, { code: e.code ?? 'error' });
      });
      client.on('ready', () => log.info(`the shared store (Redis, ${role}) is connected`));
      client.connect().catch(() => {});
      return client;
    };
    // The subscriber queues its SUBSCRIBE until connected; commands never queue.
    return new RedisConnection(make('commands', false), make('cancellations', true), prefix);
  }

  /** Whether commands can be sent now (readiness). */
  get ready(): boolean {
    return this.client.isReady;
  }

  /** Calls `listener` each time the command connection becomes ready (at start and after every reconnect). */
  onReady(listener: () => void): void {
    this.client.on('ready', listener);
  }

  /** Runs commands against Redis; any failure (down, timeout, refused) is store_unavailable. */
  async run<T>(work: (redis: RedisCommands) => Promise<T>): Promise<T> {
    if (!this.client.isReady) throw storeUnavailable();
    try {
      return await work(this.client);
    } catch (error) {
      throw storeUnavailable(error);
    }
  }

  /** Listens on a channel (re-subscribed by the client after each reconnect). */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    await this.subscriber.subscribe(this.prefix + channel, listener);
  }

  publish(channel: string, message: string): Promise<unknown> {
    return this.run((r) => r.sendCommand(['PUBLISH', this.prefix + channel, message]));
  }

  close(): void {
    this.client.destroy();
    this.subscriber.destroy();
  }
}
