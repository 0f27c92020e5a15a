/** Timers owned by one emulator, so close() can clear every one of them. */
export class Timers {
  private readonly sleeping = new Map<NodeJS.Timeout, () => void>();
  private readonly repeating = new Set<NodeJS.Timeout>();
  private disposed = false;

  /** Resolves after `ms`, or immediately when clear() runs. */
  sleep(ms: number): Promise<void> {
    if (this.disposed || !(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleeping.delete(t);
        resolve();
      }, ms);
      this.sleeping.set(t, resolve);
    });
  }

  /** Runs `fn` every `ms`; returns the cancel function. */
  every(ms: number, fn: () => void): () => void {
    if (this.disposed) return () => undefined;
    const t = setInterval(fn, Math.max(1, ms));
    this.repeating.add(t);
    return () => {
      clearInterval(t);
      this.repeating.delete(t);
    };
  }

  /** Clears every timer (pending sleeps resolve now); later calls schedule nothing. */
  clear(): void {
    this.disposed = true;
    for (const [t, resolve] of this.sleeping) {
      clearTimeout(t);
      resolve();
    }
    this.sleeping.clear();
    for (const t of this.repeating) clearInterval(t);
    this.repeating.clear();
  }
}
