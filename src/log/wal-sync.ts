/**
 * Group commit of the metadata: appends commit their new end with `synchronous=NORMAL` (SQLite
 * writes the WAL but does not sync it), and before they are acknowledged one fdatasync of the
 * WAL file makes every commit written so far durable. Requests made together (in one turn of
 * the event loop's microtasks: the groups of several partitions) share one sync; a request made
 * while a sync is in flight starts another at once rather than queueing behind it (the kernel
 * runs them side by side), so an acknowledgement waits for one sync, not two.
 *
 * The WAL file's descriptor is opened at the first sync and kept until the metadata connection
 * closes: SQLite deletes (or replaces) the WAL only when the last connection to the database
 * closes, and this process's connection is open all that time, so the descriptor names the WAL
 * in use. (Opening it per sync cost two more trips through libuv's thread pool, which queue
 * behind the segment syncs in flight there.)
 *
 * Each completed sync is published on the diagnostics channel `sluice:log:wal-synced` with the
 * WAL's size when the sync started (everything before it is durable), for crash tests.
 */
import { channel } from 'node:diagnostics_channel';
import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';

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
  private fd: number | undefined;
  /** Syncs in flight: the descriptor is closed once they finish. */
  private syncing = 0;
  private closed = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Resolves once everything committed to the metadata before this call is on disk. */
  sync(): Promise<void> {
    this.next ??= new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
      this.next = undefined;
      return this.syncNow();
    });
    return this.next;
  }

  /** Closes the descriptor once the syncs in flight finish; call before closing the connection. */
  close(): void {
    this.closed = true;
    this.releaseWhenIdle();
  }

  private syncNow(): Promise<void> {
    // After close (no append is expected then), each sync opens the WAL for itself.
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch (error) {
        // No WAL: nothing was committed through it yet, or it was checkpointed away.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve();
        throw error;
      }
    }
    const fd = this.fd;
    const bytes = walSynced.hasSubscribers ? fstatSync(fd).size : 0;
    this.syncing++;
    return new Promise<void>((resolve, reject) => {
      fdatasync(fd, (error) => {
        this.syncing--;
        this.releaseWhenIdle();
        if (error) return reject(error);
        if (walSynced.hasSubscribers) walSynced.publish({ path: this.path, bytes } satisfies WalSyncedMessage);
        resolve();
      });
    });
  }

  private releaseWhenIdle(): void {
    if (!this.closed || this.syncing > 0 || this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
