/**
 * The staging file of a rolling part: the records of each checkpoint the part spans, appended
 * and fsynced at that checkpoint's `write`, so a part that is still open survives a crash. It is
 * hidden (a leading dot) and has no output suffix; the part's visible file is encoded from it when
 * the part rolls.
 *
 * Format: frames, each `[u32 length][u32 crc32c][msgpack { c: checkpoint id, r: records }]`, big
 * endian, the CRC over the msgpack bytes. A torn or corrupt tail frame (a crash mid-append) ends
 * the file: it is cut off on recovery, as are frames of checkpoints that did not commit.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, statSync } from 'node:fs';
import { crc32c } from '@node-rs/crc32';
import { pack, unpack } from 'msgpackr';
import { writeAll } from './durable.ts';

interface Frame {
  checkpoint: number;
  records: unknown[];
  /** Byte offset just past the frame. */
  end: number;
}

/** Appends one checkpoint's records as a frame and fsyncs; returns the file's length before it. */
export function appendFrame(file: string, checkpoint: number, records: readonly unknown[]): number {
  const body = pack({ c: checkpoint, r: records });
  const head = new Uint8Array(8);
  const view = new DataView(head.buffer);
  view.setUint32(0, body.length);
  view.setUint32(4, crc32c(body));
  const fd = openSync(file, 'a');
  try {
    const before = statSync(file).size;
    writeAll(fd, head, null);
    writeAll(fd, body, null);
    fsyncSync(fd);
    return before;
  } finally {
    closeSync(fd);
  }
}

/** Reads the frames up to the first torn or corrupt one. */
function readFrames(file: string): Frame[] {
  const bytes = readFileSync(file);
  const frames: Frame[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
    const length = view.getUint32(0);
    const crc = view.getUint32(4);
    if (at + 8 + length > bytes.length) break;
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (crc32c(body) !== crc) break;
    const frame = unpack(body) as { c: number; r: unknown[] };
    at += 8 + length;
    frames.push({ checkpoint: frame.c, records: frame.r, end: at });
  }
  return frames;
}

/**
 * Keeps the frames of checkpoints up to `last` (cutting off later ones and any torn tail) and
 * returns their records in order.
 */
export function recoverFrames(file: string, last: number): unknown[] {
  if (!existsSync(file)) return [];
  const frames = readFrames(file);
  let keep = 0;
  const records: unknown[] = [];
  for (const frame of frames) {
    if (frame.checkpoint > last) break;
    keep = frame.end;
    for (const r of frame.records) records.push(r);
  }
  truncateDurable(file, keep);
  return records;
}

/** Cuts a file to `length` and fsyncs it. */
export function truncateDurable(file: string, length: number): void {
  if (!existsSync(file) || statSync(file).size === length) return;
  const fd = openSync(file, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
