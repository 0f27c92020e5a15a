/**
 * The CancelRelay on Redis pub/sub: a replica that receives `notifications/cancelled` for a call
 * it does not run publishes `{principal, id}`; every replica hears it and cancels that
 * principal's call with that id if it runs it (InFlightCalls.cancel). The principal is the one
 * the forwarding replica authenticated, so a cancel reaches only its sender's own calls.
 */
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { RedisConnection } from '../../store/redis-connection.js';
import type { CancelRelay } from './cancellations.js';

const CHANNEL = 'call-cancel';

export class RedisCancelRelay implements CancelRelay {
  constructor(private readonly redis: RedisConnection) {}

  async forward(principal: string, id: RequestId): Promise<void> {
    await this.redis.publish(CHANNEL, JSON.stringify({ principal, id }));
  }

  listen(onCancel: (principal: string, id: RequestId) => void): Promise<void> {
    return this.redis.subscribe(CHANNEL, (message) => {
      const cancel = parseCancel(message);
      if (cancel) onCancel(cancel.principal, cancel.id);
    });
  }
}

function parseCancel(message: string): { principal: string; id: RequestId } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { principal, id } = parsed as { principal?: unknown; id?: unknown };
  if (typeof principal !== 'string') return undefined;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) return undefined;
  return { principal, id };
}
