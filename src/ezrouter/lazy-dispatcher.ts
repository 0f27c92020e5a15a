/**
 * The one owner of the upstream dispatcher's lifetime. Given a dispatcher (tests, embedding),
 * it hands that one out and never closes it; otherwise it creates the server's own dispatcher
 * (see createDispatcher) on the first upstream call — undici is not even loaded before — and
 * closes it on `destroy`.
 */
import type { Dispatcher } from 'undici';
import type { DispatcherConfig, DispatcherOptions } from './dispatcher.js';

export interface DispatcherHolder {
  /** The shared dispatcher, created on the first call when this holder owns it. */
  get(): Promise<Dispatcher>;
  /** Closes the sockets of a dispatcher this holder created; a given one is left alone. */
  destroy(): Promise<void>;
}

export function holdDispatcher(config: DispatcherConfig, given?: Dispatcher, options: DispatcherOptions = {}): DispatcherHolder {
  if (given) return { get: () => Promise.resolve(given), destroy: () => Promise.resolve() };
  let created: Promise<Dispatcher> | undefined;
  return {
    get: () =>
      (created ??= import('./dispatcher.js')
        .then((m) => m.createDispatcher(config, options))
        .catch((error: unknown) => {
          created = undefined; // a failed creation is tried again by the next call
          throw error;
        })),
    destroy: async () => {
      const pending = created;
      created = undefined;
      if (pending) await (await pending.catch(() => undefined))?.destroy();
    },
  };
}
