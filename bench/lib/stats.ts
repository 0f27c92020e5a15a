/** Timing helpers: medians of repeated runs, wall and CPU time, interleaved so noise is shared. */

export interface Sample {
  ms: number;
  /** CPU time (user + system) of this process during the run. */
  cpuMs: number;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  cpuMedian: number;
  runs: number;
  samples: number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarise(samples: readonly Sample[]): Summary {
  const ms = samples.map((s) => s.ms);
  return {
    median: median(ms),
    min: Math.min(...ms),
    max: Math.max(...ms),
    cpuMedian: median(samples.map((s) => s.cpuMs)),
    runs: samples.length,
    samples: ms.map((v) => round(v, 2)),
  };
}

/** Runs `fn` once and returns its wall time and this process's CPU time. */
export async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** A measured case: `prepare` (untimed, e.g. queue the emulator's answer), then `run` (timed). */
export interface Contender {
  prepare?: () => Promise<void>;
  run: () => Promise<unknown>;
  /** Checks the first (warm-up) result; throws when a reader got the answer wrong. */
  check?: (result: unknown) => void;
}

/**
 * Runs every contender `reps` times, round-robin (after one unmeasured warm-up each), so a noisy
 * moment on this shared machine hits all of them alike. Returns a summary per contender.
 */
export async function interleaved(contenders: Record<string, Contender>, reps: number, warmups = 1): Promise<Record<string, Summary>> {
  const names = Object.keys(contenders);
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let w = 0; w < warmups; w++) {
    for (const name of names) {
      const c = contenders[name]!;
      await c.prepare?.();
      const result = await c.run();
      if (w === 0) c.check?.(result);
    }
  }
  for (let r = 0; r < reps; r++) {
    for (const name of names) {
      const c = contenders[name]!;
      await c.prepare?.();
      samples[name]!.push(await timed(c.run));
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarise(samples[n]!)]));
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Lets pending I/O and timers settle, and collects garbage when --expose-gc is on. */
export async function settle(ms = 50): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, ms));
}
