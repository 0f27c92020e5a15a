/**
 * The life of one call to ezrouter: one deadline for the whole call (retries and backoff
 * included) and the caller's cancellation, folded into a single AbortSignal that every HTTP
 * attempt of the call uses. When the signal fires, `reason` says why.
 */

export type AbortReason = 'deadline' | 'cancelled';

export class CallScope {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly detachParent: () => void;
  private abortReason: AbortReason | undefined;
  readonly deadlineAt: number;

  constructor(
    readonly timeoutMs: number,
    parent?: AbortSignal,
  ) {
    this.deadlineAt = Date.now() + timeoutMs;
    this.timer = setTimeout(() => this.abort('deadline'), timeoutMs);
    this.timer.unref?.();
    const onParentAbort = (): void => this.abort('cancelled');
    if (parent?.aborted) onParentAbort();
    else parent?.addEventListener('abort', onParentAbort, { once: true });
    this.detachParent = () => parent?.removeEventListener('abort', onParentAbort);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the call was aborted, or undefined while it is alive. */
  get reason(): AbortReason | undefined {
    return this.abortReason;
  }

  /** Milliseconds left before the deadline (never negative). */
  timeLeft(): number {
    return Math.max(0, this.deadlineAt - Date.now());
  }

  /**
   * Waits for `work` (which this call does not own, e.g. a shared catalog fetch) at most
   * `waitMs`: resolves with its value, or undefined when it failed or took longer; rejects with
   * the abort reason as soon as the call is cancelled or its deadline passes.
   */
  async within<T>(work: Promise<T>, waitMs: number): Promise<T | undefined> {
    const signal = this.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        work.catch(() => undefined),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), waitMs);
        }),
        new Promise<never>((_resolve, reject) => {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Waits for `work` (which this call does not own, e.g. a shared catalog fetch) no longer than
   * the call lives: its value or its failure, or a rejection with the abort reason as soon as the
   * call is cancelled or its deadline passes (the work itself goes on).
   */
  async race<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_resolve, reject) => {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Ends the scope once the call has its answer: timers stop, and a deadline that would fire
   * later can no longer touch a completed answer.
   */
  dispose(): void {
    clearTimeout(this.timer);
    this.detachParent();
  }

  private abort(reason: AbortReason): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    clearTimeout(this.timer);
    this.controller.abort(new Error(reason === 'deadline' ? 'call deadline passed' : 'call cancelled'));
  }
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
