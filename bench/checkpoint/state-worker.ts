/**
 * Checkpoint durations at the state layer (LmdbStateBackend, no pipeline): the job caps
 * changed entries per checkpoint at 50,000 (MAX_PENDING_STATE in runtime/checkpointer.ts), so a
 * running pipeline never has a million changed keys in one checkpoint; this drives the
 * backend directly to see what such a checkpoint costs.
 *
 * mode 'measure': `keys` entries shaped as the process operator stores them (`{ key, values:
 * Map { 'avg' => { sum, n } } }`, spread over 4 tables as over 4 tasks, ids written in the
 * order `u0, u1, u2, ...`, which is not LMDB's key order) are set, then one checkpoint writes
 * them all (a); then 1% of them (every 100th key) changes and one checkpoint writes those (b),
 * three times with a different 1%. With `hold`, it then waits to be killed (kill -9).
 * mode 'open': what a restarting process does first: open the backend, read the last
 * checkpoint record and one key of each table.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import type { KeyedTable } from '../../src/state/table.ts';
import { report } from './child.ts';
import { peakRssMb } from './pipeline.ts';

const loadedAt = Date.now();

export interface StateCase {
  mode: 'measure' | 'open';
  dir: string;
  keys: number;
  hold?: boolean;
}

export interface StateResult {
  keys: number;
  setAllMs: number;
  /** (a) the first checkpoint, every key changed. */
  allChangedMs: number;
  /** (b) checkpoints with 1% of the keys changed, each. */
  onePercentMs: number[];
  fileMb: number;
  rssMb: number;
}

export interface OpenResult {
  /** Epoch ms: the process started, its modules were loaded, the backend opened, the checkpoint and first keys read. */
  startedAt: number;
  loadedAt: number;
  openedAt: number;
  checkpointReadAt: number;
  firstKeyAt: number;
  checkpointBytes: number;
  firstKeyFound: boolean;
}

type Entry = { key: string; values: Map<string, { sum: number; n: number }> };
const TABLES = 4;
/** About the size of a job snapshot record of a 4-task pipeline. */
const RECORD = new Uint8Array(1024).fill(32);

const c = JSON.parse(process.argv[2]) as StateCase;
if (c.mode === 'open') open();
else await measure();

async function measure(): Promise<void> {
  const backend = LmdbStateBackend.open(c.dir);
  const tables = Array.from({ length: TABLES }, (_, t) => backend.table<Entry>(`process/keyed/${t}`));
  const put = (tables: KeyedTable<Entry>[], i: number, n: number) => {
    const key = `u${i}`;
    tables[i % TABLES].set(key, { key, values: new Map([['avg', { sum: i % 1000, n }]]) });
  };
  let t0 = performance.now();
  for (let i = 0; i < c.keys; i++) put(tables, i, 1);
  const setAllMs = performance.now() - t0;
  t0 = performance.now();
  backend.checkpoint(RECORD);
  const allChangedMs = performance.now() - t0;
  const onePercentMs: number[] = [];
  for (let round = 1; round <= 3; round++) {
    for (let i = round; i < c.keys; i += 100) put(tables, i, 1 + round);
    t0 = performance.now();
    backend.checkpoint(RECORD);
    onePercentMs.push(performance.now() - t0);
  }
  const result: StateResult = { keys: c.keys, setAllMs, allChangedMs, onePercentMs, fileMb: Math.round(statSync(join(c.dir, 'state.mdb')).size / 2 ** 20), rssMb: peakRssMb() };
  report('done', result);
  if (c.hold) setInterval(() => undefined, 1 << 30); // hold the environment open until kill -9
  else await backend.close();
}

function open(): void {
  const backend = LmdbStateBackend.open(c.dir);
  const openedAt = Date.now();
  const record = backend.lastCheckpoint();
  const checkpointReadAt = Date.now();
  let found = true;
  for (let t = 0; t < TABLES; t++) found &&= backend.table<Entry>(`process/keyed/${t}`).get(`u${t}`)?.values.get('avg') !== undefined;
  const firstKeyAt = Date.now();
  const result: OpenResult = { startedAt: performance.timeOrigin, loadedAt, openedAt, checkpointReadAt, firstKeyAt, checkpointBytes: record?.length ?? 0, firstKeyFound: found };
  report('done', result);
}
