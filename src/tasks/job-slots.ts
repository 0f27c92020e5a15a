/**
 * The caller's in-flight limit, for work that outlives the request that started it (a
 * background job, an MCP task): the job claims a slot before it starts and releases it when it
 * ends, fails or is cancelled, so detached work counts against its principal's limit like a
 * call in flight. Stdio has no per-principal limits (UNLIMITED_JOB_SLOTS); the HTTP mode hands
 * the starting request's own slot to the job (src/transports/http/request-slot.ts).
 */

/** Gives the claimed slot back; calling it again does nothing. */
export type ReleaseSlot = () => void;

export interface JobSlots {
  /**
   * A slot for one detached job, held until the returned function is called. Throws an
   * EzrouterError (`rate_limited`) when the principal has no slot left.
   */
  claim(): Promise<ReleaseSlot>;
}

export const UNLIMITED_JOB_SLOTS: JobSlots = { claim: () => Promise.resolve(() => {}) };
