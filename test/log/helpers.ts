import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { unpack } from 'msgpackr';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { Log, type LogOptions } from '../../src/log/index.ts';

/** A fresh data directory, removed after `body`. */
export async function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-log-'));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A log in a fresh directory, closed and removed after `body`. */
export function withLog<T>(body: (log: Log, dir: string) => Promise<T>, options: LogOptions = {}): Promise<T> {
  return withDir(async (dir) => {
    const log = await Log.open(dir, { maintenanceIntervalMs: 0, ...options });
    try {
      return await body(log, dir);
    } finally {
      await log.close();
    }
  });
}

export function record(value: string, key: string | null = null, timestamp = 0) {
  return { key: key === null ? null : utf8(key), value: utf8(value), timestamp };
}

export function values(records: Array<{ value: Uint8Array | null }>): Array<string | null> {
  return records.map((r) => (r.value === null ? null : fromUtf8(r.value)));
}

/** Every record of a partition from its start, in order. */
export function readAll(log: Log, topic: string, partition: number, isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted') {
  const records = [];
  for (let offset = log.startOffset(topic, partition); ; ) {
    const page = log.read(topic, partition, offset, { isolation });
    records.push(...page.records);
    if (page.nextOffset === offset) break;
    offset = page.nextOffset;
  }
  return records;
}

/**
 * A power loss keeps of the metadata's WAL only what was synced. The log publishes each sync it
 * makes on `sluice:log:wal-synced`; SQLite itself syncs the WAL on commits made with
 * synchronous=FULL (topic creation). This copies the data directory as a power loss would leave
 * it: the WAL cut to the longest synced length seen, no shared-memory file.
 */
export function powerLossCopy(dir: string, into: string, syncedWalBytes: number): void {
  mkdirSync(join(into, 'meta'), { recursive: true });
  copyFileSync(join(dir, 'meta', 'meta.sqlite'), join(into, 'meta', 'meta.sqlite'));
  const wal = join(dir, 'meta', 'meta.sqlite-wal');
  if (existsSync(wal)) {
    copyFileSync(wal, join(into, 'meta', 'meta.sqlite-wal'));
    truncateSync(join(into, 'meta', 'meta.sqlite-wal'), Math.min(syncedWalBytes, statSync(wal).size));
  }
  cpSync(join(dir, 'topics'), join(into, 'topics'), { recursive: true });
}


/** The committed next offset of a partition, read straight from a metadata file (no recovery). */
export function committedNext(metaDir: string, topic: string, partition = 0): number {
  const db = new DatabaseSync(join(metaDir, 'meta.sqlite'));
  try {
    const row = db.prepare('SELECT v FROM kv WHERE k = ?').get(JSON.stringify(['part', topic, partition])) as { v: Uint8Array } | undefined;
    assert.ok(row, 'the partition is in the metadata');
    return (unpack(row.v) as { next: number }).next;
  } finally {
    db.close();
  }
}

/**
 * How much of the metadata WAL at `walPath` is durable, as the log reports its syncs on
 * `sluice:log:wal-synced`, from now until `stop()`; `synced()` marks its whole current length
 * durable (after a commit with synchronous=FULL, such as a topic's creation).
 */
export function watchWalSyncs(walPath: string): { readonly bytes: number; synced(): void; stop(): void } {
  let bytes = 0;
  const onSynced = (message: unknown) => {
    const synced = message as { path: string; bytes: number };
    if (synced.path === walPath) bytes = Math.max(bytes, synced.bytes);
  };
  subscribe('sluice:log:wal-synced', onSynced);
  return {
    get bytes() {
      return bytes;
    },
    synced: () => {
      bytes = Math.max(bytes, statSync(walPath).size);
    },
    stop: () => unsubscribe('sluice:log:wal-synced', onSynced),
  };
}
