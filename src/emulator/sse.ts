/** SSE frame formatting shared by both surfaces. */

/** How frames are written: line ending and whether a space follows the field colon. */
export interface SseFormat {
  eol: string;
  noSpace: boolean;
}

export const DEFAULT_FORMAT: SseFormat = { eol: '\n', noSpace: false };

const field = (name: string, value: string, f: SseFormat): string => `${name}:${f.noSpace ? '' : ' '}${value}${f.eol}`;

/** `data: <payload>` + blank line. */
export const dataFrame = (payload: string, f: SseFormat): string => field('data', payload, f) + f.eol;

/** `event: <name>` + `data: <payload>` + blank line. */
export const eventFrame = (name: string, payload: string, f: SseFormat): string =>
  field('event', name, f) + field('data', payload, f) + f.eol;

/** A keep-alive comment line, `: PING`. */
export const pingComment = (f: SseFormat): string => `: PING${f.eol}${f.eol}`;

/** The malformed frame used by `malformedAfterFrames`. */
export const malformedFrame = (f: SseFormat): string => dataFrame('{not json', f);
