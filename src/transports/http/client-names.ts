/**
 * The `clientInfo.name` each principal last sent at `initialize`. In the stateless mode every
 * POST gets a fresh server that never saw the client's `initialize`; without this, every call
 * would get the unknown client's limits. Two implementations of one port: ClientNames (this
 * process, bounded) and RedisClientNames (replicas share it, so a call that lands on another
 * replica than its client's initialize still gets that client's limits). A principal nobody
 * has seen initialize gets the unknown client's limits (the conservative choice).
 */

export interface ClientNameRegistry {
  /**
   * The name to use for this request: the one it sends (an `initialize`, which is remembered),
   * else the one last remembered for the principal. Never rejects: a store that cannot answer
   * gives what this process knows.
   */
  resolve(principal: string, sent: string | undefined): Promise<string | undefined>;
}

const MAX_PRINCIPALS = 10_000;

export class ClientNames implements ClientNameRegistry {
  private readonly names = new Map<string, string>();

  remember(principal: string, clientName: string): void {
    this.names.delete(principal);
    this.names.set(principal, clientName);
    if (this.names.size > MAX_PRINCIPALS) this.names.delete(this.names.keys().next().value!);
  }

  get(principal: string): string | undefined {
    return this.names.get(principal);
  }

  resolve(principal: string, sent: string | undefined): Promise<string | undefined> {
    if (sent !== undefined) this.remember(principal, sent);
    return Promise.resolve(this.get(principal));
  }
}
