/**
 * Per-principal limits: calls in flight and request rate. `Limits` is the port; this file holds
 * the in-memory implementation (one process). A shared implementation (Redis, issue 13) keeps
 * the same contract so limits hold across replicas; nothing else knows which one runs.
 */

export type Admission =
  | { admitted: true; release(): void }
  | { admitted: false; limit: 'rate' | 'in_flight'; retryAfterSeconds: number };

export interface Limits {
  /**
   * Counts one request of `principal` against its rate and, with `slot`, takes one of its
   * in-flight slots until `release()`. A refused request takes nothing.
   */
  acquire(principal: string, options: { slot: boolean }): Promise<Admission>;
  close(): Promise<void>;
}

export interface LimitsOptions {
  /** Requests per minute per principal; 0 = unlimited. */
  ratePerMinute: number;
  /** Requests in flight per principal. */
  maxInFlight: number;
  now?: () => number;
}

/** Forget buckets that have refilled at most this often. */
const SWEEP_EVERY_MS = 60_000;

/**
 * A token bucket per principal (capacity: one minute's worth, refilled continuously, so a
 * refusal knows when the next request fits) and a counter of calls in flight.
 */
export class InMemoryLimits implements Limits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly inFlight = new Map<string, number>();
  private readonly now: () => number;
  private lastSweep: number;

  constructor(private readonly options: LimitsOptions) {
    this.now = options.now ?? Date.now;
    this.lastSweep = this.now();
  }

  acquire(principal: string, { slot }: { slot: boolean }): Promise<Admission> {
    const now = this.now();
    this.sweep(now);
    const busy = this.inFlight.get(principal) ?? 0;
    if (slot && busy >= this.options.maxInFlight) {
      // When a slot frees is unknown; a second is a fair hint for calls that stream.
      return Promise.resolve({ admitted: false, limit: 'in_flight', retryAfterSeconds: 1 });
    }
    const rate = this.options.ratePerMinute;
    if (rate > 0) {
      const perMs = rate / 60_000;
      const bucket = this.buckets.get(principal);
      const tokens = bucket ? Math.min(rate, bucket.tokens + (now - bucket.at) * perMs) : rate;
      if (tokens < 1) {
        return Promise.resolve({ admitted: false, limit: 'rate', retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) });
      }
      this.buckets.set(principal, { tokens: tokens - 1, at: now });
    }
    if (!slot) return Promise.resolve({ admitted: true, release: () => {} });
    this.inFlight.set(principal, busy + 1);
    let released = false;
    return Promise.resolve({
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.inFlight.get(principal) ?? 1) - 1;
        if (left > 0) this.inFlight.set(principal, left);
        else this.inFlight.delete(principal);
      },
    });
  }

  close(): Promise<void> {
    this.buckets.clear();
    this.inFlight.clear();
    return Promise.resolve();
  }

  /** Drops buckets that are full again: a principal seen once (a byok key) costs nothing for long. */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    const rate = this.options.ratePerMinute;
    for (const [principal, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * (rate / 60_000) >= rate) this.buckets.delete(principal);
    }
  }
}

/**
 * The bound on requests in flight in this process, every principal together. It protects this
 * process's memory and sockets, so it stays local even when the per-principal limits are shared.
 */
export class InFlightGate {
  private count = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.count;
  }

  /** A release function, or undefined when the process is full. */
  tryEnter(): (() => void) | undefined {
    if (this.count >= this.max) return undefined;
    this.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count--;
    };
  }
}
