/**
 * Where `files` may be read from: the client's roots (MCP `roots/list`, when the client has the
 * roots capability; refreshed on `notifications/roots/list_changed`), else EZROUTER_FILE_ROOTS;
 * with neither, nowhere. A server that serves remote callers (the HTTP mode) never reads its own
 * disk for them.
 */
import { fileURLToPath } from 'node:url';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import { excerpt } from '../redact.js';

/** The client's roots that are local folders, and the first file:// root that is not (another host's). */
interface ClientRoots {
  roots: string[];
  notLocal?: string;
}

/**
 * The local folders among the client's root URIs. Other schemes are not folders here; a
 * file:// URI naming another host (file://server/share) cannot be read, so it is skipped
 * (and said so) rather than failing the whole list.
 */
function localRoots(uris: readonly string[], log: Logger): ClientRoots {
  const answer: ClientRoots = { roots: [] };
  for (const uri of uris) {
    if (!uri.startsWith('file://')) continue;
    try {
      answer.roots.push(fileURLToPath(uri));
    } catch {
      answer.notLocal ??= uri;
      log.warn('a root the client shared is not a local folder; files cannot come from it', { root: excerpt(uri, 120) });
    }
  }
  return answer;
}

export type RootsAnswer = { roots: string[]; from: string } | { refusal: string };

export class FileRoots {
  private clientRoots: Promise<ClientRoots> | undefined;

  constructor(
    private readonly server: Server,
    private readonly configured: readonly string[],
    private readonly log: Logger,
    /** False in the HTTP mode: files are never read for remote callers. */
    private readonly allowed: boolean = true,
  ) {}

  /** Listens for the client's root changes (call before the server connects). */
  install(): void {
    this.server.setNotificationHandler(RootsListChangedNotificationSchema, () => {
      this.clientRoots = undefined;
      this.log.debug('the client changed its roots');
    });
  }

  async current(signal?: AbortSignal): Promise<RootsAnswer> {
    if (!this.allowed) return { refusal: 'This server runs in the HTTP mode, where it never reads its own disk for callers: paste the files\' contents into the prompt instead.' };
    if (this.server.getClientCapabilities()?.roots) {
      this.clientRoots ??= this.server
        .listRoots(undefined, signal ? { signal } : undefined)
        .then(({ roots }) => localRoots(roots.map((r) => r.uri), this.log))
        .catch((error: unknown) => {
          this.clientRoots = undefined;
          throw error;
        });
      const answer = await this.clientRoots.catch(() => undefined);
      if (answer === undefined) return { refusal: 'The client did not answer roots/list, so no file can be checked against its roots: try again.' };
      const { roots, notLocal } = answer;
      if (roots.length > 0) return { roots, from: 'the roots this client shared' };
      if (notLocal !== undefined) {
        return { refusal: `None of this client's roots is a folder on this machine (for example "${excerpt(notLocal, 120)}", a file:// URI of another host), so no file may be read: share a local folder, or pass the contents in the prompt.` };
      }
      return { refusal: 'This client shares no roots (no folder is open in it), so no file may be read: open the project folder in the client, or pass the contents in the prompt.' };
    }
    if (this.configured.length > 0) return { roots: [...this.configured], from: 'EZROUTER_FILE_ROOTS' };
    return { refusal: 'Files are not allowed: this client shares no roots and EZROUTER_FILE_ROOTS is not set. Set EZROUTER_FILE_ROOTS in the server\'s environment to the folders files may come from (separated by the system\'s path delimiter).' };
  }
}
