/**
 * This replica's lease in Redis: one key, set with an expiry and refreshed every third of it
 * while the process runs. A job records the lease of the replica running it; a replica that
 * stops cleanly marks its jobs failed itself, and one that crashed (SIGKILL, OOM, lost host)
 * stops refreshing, so once its lease expires any replica that reads one of its jobs sees the
 * owner gone and marks the job failed (redis-task-store.ts). The bound is EZROUTER_REDIS_LEASE_MS.
 */
import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../store/redis-connection.js';

export class ReplicaLease {
  /** This process's owner id, written on each job it runs. */
  readonly owner = randomBytes(12).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  /** When the lease was last set in Redis (start-up counts: nothing of ours can be judged before). */
  private renewedAt = Date.now();
  private lapsed = false;
  private readonly lapseListeners: (() => void)[] = [];

  constructor(
    private readonly redis: RedisConnection,
    readonly leaseMs: number,
  ) {}

  /** The lease key of an owner; a job whose owner's key is gone has lost its replica. */
  keyPrefix(): string {
    return `${this.redis.prefix}replica:`;
  }

  /** Refreshes now and then every leaseMs/3 (Redis down: the next beat tries again). */
  start(): void {
    if (this.timer) return;
    const beat = (): void => {
      // Not renewed for a whole lease (Redis unreachable from here, or this process stalled): the
      // other replicas now take this one for dead and mark its jobs failed, so it stops them too.
      if (!this.lapsed && Date.now() - this.renewedAt > this.leaseMs) {
        this.lapsed = true;
        for (const listener of this.lapseListeners) listener();
      }
      void this.redis
        .run((r) => r.sendCommand(['SET', this.keyPrefix() + this.owner, '1', 'PX', String(this.leaseMs)]))
        .then(() => {
          this.renewedAt = Date.now();
          this.lapsed = false;
        })
        .catch(() => {});
    };
    beat();
    // At start-up the connection is usually not ready yet, and a restarted Redis has lost the key:
    // set it again the moment the connection is (re)made, not a third of the lease later.
    this.redis.onReady(() => {
      if (this.timer) beat();
    });
    this.timer = setInterval(beat, Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** Called whenever the lease lapses (see `start`): the work this replica owns must stop. */
  onLapse(listener: () => void): void {
    this.lapseListeners.push(listener);
  }

  /** Stops refreshing and gives the lease up (best effort: it expires by itself anyway). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.run((r) => r.sendCommand(['DEL', this.keyPrefix() + this.owner])).catch(() => {});
  }
}
