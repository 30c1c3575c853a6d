/**
 * How long a checkpoint blocks processing, at the state layer (LmdbStateBackend, 4 tables as
 * for 4 tasks, values shaped as the process operator stores them): `keys` entries are written
 * and checkpointed once, then each round changes `changed` keys spread over the whole key range
 * (every keys/changed-th id) and takes one checkpoint while a processing loop runs: the loop
 * reads, changes in place and writes back 100 other keys per event-loop turn, as operators do.
 * The loop's blocked time is the gap between one turn's end and the next turn's start; a
 * checkpoint's stall is the largest such gap overlapping it (max), and p99 of them.
 *
 * Two ways, alternating round by round in one process (so both see the same file and cache):
 * `sync`, `checkpoint()` (one transaction on the processing thread: what every checkpoint did
 * before), and `async`, `seal()` at the barrier then `writeCheckpoint()` (values framed in
 * slices, written by lmdb-js's write thread). After each round an unmeasured checkpoint writes
 * what the loop changed, so every round starts alike.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import type { KeyedTable } from '../../src/state/table.ts';
import { report } from './child.ts';

export interface StallCase {
  dir: string;
  keys: number;
  /** Changed keys per checkpoint, one series of rounds per count. */
  changed: number[];
  /** Rounds of each way. */
  rounds: number;
}

export interface StallRound {
  changed: number;
  way: 'sync' | 'async';
  /** From the barrier until the checkpoint was durable. */
  writeMs: number;
  stallMaxMs: number;
  stallP99Ms: number;
  /** Loop turns that ran while the checkpoint was written. */
  turnsDuring: number;
  /** CPU (user + system, every thread) from the barrier until durable. */
  cpuMs: number;
  /** The longest garbage-collection pause while the checkpoint was written (part of a stall, not the checkpoint's own work). */
  gcMaxMs: number;
  /** How much of the longest stall was garbage collection. */
  gcInMaxStallMs: number;
}

export interface StallResult {
  keys: number;
  loadS: number;
  rounds: StallRound[];
}

type Entry = { key: string; values: Map<string, { sum: number; n: number }> };
const TABLES = 4;
const RECORD = new Uint8Array(1024).fill(32);
const PER_TURN = 100;

const c = JSON.parse(process.argv[2]) as StallCase;
const backend = LmdbStateBackend.open(c.dir);
const tables: KeyedTable<Entry>[] = Array.from({ length: TABLES }, (_, t) => backend.table<Entry>(`process/keyed/${t}`));
const put = (i: number, n: number) => {
  const key = `u${i}`;
  tables[i % TABLES].set(key, { key, values: new Map([['avg', { sum: i % 1000, n }]]) });
};

const loadStart = performance.now();
for (let i = 0; i < c.keys; i++) put(i, 1);
backend.checkpoint(RECORD);
const loadS = (performance.now() - loadStart) / 1000;

/** The processing loop: its turns' start and end times, while `running`. */
const turns: { start: number; end: number }[] = [];
let running = false;
let seq = 0;
let wake: (() => void) | undefined;
function turn(): void {
  if (!running) return;
  const start = performance.now();
  for (let j = 0; j < PER_TURN; j++) {
    const i = (seq++ * 7919 + 13) % c.keys;
    const table = tables[i % TABLES];
    const entry = table.get(`u${i}`) ?? { key: `u${i}`, values: new Map([['avg', { sum: 0, n: 0 }]]) };
    const avg = entry.values.get('avg')!;
    avg.sum += 1;
    avg.n += 1;
    table.set(`u${i}`, entry);
  }
  turns.push({ start, end: performance.now() });
  wake?.();
  setImmediate(turn);
}
/** Resolves after `n` more loop turns. */
function afterTurns(n: number): Promise<void> {
  const target = turns.length + n;
  return new Promise((resolve) => {
    wake = () => {
      if (turns.length < target) return;
      wake = undefined;
      resolve();
    };
  });
}

/** Garbage-collection pauses, to tell them apart from the checkpoint's own blocking. */
const pauses: { start: number; end: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) pauses.push({ start: e.startTime, end: e.startTime + e.duration });
}).observe({ entryTypes: ['gc'] });
const overlap = (a: { start: number; end: number }, from: number, to: number) => Math.max(0, Math.min(a.end, to) - Math.max(a.start, from));

const rounds: StallRound[] = [];
let round = 0;
for (const changed of c.changed) for (let r = 0; r < c.rounds * 2; r++, round++) {
  const way = r % 2 === 0 ? 'sync' : 'async';
  const step = Math.max(1, Math.floor(c.keys / changed));
  for (let k = 0, i = round % step; k < changed && i < c.keys; k++, i += step) put(i, 2 + round);
  turns.length = 0;
  pauses.length = 0;
  running = true;
  setImmediate(turn);
  await afterTurns(20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (way === 'sync') {
    backend.checkpoint(RECORD);
  } else {
    backend.seal();
    await backend.writeCheckpoint(RECORD);
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await afterTurns(2);
  running = false;
  // Blocked stretches overlapping the checkpoint: from a turn's end to the next turn's start.
  const gaps: number[] = [];
  let worst = { start: t0, end: t1 };
  for (let t = 1; t < turns.length; t++) {
    if (turns[t].start <= t0 || turns[t - 1].end >= t1) continue;
    const gap = { start: turns[t - 1].end, end: turns[t].start };
    if (gaps.length === 0 || gap.end - gap.start > worst.end - worst.start) worst = gap;
    gaps.push(gap.end - gap.start);
  }
  gaps.sort((a, b) => a - b);
  // The observer reports pauses a little later: one more turn lets them arrive.
  await new Promise<void>((resolve) => setImmediate(resolve));
  rounds.push({
    changed,
    way,
    writeMs: t1 - t0,
    stallMaxMs: gaps.at(-1) ?? t1 - t0,
    stallP99Ms: gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * 0.99))] ?? t1 - t0,
    turnsDuring: turns.filter((x) => x.start > t0 && x.end < t1).length,
    cpuMs: (cpu.user + cpu.system) / 1000,
    gcMaxMs: Math.max(0, ...pauses.map((p) => overlap(p, t0, t1))),
    gcInMaxStallMs: pauses.reduce((sum, p) => sum + overlap(p, worst.start, worst.end), 0),
  });
  backend.checkpoint(RECORD); // the loop's own changes, unmeasured
}
report('done', { keys: c.keys, loadS, rounds } satisfies StallResult);
await backend.close();
