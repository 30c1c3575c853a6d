// A source partition reads ahead: one log read serves several rounds, and what it returns is
// what reading the log a round at a time returns (the same records in order, gaps of aborted
// transactions skipped, each next offset past the round's records and not past the next
// round's, the same end); moving the position (a restore) drops what was read ahead. On the embedded log, with a repartition-sized batch (one transaction's records).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FetchedRecord, LogBackend } from '../../src/backend/index.ts';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { SourcePartition } from '../../src/runtime/source.ts';

const time = { watermark: { kind: 'bounded-out-of-orderness' as const, boundMs: 0 } };

/** The backend, counting its fetches. */
function counting(backend: LogBackend): { backend: LogBackend; fetches: () => number } {
  let fetches = 0;
  const counted = Object.create(backend) as LogBackend;
  counted.fetch = (...args) => {
    fetches++;
    return backend.fetch(...args);
  };
  return { backend: counted, fetches: () => fetches };
}

/** Every committed record from `offset`, one backend fetch of `size` at a time, as rounds read without read-ahead. */
async function straight(backend: LogBackend, offset: number, size: number): Promise<{ offsets: number[]; nexts: number[] }> {
  const offsets: number[] = [];
  const nexts: number[] = [];
  for (;;) {
    const { records, nextOffset } = await backend.fetch('t', 0, offset, size);
    if (records.length === 0) return { offsets, nexts };
    for (const r of records) offsets.push(r.offset);
    nexts.push(nextOffset);
    offset = nextOffset;
  }
}

async function throughSource(source: SourcePartition, backend: LogBackend, size: number): Promise<{ offsets: number[]; nexts: number[]; values: unknown[] }> {
  const offsets: number[] = [];
  const nexts: number[] = [];
  const values: unknown[] = [];
  for (;;) {
    const { records, nextOffset } = await source.fetch(backend, size);
    if (records.length === 0) return { offsets, nexts, values };
    assert.ok(records.length <= size, `a round of ${records.length} records, asked for ${size}`);
    assert.ok(records[0].offset >= source.offset, 'a round starts at the position or past it');
    assert.ok(nextOffset > records[records.length - 1].offset, 'the next offset is past the round');
    for (const r of records as FetchedRecord[]) {
      offsets.push(r.offset);
      values.push(jsonCodec.decode(r.value!));
    }
    nexts.push(nextOffset);
    source.offset = nextOffset;
  }
}

void test('source read-ahead: the same records and positions as reading a round at a time, in fewer log reads; a restore drops it', async () => {
  const dir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'read-ahead-'));
  const log = await EmbeddedBackend.open(dir);
  try {
    await log.ensureTopic('t', 1);
    const writer = await log.openWriter({ transactionalId: 'w' });
    let n = 0;
    const batch = (count: number) => Array.from({ length: count }, () => ({ key: null, value: jsonCodec.encode({ n: n++ }), timestamp: n, partition: 0 }));
    // Large transactions (one batch each), an aborted one between them: a gap read_committed skips.
    for (const [count, commit] of [[25_000, true], [3_000, false], [20_000, true], [7, true]] as const) {
      await writer.beginTransaction();
      await writer.send('t', batch(count));
      await (commit ? writer.commitTransaction() : writer.abortTransaction());
    }
    await writer.close();
    const expected = await straight(log, 0, 1000);
    assert.equal(expected.offsets.length, 45_007);

    const { backend, fetches } = counting(log);
    const source = new SourcePartition('t', 0, 0, time, jsonCodec, 'source-t', () => assert.fail('no decode error expected'));
    const read = await throughSource(source, backend, 1000);
    assert.deepEqual(read.offsets, expected.offsets, 'the same records');
    assert.equal(read.nexts.at(-1), expected.nexts.at(-1), 'the same end');
    assert.ok(read.nexts.length <= expected.nexts.length + 2, `${read.nexts.length} rounds, ${expected.nexts.length} without read-ahead`);
    assert.deepEqual(read.values.slice(24_999, 25_001), [{ n: 24_999 }, { n: 28_000 }], 'the aborted records are not read');
    assert.ok(fetches() < read.nexts.length / 4, `${fetches()} log reads for ${read.nexts.length} rounds`);

    // A restore moves the position back: the source reads from there, not from what it read ahead.
    const again = new SourcePartition('t', 0, 0, time, jsonCodec, 'source-t', () => assert.fail('no decode error expected'));
    await again.fetch(backend, 1000);
    again.offset = 10;
    const first = await again.fetch(backend, 3);
    assert.deepEqual(first.records.map((r) => r.offset), [10, 11, 12]);
    assert.equal(first.nextOffset, 13);
    again.offset = 30_000;
    const later = await again.fetch(backend, 2);
    assert.deepEqual(later.records.map((r) => r.offset), [30_000, 30_001]);
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
});
