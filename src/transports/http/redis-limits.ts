/**
 * Per-principal limits in Redis, so they hold across replicas: the same token bucket as
 * InMemoryLimits (one minute's worth, refilled continuously) and in-flight slots as leases
 * (a sorted set of slot ids scored by when the lease ends), so the slots of a replica that died
 * free themselves after `leaseMs`. With the replica's lease (replica-lease.ts) a slot id names
 * its replica, and a principal at its limit first drops the slots of replicas whose lease has
 * expired: a crashed replica's calls stop counting after EZROUTER_REDIS_LEASE_MS, not after the
 * call deadline. One Lua script per admission, on Redis's own clock: replicas with skewed clocks
 * agree. A refusal takes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../../store/redis-connection.js';
import type { ReplicaLease } from '../../tasks/replica-lease.js';
import type { Admission, Limits, LimitsOptions } from './limits.js';

/**
 * KEYS: bucket (hash tokens/at), slots (zset). ARGV: rate per minute (0 = none), max in flight,
 * slot id ('' = no slot; '<owner>:<id>' with a replica lease), lease ms, replica lease key prefix
 * ('' = none), this replica's owner id. Returns {1} admitted, {0, 'rate'|'in_flight', retry s}.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, max, slot, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
if slot ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= max and ARGV[5] ~= '' then
    for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
      local owner = string.match(member, '^([^:]+):')
      if owner and owner ~= ARGV[6] and redis.call('EXISTS', ARGV[5] .. owner) == 0 then redis.call('ZREM', KEYS[2], member) end
    end
  end
  if redis.call('ZCARD', KEYS[2]) >= max then return {0, 'in_flight', 1} end
end
if rate > 0 then
  local perMs = rate / 60000
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = rate
  if b[1] then tokens = math.min(rate, tonumber(b[1]) + (now - tonumber(b[2])) * perMs) end
  if tokens < 1 then return {0, 'rate', math.max(1, math.ceil((1 - tokens) / perMs / 1000))} end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', KEYS[1], 60000)
end
if slot ~= '' then
  redis.call('ZADD', KEYS[2], now + lease, slot)
  redis.call('PEXPIRE', KEYS[2], lease)
end
return {1}
`;

export interface RedisLimitsOptions extends LimitsOptions {
  /** How long a slot is held at most (a replica that died frees its slots after it). */
  leaseMs: number;
  /** This replica's lease: its slots are dropped as soon as the lease is gone (see the file comment). */
  replica?: Pick<ReplicaLease, 'owner' | 'keyPrefix'> | undefined;
}

export class RedisLimits implements Limits {
  constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisLimitsOptions,
  ) {}

  async acquire(principal: string, { slot }: { slot: boolean }): Promise<Admission> {
    const name = Buffer.from(principal).toString('base64url');
    const bucket = `${this.redis.prefix}limits:rate:${name}`;
    const slots = `${this.redis.prefix}limits:slots:${name}`;
    const { replica } = this.options;
    const slotId = !slot ? '' : replica ? `${replica.owner}:${randomUUID()}` : randomUUID();
    const answer = (await this.redis.run((r) =>
      r.sendCommand([
        'EVAL',
        ACQUIRE,
        '2',
        bucket,
        slots,
        String(this.options.ratePerMinute),
        String(this.options.maxInFlight),
        slotId,
        String(this.options.leaseMs),
        replica?.keyPrefix() ?? '',
        replica?.owner ?? '',
      ]),
    )) as [number, string?, number?];
    if (answer[0] !== 1) return { admitted: false, limit: answer[1] === 'rate' ? 'rate' : 'in_flight', retryAfterSeconds: Number(answer[2] ?? 1) };
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released || !slot) return;
        released = true;
        // A release that cannot reach Redis is given up: the lease ends by itself.
        void this.redis.run((r) => r.sendCommand(['ZREM', slots, slotId])).catch(() => {});
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
