/**
 * Per-principal limits in Redis, so they hold across replicas: the same token bucket as
 * InMemoryLimits (one minute's worth, refilled continuously) and in-flight slots as leases
 * (a sorted set of slot ids scored by when the lease ends), so the slots of a replica that died
 * free themselves after `leaseMs`. One Lua script per admission, on Redis's own clock: replicas
 * with skewed clocks agree. A refusal takes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../../store/redis-connection.js';
import type { Admission, Limits, LimitsOptions } from './limits.js';

/**
 * KEYS: bucket (hash tokens/at), slots (zset). ARGV: rate per minute (0 = none), max in flight,
 * slot id ('' = no slot), lease ms. Returns {1} admitted, {0, 'rate'|'in_flight', retry s}.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, max, slot, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
if slot ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
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
    const slotId = slot ? randomUUID() : '';
    const answer = (await this.redis.run((r) =>
      r.sendCommand(['EVAL', ACQUIRE, '2', bucket, slots, String(this.options.ratePerMinute), String(this.options.maxInFlight), slotId, String(this.options.leaseMs)]),
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
