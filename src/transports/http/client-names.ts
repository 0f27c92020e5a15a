/**
 * The `clientInfo.name` each principal last sent at `initialize`. In the stateless mode every
 * POST gets a fresh server that never saw the client's `initialize`; without this, every call
 * would get the unknown client's limits. Per process (a replica that did not see the
 * initialize uses the unknown client's, the conservative choice), bounded.
 */

const MAX_PRINCIPALS = 10_000;

export class ClientNames {
  private readonly names = new Map<string, string>();

  remember(principal: string, clientName: string): void {
    this.names.delete(principal);
    this.names.set(principal, clientName);
    if (this.names.size > MAX_PRINCIPALS) this.names.delete(this.names.keys().next().value!);
  }

  get(principal: string): string | undefined {
    return this.names.get(principal);
  }
}
