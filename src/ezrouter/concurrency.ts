/**
 * A bound on the upstream calls in flight at once (EZROUTER_MAX_CONCURRENCY): callers past it
 * wait in arrival order, at most `maxWaiting` of them (EZROUTER_MAX_QUEUE) — past that a call
 * is refused at once, so a burst cannot pile up memory behind the bound. The wait belongs to the
 * call — its deadline and cancellation end it — so a queued call fails exactly as a slow one would.
 */

/** The queue of waiting calls is full. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly waiting: number) {
    super(`${waiting} calls are already waiting for a slot`);
  }
}

export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: { grant: () => void; signal: AbortSignal; onAbort: () => void }[] = [];

  constructor(
    readonly max: number,
    readonly maxWaiting: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Calls in flight now, and calls waiting for a slot. */
  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /**
   * Resolves with the function that gives the slot back, once one is free; rejects with the
   * signal's reason if it aborts first.
   */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new QueueFullError(this.waiting.length));
    return new Promise((resolve, reject) => {
      const entry = {
        signal,
        grant: () => {
          signal.removeEventListener('abort', entry.onAbort);
          resolve(this.releaser());
        },
        onAbort: () => {
          const at = this.waiting.indexOf(entry);
          if (at !== -1) this.waiting.splice(at, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** A release function that works once: the slot goes to the next waiter, or back to the pool. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.active--;
    };
  }
}
