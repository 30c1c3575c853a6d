/**
 * Recovery after kill -9, with the whole pipeline on lmdb state (exactly-once, 1 s checkpoints).
 *
 * A holder process runs the pipeline unbounded while `keys` events with distinct keys are
 * appended (so its state holds `keys` entries), until their offsets are committed; then it
 * keeps processing a trickle of events for existing keys (10,000/s) and gets SIGKILL in the
 * middle of it, so its last checkpoint is up to 1 s old and records after it are left to
 * redo. A few more events are appended, then a new process is spawned on the same data
 * directory, and timed from spawn until its process function has its first record, with the
 * key's state read back from disk. Phases: spawn -> node running -> modules loaded -> job
 * opened (log opened, prepared transaction settled, lmdb opened, checkpoint record read and
 * restored) -> first record processed. The state file stays in the page cache (a process
 * crash, not a machine restart).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../../src/log/index.ts';
import type { AppCase } from './app-worker.ts';
import { startWorker } from './child.ts';
import { PARTITIONS, produceEvents, prng } from './pipeline.ts';

export interface RecoveryResult {
  keys: number;
  /** Seconds to append the events and have the holder commit them all (not a result; setup). */
  buildS: number;
  stateMb: number;
  spawnToNodeMs: number;
  nodeToLoadedMs: number;
  loadedToOpenedMs: number;
  openedToFirstMs: number;
  totalMs: number;
  /** The first record's key had this many earlier events in the restored state (> 0: read from the checkpoint). */
  restoredCount: number;
  /** Peak RSS of the holder (from /proc before the kill; 0 where there is none) and of the recovering process. */
  holderRssMb: number;
  recoveringRssMb: number;
}

export async function measureRecovery(log: Log, dataDir: string, keys: number, say: (line: string) => void): Promise<RecoveryResult> {
  const name = 'recovery';
  const input = `${name}.in`;
  log.createTopic(input, { partitions: PARTITIONS });
  const app: AppCase = { name, dataDir, input, output: `${name}.out`, state: 'lmdb', checkpointInterval: '1s', emitEvery: 100 };
  const holder = startWorker('./app-worker.ts', app);
  await holder.next('ready');
  const started = performance.now();
  // Appending while the holder reads: both cores busy, setup takes half as long.
  await produceEvents(log, input, keys, (i) => `u${i}`);
  say(`  recovery: ${keys.toLocaleString('en')} events appended in ${((performance.now() - started) / 1000).toFixed(0)} s; waiting for the holder to commit them`);
  while (committed(log, name, input) < keys) {
    if (holder.child.exitCode !== null) throw new Error('the holder process exited early');
    await sleep(250);
  }
  const buildS = (performance.now() - started) / 1000;
  const random = prng(7);
  const trickle = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) await produceEvents(log, input, 100, () => `u${Math.floor(random() * keys)}`);
  };
  await trickle(1500);
  const holderRssMb = peakRssOf(holder.child.pid);
  holder.child.kill('SIGKILL');
  await holder.exited;
  await trickle(50);
  const stateMb = Math.round(statSync(join(dataDir, 'state', name, 'state.mdb')).size / 2 ** 20);

  const recovering = startWorker('./app-worker.ts', { ...app, stopAfterFirst: true } satisfies AppCase);
  const ready = await recovering.next<{ startedAt: number; loadedAt: number; readyAt: number }>('ready');
  const first = await recovering.next<{ at: number; restoredCount: number }>('first');
  const done = await recovering.next<{ rssMb: number }>('done');
  return {
    keys,
    buildS,
    stateMb,
    spawnToNodeMs: ready.startedAt - recovering.spawnedAt,
    nodeToLoadedMs: ready.loadedAt - ready.startedAt,
    loadedToOpenedMs: ready.readyAt - ready.loadedAt,
    openedToFirstMs: first.at - ready.readyAt,
    totalMs: first.at - recovering.spawnedAt,
    restoredCount: first.restoredCount,
    holderRssMb,
    recoveringRssMb: done.rssMb,
  };
}

function committed(log: Log, group: string, topic: string): number {
  let sum = 0;
  for (let p = 0; p < PARTITIONS; p++) sum += log.committedOffset(group, topic, p) ?? 0;
  return sum;
}

/** VmHWM of a live process, MB (Linux; 0 elsewhere). */
function peakRssOf(pid: number | undefined): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line === undefined ? 0 : Math.round(Number.parseInt(line.slice(6), 10) / 1024);
  } catch {
    return 0;
  }
}
