/**
 * Progress notifications for a streaming call: only when the request carried a
 * `_meta.progressToken`; `progress` = characters received (strictly increasing); at most one
 * per `minIntervalMs` (a trailing one flushes the last count), none after `finish()`.
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { TextListener } from '../ezrouter/types.js';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ProgressReporter {
  onText: TextListener | undefined;
  /** Stops notifications: call before returning the result. */
  finish(): void;
}

export const PROGRESS_INTERVAL_MS = 100;

export function createProgressReporter(extra: ToolExtra, label: string, minIntervalMs = PROGRESS_INTERVAL_MS): ProgressReporter {
  const token = extra._meta?.progressToken;
  if (token === undefined) return { onText: undefined, finish: () => {} };

  let lastSentAt = 0;
  let lastSent = 0;
  let latest = 0;
  let trailing: NodeJS.Timeout | undefined;
  let finished = false;

  const send = (): void => {
    trailing = undefined;
    if (finished || latest <= lastSent) return;
    lastSent = latest;
    lastSentAt = Date.now();
    extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: latest, message: `${label}: ${latest} characters received` },
      })
      .catch(() => {
        // The client went away; the call itself will notice.
      });
  };

  return {
    onText: (_delta, totalChars) => {
      latest = totalChars;
      const wait = lastSentAt + minIntervalMs - Date.now();
      if (wait <= 0) send();
      else trailing ??= setTimeout(send, wait);
    },
    finish: () => {
      finished = true;
      if (trailing) clearTimeout(trailing);
    },
  };
}
