/**
 * The state every request's server shares: in memory (one replica), or in Redis when
 * EZROUTER_REDIS_URL is set (replicas share links, jobs, tasks and limits). The Redis modules
 * are loaded with import() only then, so neither stdio nor a single replica loads the client.
 */
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { MemoryAnswerStore, type AnswerStore } from '../../store/answer-store.js';
import { CompletionTaskStore, type CompletionTasks } from '../../tasks/task-store.js';
import type { HttpConfig } from './http-config.js';
import type { CancelRelay } from './cancellations.js';
import type { ClientNameRegistry } from './client-names.js';
import { InMemoryLimits, type Limits } from './limits.js';

export interface SharedState {
  answers: AnswerStore;
  tasks: CompletionTasks;
  limits: Limits;
  /** Undefined when the state is in memory; else whether the shared store is reachable now. */
  storeReady?: () => boolean;
  /** Undefined when the state is in memory; else carries cancels to the replica running the call. */
  cancelRelay?: CancelRelay;
  /** Undefined when the state is in memory (the app keeps its own); else shared by the replicas. */
  clientNames?: ClientNameRegistry;
  close(): Promise<void>;
}

/** A slot is held at most this long past the call deadline (a dead replica's slots free themselves). */
const LEASE_MARGIN_MS = 60_000;

export async function openSharedState(config: Readonly<Config>, http: Readonly<HttpConfig>, log: Logger): Promise<SharedState> {
  const limitsOptions = { ratePerMinute: http.principalRatePerMinute, maxInFlight: http.principalMaxInFlight };
  const memoryLimits = new InMemoryLimits(limitsOptions);
  if (http.redisUrl === undefined) {
    const tasks = new CompletionTaskStore();
    return {
      answers: new MemoryAnswerStore({ maxChars: config.answerStoreChars, ttlMs: config.answerTtlMs }),
      tasks,
      limits: memoryLimits,
      close: async () => {
        await tasks.close();
        await memoryLimits.close();
      },
    };
  }
  const [{ RedisConnection }, { RedisAnswerStore }, { RedisTaskStore }, { RedisLimits }, { FallbackLimits }, { RedisCancelRelay }, { RedisClientNames }] = await Promise.all([
    import('../../store/redis-connection.js'),
    import('../../store/redis-answer-store.js'),
    import('../../tasks/redis-task-store.js'),
    import('./redis-limits.js'),
    import('./fallback-limits.js'),
    import('./redis-cancel-relay.js'),
    import('./redis-client-names.js'),
  ]);
  const redis = await RedisConnection.open(http.redisUrl, log, http.redisPrefix);
  const tasks = await RedisTaskStore.open(redis, { defaultTtlMs: config.answerTtlMs, leaseMs: http.redisLeaseMs });
  const limits = new FallbackLimits(new RedisLimits(redis, { ...limitsOptions, leaseMs: config.timeoutMs + LEASE_MARGIN_MS, replica: tasks.replica }), memoryLimits, log);
  return {
    answers: new RedisAnswerStore(redis, { maxChars: config.answerStoreChars, ttlMs: config.answerTtlMs }),
    tasks,
    limits,
    storeReady: () => redis.ready,
    cancelRelay: new RedisCancelRelay(redis),
    clientNames: new RedisClientNames(redis),
    close: async () => {
      // Before the connection closes: the jobs still running here are marked failed in Redis.
      await tasks.close();
      await limits.close();
      redis.close();
    },
  };
}
