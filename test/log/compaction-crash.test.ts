import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, withDir } from './helpers.ts';

const COMPACTOR = new URL('./fixtures/compactor.ts', import.meta.url).pathname;
const KEYS = 40;

/**
 * Runs the compacting child and kills it with SIGKILL when it reaches its `killAt`-th step
 * (it waits at each step for the parent's go-ahead, so the kill lands exactly there).
 * Resolves to the step it was killed at, or undefined when it finished first.
 */
function compactAndKill(dataDir: string, killAt: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [COMPACTOR, dataDir, 'table'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let steps = 0;
    let killedAt: string | undefined;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('step ')) continue;
        steps++;
        if (steps === killAt) {
          killedAt = line.slice(5);
          child.kill('SIGKILL');
        } else {
          child.stdin.write('x');
        }
      }
    });
    child.stdin.on('error', () => undefined); // the child may be gone when the parent writes
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (killedAt === undefined && code !== 0) reject(new Error(`the compactor failed (${code ?? signal})`));
      else resolve(killedAt);
    });
  });
}

/** Every key's value in the newest record for it, in offset order. */
function latestValues(log: Log): Map<string, string> {
  const latest = new Map<string, string>();
  for (const record of readAll(log, 'table', 0)) latest.set(fromUtf8(record.key as Uint8Array), fromUtf8(record.value as Uint8Array));
  return latest;
}

/** The files of the partition's directory, after recovery: only what the metadata names. */
function checkFiles(log: Log, dir: string): void {
  const { config, partitions } = log.describeTopic('table');
  const names = readdirSync(join(dir, 'topics', `table.${config.id}`, '0'));
  assert.deepEqual(
    names.filter((n) => !/^\d{20}(\.g\d+)?\.(log|index|timeindex)$/.test(n)),
    [],
    'no markers or temporary files are left',
  );
  assert.equal(names.filter((n) => n.endsWith('.log')).length, partitions[0].segments, 'one log file per segment the metadata names');
}

test('compaction killed with SIGKILL at any step of its commit leaves every key at its latest value (regression: a crash during compaction corrupted the topic for good)', { timeout: 600_000 }, () =>
  withDir(async (dir) => {
    const expected = new Map<string, string>();
    const setup = await Log.open(dir, { maintenanceIntervalMs: 0 });
    setup.createTopic('table', { partitions: 1, compact: true, segmentBytes: 1024, fsync: 'never' });
    await setup.close();
    let kills = 0;
    const killedAt = new Set<string>();
    for (let round = 0; kills < 24 && round < 60; round++) {
      // New values for every key, one batch each: many small segments for the child to compact.
      const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
      for (let i = 0; i < 120; i++) {
        const key = `k${(round * 7 + i) % KEYS}`;
        const value = `${key}@${round}.${i}`;
        await log.append('table', 0, [{ key: utf8(key), value: utf8(value), timestamp: Date.now() }]);
        expected.set(key, value);
      }
      await log.close();
      // The first steps (files written; inside the commit; just committed) in turn, then anywhere among the deletions.
      const killAt = round % 4 < 3 ? (round % 4) + 1 : 4 + Math.floor(Math.random() * 20);
      const step = await compactAndKill(dir, killAt);
      if (step !== undefined) {
        kills++;
        killedAt.add(step);
      }
      const after = await Log.open(dir, { maintenanceIntervalMs: 0 });
      assert.deepEqual(latestValues(after), expected, `round ${round}: every key has its latest value after a kill at ${step ?? 'no step'}`);
      checkFiles(after, dir);
      await after.close();
    }
    assert.ok(kills >= 20, `at least 20 kills landed in the commit (${kills})`);
    assert.deepEqual([...killedAt].sort(), ['commit', 'committed', 'removed', 'written']);

    // Compaction still works afterwards, and leaves few segments.
    const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.compact('table', { rollActive: true });
    assert.deepEqual(latestValues(log), expected);
    assert.equal(readAll(log, 'table', 0).length, KEYS, 'one record per key is left');
    assert.ok(log.describeTopic('table').partitions[0].segments <= 4, 'cleaned segments were merged');
    checkFiles(log, dir);
    await log.close();
  }),
);
