/**
 * Group commit of the metadata: appends commit their new end with `synchronous=NORMAL` (SQLite
 * writes the WAL but does not sync it), and before they are acknowledged one fdatasync of the
 * WAL file makes every commit written so far durable. Requests made together (in one turn of
 * the event loop's microtasks: the groups of several partitions) share one sync; a request made
 * while a sync is in flight starts another at once rather than queueing behind it (the kernel
 * runs them side by side), so an acknowledgement waits for one sync, not two.
 *
 * The WAL file is opened for each sync: SQLite deletes it when the last connection closes
 * (after checkpointing it into the database file, synced) and another process may create a new
 * one, so a descriptor kept open could point at a file no longer in use.
 *
 * Each completed sync is published on the diagnostics channel `sluice:log:wal-synced` with the
 * WAL's size when the sync started (everything before it is durable), for crash tests.
 */
import { channel } from 'node:diagnostics_channel';
import { close, fdatasync, fstat, open } from 'node:fs';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const fdatasyncAsync = promisify(fdatasync);
const closeAsync = promisify(close);

export const walSynced = channel('sluice:log:wal-synced');

export interface WalSyncedMessage {
  path: string;
  /** Bytes of the WAL known durable by this sync. */
  bytes: number;
}

export class WalSync {
  readonly path: string;
  /** The sync about to start, shared by every request made before it starts. */
  private next: Promise<void> | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** Resolves once everything committed to the metadata before this call is on disk. */
  sync(): Promise<void> {
    this.next ??= new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
      this.next = undefined;
      return syncFile(this.path);
    });
    return this.next;
  }
}

async function syncFile(path: string): Promise<void> {
  let fd: number;
  try {
    fd = await openAsync(path, 'r');
  } catch (error) {
    // No WAL: the last connection closed and checkpointed it into the database file, synced.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const bytes = walSynced.hasSubscribers ? (await fstatAsync(fd)).size : 0;
    await fdatasyncAsync(fd);
    if (walSynced.hasSubscribers) walSynced.publish({ path, bytes } satisfies WalSyncedMessage);
  } finally {
    await closeAsync(fd);
  }
}
