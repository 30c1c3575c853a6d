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
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
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
  /** Durable tables by scope (lmdb state); memory state lives inside the operator snapshots. */
  tables: Map<string, [unknown, unknown][]>;
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

/** Reads savepoint `id` of `app` whole, checking every frame. */
export function readSavepoint(dataDir: string, app: string, id: string): Savepoint {
  const path = join(savepointDir(dataDir, app), `${id}.savepoint`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    const known = listSavepoints(dataDir, app);
    throw new SluiceError('INVALID_ARGUMENT', `app '${app}' has no savepoint '${id}'${known.length ? `; it has: ${known.join(', ')}` : '; take one with `sluice savepoint create ' + app + '` while it runs'}`, { cause });
  }
  const corrupt = (what: string) => new SluiceError('CHECKPOINT_CORRUPT', `savepoint '${id}' of '${app}' (${path}) is damaged: ${what}; take a new savepoint or use another one`);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt('it does not start like a savepoint');
  let position = MAGIC.length;
  const frames: any[] = [];
  while (position < bytes.length) {
    if (position + 8 > bytes.length) throw corrupt(`a frame header is cut off at byte ${position}`);
    const length = bytes.readUInt32BE(position);
    const payload = bytes.subarray(position + 8, position + 8 + length);
    if (payload.length !== length || crc32c(payload) !== bytes.readUInt32BE(position + 4)) throw corrupt(`the frame at byte ${position} fails its checksum`);
    frames.push(packr.unpack(payload));
    position += 8 + length;
  }
  const head = frames[0] as { app: string; id: string; createdAt: number; snapshot: string } | undefined;
  const last = frames.at(-1) as { end?: boolean; entries?: number } | undefined;
  if (head === undefined || last?.end !== true) throw corrupt('it ends before its last frame');
  const tables = new Map<string, [unknown, unknown][]>();
  let total = 0;
  for (const frame of frames.slice(1, -1) as { scope: string; entries: [unknown, unknown][] }[]) {
    const list = tables.get(frame.scope) ?? [];
    for (const entry of frame.entries) list.push(entry);
    tables.set(frame.scope, list);
    total += frame.entries.length;
  }
  if (total !== last.entries) throw corrupt(`it holds ${total} state entries where its end frame says ${last.entries}`);
  return { app: head.app, id: head.id, createdAt: head.createdAt, snapshot: decodeSnapshot(utf8(head.snapshot)), tables };
}

/** The savepoint ids of `app`, oldest first. */
export function listSavepoints(dataDir: string, app: string): string[] {
  try {
    return readdirSync(savepointDir(dataDir, app))
      .filter((name) => name.endsWith('.savepoint'))
      .map((name) => name.slice(0, -'.savepoint'.length))
      .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
  } catch {
    return [];
  }
}
