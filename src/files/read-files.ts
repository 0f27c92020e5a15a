/**
 * Reads the files a call hands to the model, checked against the allowed roots: each path is
 * resolved (relative ones against the first root) and followed through symlinks with realpath
 * before the check, so neither `..` nor a link can lead outside; only regular UTF-8 text files
 * are read (directories, devices and binary files are refused), within a per-file and a total
 * size cap. The first file that fails is named, with why.
 *
 * The check and the read are tied to one file: the checked path is opened first (not following
 * a last-component link, not blocking on a pipe), and the opened file itself is then checked —
 * its real path (from /proc/self/fd on Linux) must still be inside a root, and its type and size
 * come from fstat — so a path swapped for a link between the check and the open cannot escape.
 */
import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { excerpt } from '../redact.js';

export interface FileCaps {
  fileMaxBytes: number;
  filesMaxBytes: number;
}

export interface ReadFile {
  /** The path as the caller gave it (the block's label). */
  path: string;
  text: string;
}

/** Bytes looked at for a NUL, the mark of a binary file. */
const BINARY_SNIFF_BYTES = 8192;

/** The file-system calls the check depends on (tests put a path swap between them). */
export interface FileIo {
  realpath(path: string): Promise<string>;
}

const NODE_IO: FileIo = { realpath: (path) => realpath(path) };

export async function readFiles(paths: readonly string[], roots: readonly string[], caps: FileCaps, io: FileIo = NODE_IO): Promise<ReadFile[] | string> {
  const realRoots: string[] = [];
  for (const root of roots) {
    const real = await realpath(root).catch(() => undefined);
    if (real !== undefined) realRoots.push(real);
  }
  if (realRoots.length === 0) return `None of the allowed roots exists on this machine (${roots.map((r) => excerpt(r, 120)).join(', ')}).`;
  const files: ReadFile[] = [];
  let total = 0;
  for (const path of paths) {
    const shown = `"${excerpt(path, 200)}"`;
    const wanted = isAbsolute(path) ? path : resolve(realRoots[0]!, path);
    const real = await io.realpath(wanted).catch((error: unknown) => error as NodeJS.ErrnoException);
    if (typeof real !== 'string') return `File ${shown} cannot be read: ${real.code === 'ENOENT' ? 'it does not exist' : (real.code ?? 'error')}.`;
    if (!realRoots.some((root) => within(root, real))) {
      return `File ${shown} is outside the allowed roots (${realRoots.map((r) => excerpt(r, 120)).join(', ')}), after following links and "..": only files under them can be sent.`;
    }
    const opened = await openChecked(real, realRoots, io);
    if (typeof opened === 'string') return `File ${shown} ${opened}`;
    let bytes: Buffer;
    try {
      const info = await opened.stat();
      if (info.isDirectory()) return `File ${shown} is a directory: name the files in it one by one.`;
      if (!info.isFile()) return `File ${shown} is not a regular file (a device, socket or pipe), so it is not read.`;
      if (info.size > caps.fileMaxBytes) return `File ${shown} has ${info.size} bytes, over the ${caps.fileMaxBytes}-byte limit per file (EZROUTER_FILE_MAX_BYTES).`;
      if (total + info.size > caps.filesMaxBytes) return `File ${shown} would bring the files to ${total + info.size} bytes, over the ${caps.filesMaxBytes}-byte limit per call (EZROUTER_FILES_MAX_BYTES).`;
      bytes = await readAtMost(opened, caps.fileMaxBytes + 1);
    } finally {
      await opened.close();
    }
    if (bytes.length > caps.fileMaxBytes) return `File ${shown} grew past the ${caps.fileMaxBytes}-byte limit per file while it was read.`;
    if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return `File ${shown} is a binary file: only text files can be sent.`;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return `File ${shown} is not UTF-8 text (a binary file, or another encoding): only UTF-8 text files can be sent.`;
    }
    total += bytes.length;
    files.push({ path, text });
  }
  return files;
}

/** The files as fenced blocks labelled with their paths, to append to the last user message. */
export function fileBlocks(files: readonly ReadFile[]): string {
  return files
    .map(({ path, text }) => {
      const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
      const fence = '`'.repeat(longest + 1);
      return `File: ${path}\n${fence}\n${text}${text.endsWith('\n') ? '' : '\n'}${fence}`;
    })
    .join('\n\n');
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Opens the checked path and checks the opened file: where it really is (the fd's path on Linux;
 * elsewhere, the path must still resolve to itself and name the same file), inside a root.
 * Resolves with the open handle, or with why the file is refused (a sentence after its name).
 */
async function openChecked(real: string, realRoots: readonly string[], io: FileIo): Promise<FileHandle | string> {
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'was replaced by a link while it was checked, so it is not read.';
    return `cannot be read: ${code === 'ENOENT' ? 'it does not exist' : (code ?? 'error')}.`;
  }
  try {
    const where = await openedPath(handle, real, io);
    if (where !== undefined && realRoots.some((root) => within(root, where))) return handle;
  } catch {
    // Not knowable: refused below.
  }
  await handle.close();
  return 'changed while it was checked (it no longer leads inside the allowed roots), so it is not read.';
}

/** The real path of an open file, or undefined when it cannot be tied to `checked`. */
async function openedPath(handle: FileHandle, checked: string, io: FileIo): Promise<string | undefined> {
  if (process.platform === 'linux') return realpath(`/proc/self/fd/${handle.fd}`);
  // No fd paths: the checked path must still resolve to itself and be the opened file.
  if ((await io.realpath(checked)) !== checked) return undefined;
  const [opened, named] = await Promise.all([handle.stat(), stat(checked)]);
  return opened.dev === named.dev && opened.ino === named.ino ? checked : undefined;
}

async function readAtMost(handle: FileHandle, max: number): Promise<Buffer> {
  const buffer = Buffer.alloc(max);
  let length = 0;
  while (length < max) {
    const { bytesRead } = await handle.read(buffer, length, max - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}
