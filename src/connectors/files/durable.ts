/**
 * Durable file steps for the file sinks: a write is fsynced before its checkpoint commits, and a
 * rename (or a removal) is fsynced in its directory, so after a crash a file is either fully there
 * under its name or not at all.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SluiceError } from '../../core/index.ts';

/** Writes `chunks` as the whole of `file` and fsyncs it (not its directory). */
export function writeDurable(file: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(file, 'w');
  try {
    for (const chunk of chunks) writeAll(fd, chunk, null);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` at `position` of an open file, however many calls it takes. */
export function writeAll(fd: number, bytes: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done, position === null ? null : position + done);
    done += n;
  }
}

/** Fsyncs a directory, so the names created, renamed or removed in it are durable. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames `from` to `to` and makes the rename durable. */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  syncDir(dirname(to));
}

/** Removes a file if it is there (an interrupted step may have removed it already). */
export function removeIfThere(file: string): void {
  rmSync(file, { force: true });
}

/** Creates a sink's directory, with a clear error when it cannot. */
export function ensureDir(dir: string, what: string): void {
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new SluiceError('SINK_FAILED', `${what}: cannot create directory '${dir}': ${(cause as Error).message}`, { cause });
  }
}
