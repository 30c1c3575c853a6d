/**
 * Savepoint files: a checkpoint taken on demand and kept, self-contained, so a changed pipeline
 * can start from it. One file per savepoint, `<dataDir>/savepoints/<app>/<id>.savepoint`,
 * written to a temporary name, fsynced and renamed, so a savepoint either exists whole or not.
 *
 *   "SLSP1\n"
 *   frame*: u32 length | u32 crc32c(payload) | payload (msgpack, structured clone)
 *     first:  { app, id, createdAt, snapshot }      (snapshot: the job snapshot, JSON text)
 *     then:   { scope, entries: [id, value][] }     (durable tables, up to 10,000 entries a frame)
 *     last:   { end: true, entries: total }
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { Packr } from 'msgpackr';
import { fromUtf8, SluiceError, utf8 } from '../core/index.ts';
import { decodeSnapshot, encodeSnapshot, type JobSnapshot } from './snapshot.ts';

const MAGIC = utf8('SLSP1\n');
const FRAME_ENTRIES = 10_000;
const packr = new Packr({ structuredClone: true });

export interface SavepointHeader {
  app: string;
  id: string;
  createdAt: number;
}

export interface Savepoint extends SavepointHeader {
  snapshot: JobSnapshot;
  /** Durable tables (lmdb state), a frame at a time; memory state lives inside the operator snapshots. */
  tables(): Iterable<{ scope: string; entries: [unknown, unknown][] }>;
}

export function savepointDir(dataDir: string, app: string): string {
  return join(dataDir, 'savepoints', app);
}

/** Writes a savepoint of `snapshot` plus the given durable tables; returns its id. */
export function writeSavepoint(dataDir: string, app: string, snapshot: JobSnapshot, tables: Iterable<[scope: string, entries: Iterable<[unknown, unknown]>]>, now: number): string {
  const dir = savepointDir(dataDir, app);
  mkdirSync(dir, { recursive: true });
  const id = `sp-${now}-${snapshot.id}`;
  const temporary = join(dir, `.${id}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, MAGIC);
    const frame = (payload: unknown): void => {
      const bytes = packr.pack(payload);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(bytes.length, 0);
      head.writeUInt32BE(crc32c(bytes), 4);
      writeSync(fd, head);
      writeSync(fd, bytes);
    };
    frame({ app, id, createdAt: now, snapshot: fromUtf8(encodeSnapshot(snapshot)) });
    let total = 0;
    for (const [scope, entries] of tables) {
      let chunk: [unknown, unknown][] = [];
      for (const entry of entries) {
        chunk.push(entry);
        if (chunk.length === FRAME_ENTRIES) {
          frame({ scope, entries: chunk });
          total += chunk.length;
          chunk = [];
        }
      }
      if (chunk.length > 0) frame({ scope, entries: chunk });
      total += chunk.length;
    }
    frame({ end: true, entries: total });
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, join(dir, `${id}.savepoint`));
  const dirFd = openSync(dir, 'r');
  fsyncSync(dirFd);
  closeSync(dirFd);
  return id;
}

/**
 * Opens savepoint `id` of `app`: checks every frame's checksum and that the file is complete
 * (one streaming pass), then reads its header. Its tables are read frame by frame, so a
 * savepoint larger than memory can be restored.
 */
export function readSavepoint(dataDir: string, app: string, id: string): Savepoint {
  const path = join(savepointDir(dataDir, app), `${id}.savepoint`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    const known = listSavepoints(dataDir, app);
    throw new SluiceError('INVALID_ARGUMENT', `app '${app}' has no savepoint '${id}'${known.length ? `; it has: ${known.join(', ')}` : `; take one with \`sluice savepoint create ${app}\` while it runs`}`, { cause });
  }
  const corrupt = (what: string) => new SluiceError('CHECKPOINT_CORRUPT', `savepoint '${id}' of '${app}' (${path}) is damaged: ${what}; take a new savepoint or use another one`);
  try {
    const magic = Buffer.alloc(MAGIC.length);
    if (readSync(fd, magic, 0, magic.length, 0) !== magic.length || !magic.equals(MAGIC)) throw corrupt('it does not start like a savepoint');
    let head: { app: string; id: string; createdAt: number; snapshot: string } | undefined;
    let total = 0;
    let last: { end?: boolean; entries?: number } | undefined;
    for (const { payload, position } of frames(fd, corrupt)) {
      const frame = packr.unpack(payload) as { scope?: string; entries?: unknown; end?: boolean };
      if (head === undefined) head = frame as unknown as typeof head;
      else if (frame.end === true) last = frame as typeof last;
      else if (last !== undefined) throw corrupt(`a frame follows the end frame at byte ${position}`);
      else total += (frame.entries as unknown[]).length;
    }
    if (head === undefined || last?.end !== true) throw corrupt('it ends before its last frame');
    if (total !== last.entries) throw corrupt(`it holds ${total} state entries where its end frame says ${last.entries}`);
    const snapshot = decodeSnapshot(utf8(head.snapshot));
    return {
      app: head.app,
      id: head.id,
      createdAt: head.createdAt,
      snapshot,
      *tables() {
        const again = openSync(path, 'r');
        try {
          let first = true;
          for (const { payload } of frames(again, corrupt)) {
            if (first) {
              first = false;
              continue;
            }
            const frame = packr.unpack(payload) as { scope?: string; entries?: [unknown, unknown][] };
            if (frame.scope !== undefined && frame.entries !== undefined) yield { scope: frame.scope, entries: frame.entries };
          }
        } finally {
          closeSync(again);
        }
      },
    };
  } finally {
    closeSync(fd);
  }
}

/** The frames of a savepoint file after its magic, each checked against its checksum. */
function* frames(fd: number, corrupt: (what: string) => Error): Generator<{ payload: Buffer; position: number }> {
  const head = Buffer.alloc(8);
  const size = fstatSync(fd).size;
  for (let position = MAGIC.length; ; ) {
    const got = readSync(fd, head, 0, 8, position);
    if (got === 0) return;
    if (got < 8) throw corrupt(`a frame header is cut off at byte ${position}`);
    const length = head.readUInt32BE(0);
    // A damaged length (up to 4 GiB) must not be allocated or read: the file says how much can follow.
    if (length > size - position - 8) throw corrupt(`the frame at byte ${position} says ${length} bytes, past the end of the file`);
    const payload = Buffer.alloc(length);
    if (readSync(fd, payload, 0, length, position + 8) !== length || crc32c(payload) !== head.readUInt32BE(4)) throw corrupt(`the frame at byte ${position} fails its checksum`);
    yield { payload, position };
    position += 8 + length;
  }
}

/** When savepoint `id` was taken (epoch ms): ids are `sp-<ms>-<checkpoint id>`. */
export function savepointTime(id: string): number {
  return Number(id.split('-')[1]);
}

/** The savepoint ids of `app`, oldest first. */
export function listSavepoints(dataDir: string, app: string): string[] {
  try {
    return readdirSync(savepointDir(dataDir, app))
      .filter((name) => name.endsWith('.savepoint'))
      .map((name) => name.slice(0, -'.savepoint'.length))
      .sort((a, b) => savepointTime(a) - savepointTime(b));
  } catch {
    return [];
  }
}
