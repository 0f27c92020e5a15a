/**
 * Reads a request body up to a bound, before anything parses it: a declared Content-Length over
 * the bound is refused without reading a byte, and a body that grows past it stops being read.
 */
import type { IncomingMessage } from 'node:http';

export type BodyResult = { kind: 'ok'; text: string } | { kind: 'too_large' } | { kind: 'aborted' };

export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discardRest(req, maxBytes);
    return Promise.resolve({ kind: 'too_large' });
  }
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        parts.length = 0;
        settle({ kind: 'too_large' });
        discardRest(req, maxBytes);
        return;
      }
      parts.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle({ kind: 'ok', text: Buffer.concat(parts, size).toString('utf8') }));
    req.once('error', () => settle({ kind: 'aborted' }));
    req.once('close', () => settle({ kind: 'aborted' }));
  });
}

/**
 * The rest of a refused body is read and dropped, so the client sees the 413 rather than a
 * reset; a client that keeps sending far past the bound loses its connection instead.
 */
function discardRest(req: IncomingMessage, maxBytes: number): void {
  const bound = Math.max(4 * maxBytes, 16 * 1024 * 1024);
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > bound) req.destroy();
  });
  req.resume();
}
