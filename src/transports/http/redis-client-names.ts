/**
 * The client names of ClientNames, shared through Redis (one key per principal, kept a day after
 * its last initialize): a principal's call gets its client's limits on every replica, not only
 * on the one that saw the initialize. This process's own map answers when Redis cannot.
 */
import type { RedisConnection } from '../../store/redis-connection.js';
import { ClientNames, type ClientNameRegistry } from './client-names.js';

/** How long a remembered name outlives the principal's last initialize. */
const NAME_TTL_MS = 24 * 60 * 60 * 1000;

export class RedisClientNames implements ClientNameRegistry {
  private readonly local = new ClientNames();

  constructor(private readonly redis: RedisConnection) {}

  private key(principal: string): string {
    return `${this.redis.prefix}client-name:${Buffer.from(principal).toString('base64url')}`;
  }

  async resolve(principal: string, sent: string | undefined): Promise<string | undefined> {
    if (sent !== undefined) {
      this.local.remember(principal, sent);
      // Best effort: a replica that cannot write it still serves this request with the name sent.
      await this.redis.run((r) => r.sendCommand(['SET', this.key(principal), sent, 'PX', String(NAME_TTL_MS)])).catch(() => {});
      return sent;
    }
    try {
      const shared = await this.redis.run((r) => r.sendCommand(['GET', this.key(principal)]));
      if (typeof shared === 'string') {
        this.local.remember(principal, shared);
        return shared;
      }
    } catch {
      // Redis down: what this process saw.
    }
    return this.local.get(principal);
  }
}
