// Checkpoints written in the background (seal at the barrier, writeCheckpoint off the processing
// thread): processing goes on while the write is in flight and what it changes after the barrier
// stays out of that checkpoint; a kill -9 during the write leaves the previous checkpoint, and a
// kill at any moment of a run of background checkpoints leaves state that matches its record.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import type { KeyedTable } from '../../src/state/table.ts';
import { withDir } from '../log/helpers.ts';

type Value = { round: number; n: number };
const KEYS = 40_000;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function tablesOf(backend: LmdbStateBackend, prefix: string): KeyedTable<Value>[] {
  return Array.from({ length: 4 }, (_, t) => backend.table<Value>(`${prefix}/keyed/${t}`));
}

/** Every key's round after a reopen, and the checkpoint record's round. */
async function readBack(dir: string, prefix: string, keys: number): Promise<{ record: number | undefined; rounds: Map<number, number> }> {
  const backend = LmdbStateBackend.open(dir);
  try {
    const tables = tablesOf(backend, prefix);
    const rounds = new Map<number, number>();
    for (let i = 0; i < keys; i++) {
      const round = tables[i % 4].get(`k${i}`)?.round ?? -1;
      rounds.set(round, (rounds.get(round) ?? 0) + 1);
    }
    return { record: backend.lastCheckpoint()?.[0], rounds };
  } finally {
    await backend.close();
  }
}

void test('processing goes on while a checkpoint is written; changes after its barrier are not in it', () =>
  withDir(async (dir) => {
    const backend = LmdbStateBackend.open(dir);
    const tables = tablesOf(backend, 'p');
    for (let i = 0; i < KEYS; i++) tables[i % 4].set(`k${i}`, { round: 1, n: i });
    backend.checkpoint(new Uint8Array([1]));
    for (let i = 0; i < KEYS; i++) {
      const entry = tables[i % 4].get(`k${i}`)!;
      entry.round = 2;
      tables[i % 4].set(`k${i}`, entry);
    }
    tables[0].delete('k0');
    backend.seal();
    assert.equal(backend.pending, 0, 'the barrier took every change so far');
    let durable = false;
    const written = backend.writeCheckpoint(new Uint8Array([2])).then(() => {
      durable = true;
    });
    // While the write is in flight: read, change in place and write back sealed keys, as operators do.
    let turnsDuring = 0;
    let next = 0;
    while (!durable) {
      for (let j = 0; j < 200 && next < KEYS; j++, next++) {
        const table = tables[next % 4];
        const entry = table.get(`k${next}`);
        if (next === 0) {
          assert.equal(entry, undefined, 'the sealed delete is seen');
          table.set('k0', { round: 3, n: 0 });
          continue;
        }
        assert.equal(entry?.round, 2, `k${next} reads its sealed value`);
        entry!.round = 3;
        table.set(`k${next}`, entry!);
      }
      turnsDuring++;
      await turn();
    }
    await written;
    assert.ok(turnsDuring > 1, `processing ran ${turnsDuring} turns while the write was in flight`);
    assert.ok(next > 0 && backend.pending === next, 'the changes after the barrier wait for the next checkpoint');
    assert.equal(tables[1].get('k1')?.round, next > 1 ? 3 : 2, 'a read after the write sees the newest change');
    await backend.close();

    const { record, rounds } = await readBack(dir, 'p', KEYS);
    assert.equal(record, 2);
    assert.deepEqual([...rounds].sort(), [
      [-1, 1],
      [2, KEYS - 1],
    ]);
  }));

/** Spawns the writer fixture; `lines` yields its JSON lines as they come. */
function writer(dir: string, keys: number, mode: 'block' | 'loop'): { child: ChildProcess; lines: AsyncIterator<Record<string, unknown>>; exited: Promise<unknown> } {
  const child = spawn(process.execPath, [new URL('./fixtures/checkpoint-writer.ts', import.meta.url).pathname, dir, String(keys), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = (async function* () {
    for await (const line of createInterface({ input: child.stdout! })) yield JSON.parse(line) as Record<string, unknown>;
  })();
  return { child, lines, exited };
}

async function waitFor(lines: AsyncIterator<Record<string, unknown>>, ok: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const next = await lines.next();
    if (next.done) throw new Error('the writer exited before the line waited for');
    if (ok(next.value)) return next.value;
  }
}

void test('kill -9 while a checkpoint is being written: the restore gets the previous checkpoint', () =>
  withDir(async (dir) => {
    const { child, lines, exited } = writer(dir, KEYS, 'block');
    await waitFor(lines, (l) => l.event === 'writing');
    child.kill('SIGKILL');
    await exited;
    const { record, rounds } = await readBack(dir, 'writer', KEYS);
    assert.equal(record, 1);
    assert.deepEqual([...rounds], [[1, KEYS]]);
  }));

void test('kill -9 at any moment of background checkpoints: state matches its record, none acknowledged is lost', () =>
  withDir(async (dir) => {
    const { child, lines, exited } = writer(dir, KEYS, 'loop');
    // Wait until a few checkpoints were written while the next round was being set.
    let last = await waitFor(lines, (l) => l.event === 'durable' && Number(l.round) >= 4);
    assert.ok(Number(last.overlapped) > 0, 'the next round was set while the write was in flight');
    child.kill('SIGKILL');
    // Lines already printed before the kill still count as acknowledged.
    for (let next = await lines.next(); !next.done; next = await lines.next()) last = next.value;
    await exited;
    const { record, rounds } = await readBack(dir, 'writer', KEYS);
    assert.ok(record !== undefined && record >= Number(last.round), `restored checkpoint ${record}, last acknowledged ${String(last.round)}`);
    assert.deepEqual([...rounds], [[record, KEYS]], 'every key is exactly as of the restored checkpoint');
  }));
