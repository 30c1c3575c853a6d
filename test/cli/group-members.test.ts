// Two `sluice consume --group` processes share a topic's partitions instead of each reading
// everything: a member joining takes over half without any record read twice, and a member
// killed with SIGKILL mid-run loses its partitions to the other, which continues from the
// group's last commit: nothing lost, and repeats only past that commit (at least once).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Log } from '../../src/log/index.ts';
import { exitCode, type ConsumedRecord, lineCollector, lines, ok, start, tempDataDir } from './helpers.ts';

const PARTITIONS = 4;
const batch = (from: number, count: number) => lines(Array.from({ length: count }, (_, i) => ({ value: from + i, partition: (from + i) % PARTITIONS })));

/** Checks `condition` until it holds, failing with `what` after about 20 s. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await delay(50);
  }
  assert.fail(`gave up waiting for ${what}`);
}

const ids = (records: ConsumedRecord[]) => records.map((r) => `${r.partition}:${r.offset}`);

void test('two group members split the partitions; a killed member’s partitions move to the other without loss', { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'shared', '--partitions', String(PARTITIONS)]);
  await ok(dir, ['produce', 'shared'], batch(0, 400));
  const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
  const a = start(dir, ['consume', 'shared', '--group', 'g']);
  let b: ReturnType<typeof start> | undefined;
  try {
    const fromA = lineCollector(a);
    await fromA.waitFor(400);
    b = start(dir, ['consume', 'shared', '--group', 'g']);
    const fromB = lineCollector(b);
    // The second member gets its half once the first has let go of it.
    await until('the two members to own two partitions each', () => {
      const owners = log.groupOwners('g');
      return owners.length === PARTITIONS && new Set(owners.map((o) => o.memberId)).size === 2;
    });
    await ok(dir, ['produce', 'shared'], batch(400, 400));
    await until('all 800 records printed', () => new Set([...ids(fromA.records), ...ids(fromB.records)]).size === 800);
    const partitionsOf = (records: ConsumedRecord[]) => [...new Set(records.filter((r) => (r.value as number) >= 400).map((r) => r.partition))].sort();
    const aParts = partitionsOf(fromA.records);
    const bParts = partitionsOf(fromB.records);
    assert.equal(aParts.length + bParts.length, PARTITIONS, `each partition read by one member: A ${aParts}, B ${bParts}`);
    assert.equal(new Set([...aParts, ...bParts]).size, PARTITIONS);
    assert.equal(ids(fromA.records).length + ids(fromB.records).length, 800, 'a live hand-over reads nothing twice');

    // Kill the first member while it is busy printing a large batch.
    const busy = fromA.records.length + 500;
    await ok(dir, ['produce', 'shared'], batch(800, 40_000));
    await fromA.waitFor(busy);
    const committedBefore = new Map(aParts.map((p) => [p, log.committedOffset('g', 'shared', p) ?? 0]));
    a.kill('SIGKILL');
    await exitCode(a);
    const printedByA = new Map(aParts.map((p) => [p, Math.max(...fromA.records.filter((r) => r.partition === p).map((r) => r.offset))]));
    await until('every record printed by one member or the other', () => new Set([...ids(fromA.records), ...ids(fromB.records)]).size === 40_800);

    // Repeats are only the first member's records after its last commit, on its partitions.
    const seenByA = new Set(ids(fromA.records));
    const repeats = fromB.records.filter((r) => seenByA.has(`${r.partition}:${r.offset}`));
    for (const r of repeats) {
      assert.ok(aParts.includes(r.partition), `a record of partition ${r.partition} read twice, which the killed member never owned`);
      assert.ok(r.offset >= committedBefore.get(r.partition)!, `partition ${r.partition} offset ${r.offset} read again from before the group's commit at ${committedBefore.get(r.partition)}`);
      assert.ok(r.offset <= printedByA.get(r.partition)!, 'a repeat beyond what the killed member printed');
    }
  } finally {
    a.kill('SIGKILL');
    if (b !== undefined) {
      b.kill('SIGTERM');
      await exitCode(b);
    }
    await log.close();
  }
});
