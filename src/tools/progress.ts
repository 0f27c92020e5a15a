/**
 * Progress for a streaming call. Notifications go out only when the request carried a
 * `_meta.progressToken`: `progress` = characters received (strictly increasing), at most one
 * per `minIntervalMs` (a trailing one flushes the last count), none after `finish()`. Each
 * `message` is for a person, in at most PROGRESS_MESSAGE_CHARS (Claude Code shows about that
 * much): the model, the seconds elapsed, the characters so far and the last words of the answer
 * (or "thinking" while only reasoning has arrived; `progress` counts reasoning and answer).
 * `onStatus` (task status messages) gets the same sentence, at most once a second.
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { TextListener } from '../ezrouter/types.js';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ProgressReporter {
  onText: TextListener | undefined;
  /** Reasoning text counts as progress too; while only reasoning has come, the message says "thinking". */
  onReasoning: TextListener | undefined;
  /** Stops notifications: call before returning the result. */
  finish(): void;
}

export const PROGRESS_INTERVAL_MS = 100;
export const PROGRESS_MESSAGE_CHARS = 200;
const STATUS_INTERVAL_MS = 1000;
/** Characters of the answer's end kept for the message. */
const TAIL_CHARS = 160;

export interface ProgressOptions {
  minIntervalMs?: number;
  /** Receives the progress sentence (e.g. for a task's status message). */
  onStatus?: (message: string) => void;
  /** Says where things stand instead of the answer's last words (e.g. characters per model). */
  describe?: () => string;
  now?: () => number;
}

export function createProgressReporter(extra: ToolExtra, model: string, options: ProgressOptions = {}): ProgressReporter {
  const token = extra._meta?.progressToken;
  const { onStatus, describe, minIntervalMs = PROGRESS_INTERVAL_MS, now = Date.now } = options;
  if (token === undefined && onStatus === undefined) return { onText: undefined, onReasoning: undefined, finish: () => {} };

  const started = now();
  let tail = '';
  let lastSentAt = 0;
  let lastSent = 0;
  let lastStatusAt = 0;
  let answerChars = 0;
  let reasoningChars = 0;
  let latest = 0;
  let trailing: NodeJS.Timeout | undefined;
  let finished = false;

  const send = (): void => {
    trailing = undefined;
    if (finished || latest <= lastSent) return;
    lastSent = latest;
    lastSentAt = now();
    const message =
      answerChars === 0 && reasoningChars > 0
        ? thinkingMessage(model, lastSentAt - started, reasoningChars)
        : progressMessage(model, lastSentAt - started, answerChars, describe ? describe() : tail, describe === undefined);
    if (onStatus && lastSentAt - lastStatusAt >= STATUS_INTERVAL_MS) {
      lastStatusAt = lastSentAt;
      onStatus(message);
    }
    if (token === undefined) return;
    extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: latest, message } })
      .catch(() => {
        // The client went away; the call itself will notice.
      });
  };

  const update = (): void => {
    latest = answerChars + reasoningChars;
    const wait = lastSentAt + minIntervalMs - now();
    if (wait <= 0) send();
    else trailing ??= setTimeout(send, wait);
  };
  return {
    onText: (delta, totalChars) => {
      answerChars = totalChars;
      tail = (tail + delta).slice(-TAIL_CHARS);
      update();
    },
    onReasoning: (_delta, totalChars) => {
      reasoningChars = totalChars;
      update();
    },
    finish: () => {
      finished = true;
      if (trailing) clearTimeout(trailing);
    },
  };
}

/** `claude-sonnet-4-6 · 12 s · thinking (3,456 characters of reasoning)`. */
export function thinkingMessage(model: string, elapsedMs: number, reasoningChars: number): string {
  return `${model.length > 60 ? `${model.slice(0, 59)}…` : model} · ${Math.floor(elapsedMs / 1000)} s · thinking (${reasoningChars.toLocaleString('en-US')} characters of reasoning)`;
}

/** `claude-sonnet-4-6 · 12 s · 3,456 characters received · "…the last words"`, at most PROGRESS_MESSAGE_CHARS. */
export function progressMessage(model: string, elapsedMs: number, chars: number, tail: string, quoted = true): string {
  const head = `${model.length > 60 ? `${model.slice(0, 59)}…` : model} · ${Math.floor(elapsedMs / 1000)} s · ${chars.toLocaleString('en-US')} characters received`;
  const room = PROGRESS_MESSAGE_CHARS - head.length - 6;
  const words = tail.replace(/\s+/g, ' ').trim();
  if (room < 8 || words === '') return head.slice(0, PROGRESS_MESSAGE_CHARS);
  if (!quoted) return `${head} · ${words}`.slice(0, PROGRESS_MESSAGE_CHARS);
  const shown = words.length > room ? `…${words.slice(words.length - room + 1)}` : words;
  return `${head} · "${shown}"`;
}
