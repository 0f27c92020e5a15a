/**
 * The answer store in Redis, shared by replicas: a link produced by one replica is read through
 * any other. Same contract as MemoryAnswerStore: each answer expires ttlMs after it was stored
 * (Redis PX), and the answers together hold at most maxChars characters: past it the oldest are
 * evicted first (an answer larger than the whole store is still kept, alone). Put and eviction
 * are one Lua script, so replicas storing at once keep the count right.
 */
import { newAnswerId, type AnswerStore, type StoredAnswer } from './answer-store.js';
import type { RedisConnection } from './redis-connection.js';

export interface RedisAnswerStoreOptions {
  maxChars: number;
  ttlMs: number;
}

/**
 * KEYS: answer key prefix, index (zset id → stored at), sizes (hash id → chars), total (counter).
 * ARGV: id, JSON, ttl ms, chars, now ms, max chars.
 */
const PUT = `
local prefix, index, sizes, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, json, ttl, chars, now, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SET', prefix .. id, json, 'PX', ttl)
redis.call('ZADD', index, now, id)
redis.call('HSET', sizes, id, chars)
local held = redis.call('INCRBY', total, chars)
local function drop(victim)
  local size = tonumber(redis.call('HGET', sizes, victim) or '0')
  redis.call('DEL', prefix .. victim)
  redis.call('ZREM', index, victim)
  redis.call('HDEL', sizes, victim)
  held = redis.call('DECRBY', total, size)
end
for _, victim in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now - ttl)) do drop(victim) end
while held > max do
  local oldest = redis.call('ZRANGE', index, 0, 1)
  local victim = oldest[1]
  if victim == id then victim = oldest[2] end
  if not victim then break end
  drop(victim)
end
return held
`;

export class RedisAnswerStore implements AnswerStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisAnswerStoreOptions,
  ) {}

  private key(name: string): string {
    return `${this.redis.prefix}answers:${name}`;
  }

  async put(answer: Omit<StoredAnswer, 'createdAt'>): Promise<string> {
    const id = newAnswerId();
    const now = Date.now();
    const json = JSON.stringify({ text: answer.text, model: answer.model, createdAt: now });
    await this.redis.run((r) =>
      r.sendCommand(['EVAL', PUT, '4', this.key('id:'), this.key('index'), this.key('sizes'), this.key('chars'), id, json, String(this.options.ttlMs), String(answer.text.length), String(now), String(this.options.maxChars)]),
    );
    return id;
  }

  async get(id: string): Promise<StoredAnswer | undefined> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return undefined;
    const json = await this.redis.run((r) => r.sendCommand(['GET', this.key(`id:${id}`)]));
    if (typeof json !== 'string') return undefined;
    const parsed = JSON.parse(json) as StoredAnswer;
    return { text: parsed.text, model: parsed.model, createdAt: parsed.createdAt };
  }
}
