import assert from 'node:assert/strict';
import { test } from 'node:test';
import { utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { exitCode, jsonLines, lineCollector, lines, ok, start, tempDataDir } from './helpers.ts';

const record = (value: string) => ({ key: null, value: utf8(JSON.stringify(value)), timestamp: 1_000 });

void test('consume reads committed records by default and open transactions with --isolation read_uncommitted', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'tx', '--partitions', '1']);
  await ok(dir, ['produce', 'tx'], lines([{ value: 'before' }]));

  // This test process holds a transaction open while the command runs in other processes.
  const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
  try {
    const producer = await log.producer({ transactionalId: 'cli-test' });
    await producer.beginTransaction();
    await producer.send('tx', [record('pending-1'), record('pending-2')]);

    const committed = jsonLines(await ok(dir, ['consume', 'tx', '--from-beginning', '--timeout-ms', '150']));
    assert.deepEqual(
      committed.map((r) => r.value),
      ['before'],
    );
    const uncommitted = jsonLines(await ok(dir, ['consume', 'tx', '--from-beginning', '--timeout-ms', '150', '--isolation', 'read_uncommitted']));
    assert.deepEqual(
      uncommitted.map((r) => r.value),
      ['before', 'pending-1', 'pending-2'],
    );
    const described = JSON.parse(await ok(dir, ['topic', 'describe', 'tx', '--json']));
    assert.deepEqual([described.partitions[0].lastStableOffset, described.partitions[0].nextOffset], [1, 3]);

    // A read_committed follower waiting at the open transaction sees its records once it commits.
    const follower = start(dir, ['consume', 'tx', '--from-beginning', '--max', '3']);
    const output = lineCollector(follower);
    await output.waitFor(1);
    await producer.commitTransaction();
    const code = await exitCode(follower);
    assert.equal(code, 0);
    assert.deepEqual(
      output.records.map((r) => [r.offset, r.value]),
      [
        [0, 'before'],
        [1, 'pending-1'],
        [2, 'pending-2'],
      ],
    );
    await producer.close();
  } finally {
    await log.close();
  }
});
