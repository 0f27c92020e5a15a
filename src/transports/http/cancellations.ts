/**
 * Cancellation in stateless mode. A client cancels with a `notifications/cancelled` POST of its
 * own, which reaches a fresh server that never saw the call; so the calls in flight are kept
 * here by principal and JSON-RPC id, and that notification aborts the matching call (its
 * upstream socket closes). Clients number their requests per session, so two sessions of one
 * principal can share an id: an ambiguous id cancels nothing (cancellation is best effort; a
 * wrong call must never be the one stopped). Closing the HTTP response cancels a call too.
 * This registry is per process; with several replicas (Redis), a cancel whose id is not running
 * here is forwarded through a CancelRelay with the principal that sent it, and the replica
 * running the call aborts it (one principal never reaches another's calls). Each replica judges
 * a forwarded id alone: it cannot see that another replica runs a call with the same id, so
 * across replicas an id shared by two sessions of one principal is not ambiguous (README).
 */
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

export type CancelOutcome = 'cancelled' | 'unknown' | 'ambiguous';

export class InFlightCalls {
  private readonly calls = new Map<string, Set<() => void>>();

  /** Registers a call; returns the function that removes it when the call ends. */
  add(principal: string, id: RequestId, cancel: () => void): () => void {
    const key = callKey(principal, id);
    let set = this.calls.get(key);
    if (!set) this.calls.set(key, (set = new Set()));
    set.add(cancel);
    return () => {
      set.delete(cancel);
      if (set.size === 0 && this.calls.get(key) === set) this.calls.delete(key);
    };
  }

  cancel(principal: string, id: RequestId): CancelOutcome {
    const set = this.calls.get(callKey(principal, id));
    if (!set || set.size === 0) return 'unknown';
    if (set.size > 1) return 'ambiguous';
    for (const cancel of set) cancel();
    return 'cancelled';
  }
}

function callKey(principal: string, id: RequestId): string {
  return `${principal}\n${typeof id}:${String(id)}`;
}

/** Carries a cancel this process does not know to the other replicas (Redis pub/sub). */
export interface CancelRelay {
  /** Sends the cancel of this principal's call to every replica; the one running it aborts it. */
  forward(principal: string, id: RequestId): Promise<void>;
  /** Delivers the cancels forwarded by any replica (this one included). */
  listen(onCancel: (principal: string, id: RequestId) => void): Promise<void>;
}
