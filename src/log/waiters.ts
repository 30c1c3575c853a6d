/**
 * Readers waiting for new data, without polling in a loop. Appends in this process wake them
 * directly; appends by other processes commit to the metadata environment, whose directory is
 * watched (inotify) while anyone waits.
 */
import { type FSWatcher, watch } from 'node:fs';

interface Waiter {
  ready: () => boolean;
  resolve: (arrived: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

export class Waiters {
  private readonly waiting = new Set<Waiter>();
  private watcher: FSWatcher | undefined;
  private readonly watchDir: string;

  constructor(watchDir: string) {
    this.watchDir = watchDir;
  }

  /** Resolves true once `ready()` holds, false after `timeoutMs`. */
  wait(ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = { ready, resolve, timer: undefined };
      const finish = (arrived: boolean) => {
        if (!this.waiting.delete(waiter)) return;
        clearTimeout(waiter.timer);
        clearInterval(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.waiting.size === 0) this.stopWatching();
        resolve(arrived);
      };
      const onAbort = () => finish(false);
      waiter.resolve = finish;
      // An endless wait still holds a timer: the watcher alone does not keep the process alive.
      waiter.timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => finish(false), Math.max(0, timeoutMs))
        : setInterval(() => undefined, 1 << 30);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(waiter);
      this.startWatching();
    });
  }

  /** Something changed: wake every waiter whose condition now holds. */
  notify(): void {
    for (const waiter of [...this.waiting]) {
      let ready = false;
      try {
        ready = waiter.ready();
      } catch {
        ready = true; // let the reader see the error on its next read
      }
      if (ready) waiter.resolve(true);
    }
  }

  private recheck: NodeJS.Timeout | undefined;

  private startWatching(): void {
    if (this.watcher) return;
    // The last file event can come before the other process's commit is visible (SQLite publishes
    // it through shared memory, which raises no event): look again a few times after it.
    this.watcher = watch(this.watchDir, { persistent: false }, () => {
      this.notify();
      clearTimeout(this.recheck);
      const later = (delays: number[]) => {
        if (delays.length === 0 || this.waiting.size === 0) return;
        this.recheck = setTimeout(() => {
          this.notify();
          later(delays.slice(1));
        }, delays[0]);
      };
      later([5, 20, 80, 300]);
    });
    this.watcher.on('error', () => this.stopWatching());
  }

  private stopWatching(): void {
    clearTimeout(this.recheck);
    this.recheck = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  close(): void {
    for (const waiter of [...this.waiting]) waiter.resolve(false);
    this.stopWatching();
  }
}
