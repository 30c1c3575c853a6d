import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { values, withLog } from './helpers.ts';

test('reading in pages of any size, from any offset, returns exactly the records from there on', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 25 }),
      fc.nat(),
      async (batchSizes, pageSize, startSeed) =>
        withLog(async (log) => {
          log.createTopic('t', { partitions: 1, segmentBytes: 600 });
          let n = 0;
          for (const size of batchSizes) {
            await log.append('t', 0, Array.from({ length: size }, () => ({ key: null, value: new TextEncoder().encode(`r${n++}`), timestamp: n })));
          }
          const start = startSeed % n;
          const got: string[] = [];
          for (let offset = start; ; ) {
            const page = log.read('t', 0, offset, { maxRecords: pageSize });
            assert.ok(page.records.length <= pageSize);
            got.push(...(values(page.records) as string[]));
            if (page.records.length === 0) break;
            offset = page.nextOffset;
          }
          assert.deepEqual(got, Array.from({ length: n - start }, (_, i) => `r${start + i}`));
        }),
    ),
    { numRuns: 60 },
  );
});
