// Regression: unkeyed records written in one call (a pipeline's unkeyed sink writes one call per
// checkpoint) all went to a single partition. They rotate record by record now, on plain
// produces and inside transactions alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Log } from '../../src/log/index.ts';
import { record, withLog } from './helpers.ts';

const counts = (log: Log, topic: string) => [0, 1, 2].map((p) => log.endOffset(topic, p, 'read_committed'));

void test('unkeyed records of one produce call spread evenly over the partitions', () =>
  withLog(async (log) => {
    log.createTopic('plain', { partitions: 3 });
    await log.produce('plain', Array.from({ length: 300 }, (_, i) => record(`v${i}`)));
    assert.deepEqual(counts(log, 'plain'), [100, 100, 100]);
  }));

void test('unkeyed records sent inside one transaction spread over the partitions', () =>
  withLog(async (log) => {
    log.createTopic('txn', { partitions: 3 });
    const producer = await log.producer({ transactionalId: 'spread' });
    await producer.beginTransaction();
    await producer.send('txn', Array.from({ length: 300 }, (_, i) => record(`v${i}`)));
    await producer.commitTransaction();
    await producer.close();
    const spread = counts(log, 'txn');
    // Each partition also holds its commit marker.
    assert.ok(spread.every((n) => n >= 100 && n <= 101), `uneven: ${spread}`);
  }));
