/**
 * Shared limits that keep the service up when the shared store is down: admissions go to the
 * shared (Redis) limits, and while they fail, to this process's own in-memory limits, so calls
 * that need no shared state go on (each replica then enforces the limits on its own). Logged
 * once per outage.
 */
import type { Logger } from '../../log.js';
import type { Admission, Limits } from './limits.js';

export class FallbackLimits implements Limits {
  private degraded = false;

  constructor(
    private readonly shared: Limits,
    private readonly local: Limits,
    private readonly log: Logger,
  ) {}

  async acquire(principal: string, options: { slot: boolean }): Promise<Admission> {
    try {
      const admission = await this.shared.acquire(principal, options);
      if (this.degraded) this.log.info('per-principal limits are shared again (the shared store is back)');
      this.degraded = false;
      return admission;
    } catch {
      if (!this.degraded) this.log.warn('the shared store is unavailable: per-principal limits are enforced by this replica alone until it is back');
      this.degraded = true;
      return this.local.acquire(principal, options);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.local.close()]);
  }
}
