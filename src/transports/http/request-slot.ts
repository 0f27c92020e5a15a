/**
 * One POST's in-flight slot and the detached work it starts. The request holds its principal's
 * slot while it is served; a background job or MCP task it starts takes that slot over and keeps
 * it until the job ends, fails or is cancelled, so a principal's detached jobs count against
 * EZROUTER_HTTP_PRINCIPAL_MAX_IN_FLIGHT like its calls (in memory and in Redis, where the slot is
 * a lease). The edge refuses a POST with more than one request that starts work (app.ts), so a
 * POST starts at most one job; should a further claim come anyway, it takes a slot of its own or
 * is refused as the edge refuses a call over the limit.
 */
import { EzrouterError } from '../../ezrouter/errors.js';
import type { JobSlots, ReleaseSlot } from '../../tasks/job-slots.js';
import type { Limits } from './limits.js';

/** What a request over one of its principal's limits is told (the edge's 429 and a refused job alike). */
export function limitRefusal(limit: 'rate' | 'in_flight'): string {
  return `Too many requests: this principal is over its limit of ${limit === 'rate' ? 'request rate' : 'calls in flight'}.`;
}

export class RequestSlot implements JobSlots {
  /** The request's own slot until a job takes it over or the request ends. */
  private own: ReleaseSlot | undefined;

  constructor(
    private readonly limits: Limits,
    private readonly principal: string,
    release: ReleaseSlot | undefined,
  ) {
    this.own = release;
  }

  async claim(): Promise<ReleaseSlot> {
    const own = this.own;
    if (own) {
      this.own = undefined;
      return own;
    }
    const admission = await this.limits.acquire(this.principal, { slot: true });
    if (!admission.admitted) {
      throw new EzrouterError({ code: 'rate_limited', message: `${limitRefusal(admission.limit)} Retry in ${admission.retryAfterSeconds} s` });
    }
    return admission.release;
  }

  /** The request ended: its slot is released unless a job took it over. */
  end(): void {
    const own = this.own;
    this.own = undefined;
    own?.();
  }
}
