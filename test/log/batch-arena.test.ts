import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { releaseBatchMemory, takeBatchMemory } from '../../src/log/batch-arena.ts';
import { batchCrcValid, encodeBatch, readBatchHeader, setBaseOffset } from '../../src/log/format.ts';
import { withLog } from './helpers.ts';

test('arena memory of a batch not yet released is never handed out again, however many batches come and go around it', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 300_000 }), fc.boolean()), { minLength: 1, maxLength: 200 }), (steps) => {
      const held: Array<{ bytes: Uint8Array; fill: number; chunk: ReturnType<typeof takeBatchMemory>['chunk'] }> = [];
      steps.forEach(([size, keep], i) => {
        const { bytes, chunk } = takeBatchMemory(size);
        assert.equal(bytes.length, size);
        const fill = i % 251;
        bytes.fill(fill);
        if (keep) held.push({ bytes, fill, chunk });
        else releaseBatchMemory(chunk);
      });
      for (const { bytes, fill } of held) assert.ok(bytes.every((b) => b === fill), 'a held batch kept its bytes');
      for (const { chunk } of held) releaseBatchMemory(chunk);
    }),
    { numRuns: 50 },
  );
});

test('a batch encoded into arena memory reads back as the same batch encoded on its own', () => {
  const records = Array.from({ length: 50 }, (_, i) => ({ key: i % 3 === 0 ? null : Uint8Array.of(i), value: new Uint8Array(i * 7).fill(i), timestamp: 1000 + i }));
  let chunk: ReturnType<typeof takeBatchMemory>['chunk'];
  takeBatchMemory(13); // the next batch starts at an odd position inside its chunk
  const carved = encodeBatch(records, 42, {
    allocate: (size) => {
      const memory = takeBatchMemory(size);
      chunk = memory.chunk;
      return memory.bytes;
    },
  });
  assert.ok(chunk !== undefined && carved.byteOffset > 0, 'the batch was carved from a chunk, not at its start');
  assert.deepEqual(Array.from(carved), Array.from(encodeBatch(records, 42)));
  const check = readBatchHeader(carved, 0, carved.length);
  assert.ok(check.ok && check.header.recordCount === 50 && check.header.baseOffset === 42);
  releaseBatchMemory(chunk);
});

test('many concurrent appends of random sizes, cycling the arena chunks several times, read back exactly as appended', () =>
  withLog(async (log) => {
    log.createTopic('t', { partitions: 2, fsync: 'never' });
    const rng = fc.sample(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 2_000 })), { numRuns: 600, seed: 11 });
    const expected: string[][] = [[], []];
    const appends = rng.map(([count, size], i) => {
      const partition = i % 2;
      const records = Array.from({ length: count }, (_, r) => {
        const value = new Uint8Array(size + (r % 5)).fill((i + r) % 256);
        if (value.length > 0) value[0] = r % 256;
        return { key: null, value, timestamp: i };
      });
      // An occasional batch too large to be carved from a chunk.
      if (i % 97 === 0) records.push({ key: null, value: new Uint8Array(300_000).fill(i % 256), timestamp: i });
      return { partition, records, promise: log.append('t', partition, records) };
    });
    const results = await Promise.all(appends.map((a) => a.promise));
    // Offsets follow the order the appends were made in, per partition.
    for (const [i, { partition, records }] of appends.entries()) {
      assert.equal(results[i].lastOffset - results[i].baseOffset + 1, records.length);
      for (const r of records) expected[partition].push(Buffer.from(r.value).toString('hex'));
    }
    for (const partition of [0, 1]) {
      const got: string[] = [];
      for (let offset = 0; ; ) {
        const page = log.read('t', partition, offset, { maxBytes: 1 << 20 });
        if (page.records.length === 0) break;
        for (const r of page.records) got.push(Buffer.from(r.value ?? new Uint8Array()).toString('hex'));
        offset = page.nextOffset;
      }
      assert.equal(got.length, expected[partition].length);
      assert.ok(
        got.every((v, k) => v === expected[partition][k]),
        `partition ${partition} reads back what was appended`,
      );
    }
  }));

test('a CRC patched for a new base offset equals the CRC computed over the whole batch again', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ key: fc.option(fc.uint8Array({ maxLength: 40 })), value: fc.option(fc.uint8Array({ maxLength: 3_000 })), timestamp: fc.integer({ min: 0, max: 2 ** 40 }) }), { maxLength: 30 }),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.integer({ min: 0, max: 10_000 })), { minLength: 1, maxLength: 4 }),
      (records, offsets) => {
        const batch = encodeBatch(records, 0);
        for (const offset of offsets) {
          setBaseOffset(batch, offset);
          const expected = encodeBatch(records, offset);
          assert.deepEqual(Array.from(batch), Array.from(expected));
          assert.ok(batchCrcValid(batch, 0, batch.length));
        }
      },
    ),
    { numRuns: 300 },
  );
});
