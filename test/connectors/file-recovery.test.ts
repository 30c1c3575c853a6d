// The file sinks' recovery, hook by hook, at every point a crash can leave them: what a checkpoint
// wrote becomes visible exactly when that checkpoint is the last committed one, and nothing of a
// later checkpoint survives (it is written again from the input).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Sink } from '../../src/index.ts';
import { sinks } from '../../src/index.ts';
import { duckdb, withTemp } from './helpers.ts';

const context = { app: 'recovery', name: 'sink', guarantee: 'exactly-once' as const, clock: () => 0, warn: () => {} };
const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, name: `r${from + i}` }));

async function opened(sink: Sink, last: number): Promise<Sink> {
  await sink.open(context);
  await sink.recover(last);
  return sink;
}

void test('parquet parts: a part rolled by an uncommitted checkpoint is deleted; by a committed one whose rename was cut short, renamed', async () => {
  await withTemp('parquet-recovery', async (dir) => {
    const path = join(dir, 'out');
    const make = () => sinks.parquet({ path, rollEvery: '10s' });
    let sink = await opened(make(), 0);
    // Checkpoints 1 and 2 stage rows in the open part (not due yet); 3 rolls it (10 s later).
    await sink.write({ checkpoint: 1, records: rows(0, 3), final: false, now: 1000 });
    await sink.commit(1);
    await sink.write({ checkpoint: 2, records: rows(3, 2), final: false, now: 2000 });
    await sink.commit(2);
    await sink.write({ checkpoint: 3, records: rows(5, 1), final: false, now: 11_000 });
    const visible = () => readdirSync(path).filter((f) => f.endsWith('.parquet'));
    assert.deepEqual(visible(), [], 'nothing visible before checkpoint 3 commits');

    // Crash before the log committed checkpoint 3: its part is dropped, the staged rows of 1 and 2 stay.
    sink = await opened(make(), 2);
    assert.deepEqual(readdirSync(path).filter((f) => f.includes('pending')), []);
    await sink.write({ checkpoint: 3, records: rows(5, 1), final: true, now: 12_000 });
    // Crash after the log committed checkpoint 3, before the rename: recovery renames it.
    sink = await opened(make(), 3);
    assert.deepEqual(visible(), ['part-000001.parquet']);
    const read = await duckdb(`SELECT id FROM read_parquet('${path}/*.parquet') ORDER BY id`);
    assert.deepEqual(read.map((r) => Number(r.id)), [0, 1, 2, 3, 4, 5], 'the part holds checkpoints 1-3 once each');
    assert.ok(!readdirSync(path).some((f) => f.endsWith('.staging')), 'the rolled part left no staging file');

    // A staged frame of an uncommitted checkpoint is cut off; the next part continues the numbering.
    await sink.write({ checkpoint: 4, records: rows(6, 2), final: false, now: 13_000 });
    await sink.write({ checkpoint: 5, records: rows(8, 2), final: false, now: 14_000 });
    sink = await opened(make(), 4);
    await sink.write({ checkpoint: 5, records: rows(10, 1), final: true, now: 15_000 });
    await sink.commit(5);
    const all = await duckdb(`SELECT id FROM read_parquet('${path}/**/*.parquet') ORDER BY id`);
    assert.deepEqual(all.map((r) => Number(r.id)), [0, 1, 2, 3, 4, 5, 6, 7, 10]);
    assert.deepEqual(visible(), ['part-000001.parquet', 'part-000002.parquet']);
  });
});

void test("parquet parts: a crash between a part's rename and the removal of its staging file neither reopens nor overwrites the part", async () => {
  await withTemp('parquet-staging-left', async (dir) => {
    const path = join(dir, 'out');
    const make = () => sinks.parquet({ path, rollEvery: '10s' });
    let sink = await opened(make(), 0);
    await sink.write({ checkpoint: 1, records: rows(0, 3), final: false, now: 1000 });
    await sink.commit(1);
    const staging = readdirSync(path).find((f) => f.endsWith('.staging'))!;
    const staged = readFileSync(join(path, staging));
    // Checkpoint 2 rolls the part with one more row and commits; the process dies right after the
    // rename, before the staging file is removed (put back here as it was).
    await sink.write({ checkpoint: 2, records: rows(3, 1), final: false, now: 11_000 });
    await sink.commit(2);
    writeFileSync(join(path, staging), staged);
    sink = await opened(make(), 2);
    assert.ok(!readdirSync(path).some((f) => f.endsWith('.staging')), 'the left-over staging file is removed');
    await sink.write({ checkpoint: 3, records: rows(4, 2), final: true, now: 12_000 });
    await sink.commit(3);
    const all = await duckdb(`SELECT id FROM read_parquet('${path}/*.parquet') ORDER BY id`);
    assert.deepEqual(all.map((r) => Number(r.id)), [0, 1, 2, 3, 4, 5], 'every row once: the committed part is neither reopened nor overwritten');
    assert.deepEqual(readdirSync(path).filter((f) => f.endsWith('.parquet')), ['part-000001.parquet', 'part-000002.parquet']);
  });
});

void test('one JSONL file: chunks of committed checkpoints are appended once, a torn append is cut back, later chunks are dropped', async () => {
  await withTemp('jsonl-recovery', async (dir) => {
    const path = join(dir, 'alerts.jsonl');
    const make = () => sinks.file({ path });
    let sink = await opened(make(), 0);
    await sink.write({ checkpoint: 1, records: rows(0, 2), final: false, now: 0 });
    await sink.commit(1);
    await sink.write({ checkpoint: 2, records: rows(2, 2), final: false, now: 0 });
    assert.equal(readFileSync(path, 'utf8').split('\n').length - 1, 2, 'checkpoint 2 is not visible before its commit');
    // The log committed checkpoint 2 and the process died before appending: recovery appends it, once.
    sink = await opened(make(), 2);
    sink = await opened(make(), 2);
    const ids = () => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).id);
    assert.deepEqual(ids(), [0, 1, 2, 3]);
    // Checkpoint 3 written but not committed: dropped, and the file stays as it was.
    await sink.write({ checkpoint: 3, records: rows(4, 1), final: false, now: 0 });
    sink = await opened(make(), 2);
    assert.deepEqual(ids(), [0, 1, 2, 3]);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('chunk')), []);
    // A torn append (bytes past the manifest's length) is cut back on recovery.
    const { appendFileSync } = await import('node:fs');
    appendFileSync(path, '{"id":99,"na');
    sink = await opened(make(), 2);
    assert.deepEqual(ids(), [0, 1, 2, 3]);
    assert.ok(existsSync(join(dir, '.alerts.jsonl.manifest')));
    await sink.close();
  });
});
