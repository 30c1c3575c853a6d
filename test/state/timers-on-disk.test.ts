// Timers larger than the heap: 300,000 keys each with a pending event-time timer, under a 96 MB
// heap limit that all of them in the heap overflow (an out-of-memory abort, about 90 MB of
// timer objects); with the time index only the earliest are in the heap, the restart from a
// checkpoint reads them back from disk, and every timer fires once, in time order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { withDir } from '../log/helpers.ts';

void test('timers far beyond the heap: 300,000 pending timers under a 96 MB heap limit fire once each, in order, across a restart', { timeout: 600_000 }, () =>
  withDir(async (dir) => {
    const child = spawnSync(process.execPath, ['--max-old-space-size=96', new URL('./fixtures/many-timers.ts', import.meta.url).pathname, dir, '300000', '50000'], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout.trim()) as { fired: number; inOrder: boolean; keysSeen: number };
    assert.deepEqual(result, { ...result, fired: 300_000, inOrder: true, keysSeen: 300_000 });
  }));
