/** Timers owned by one emulator, so close() can clear every one of them. */
export class Timers {
  private readonly sleeping = new Map<NodeJS.Timeout, () => void>();
  private readonly repeating = new Set<NodeJS.Timeout>();

  /** Resolves after `ms`, or immediately when clear() runs. */
  sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return Promise.resolve();
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
    const t = setInterval(fn, Math.max(1, ms));
    this.repeating.add(t);
    return () => {
      clearInterval(t);
      this.repeating.delete(t);
    };
  }

  clear(): void {
    for (const [t, resolve] of this.sleeping) {
      clearTimeout(t);
      resolve();
    }
    this.sleeping.clear();
    for (const t of this.repeating) clearInterval(t);
    this.repeating.clear();
  }
}
