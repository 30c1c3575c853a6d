// Tables over HTTP: GET /api/tables/NAME/KEY and GET /api/tables/NAME?prefix=&limit= answer from
// the running app's table state (a table read from a topic, with a tombstone; a running count;
// a versioned table's row as of a time), say what is wrong otherwise, and a restarted app (on
// memory state and on lmdb) answers the same queries from its restored state.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Sluice } from '../../src/index.ts';
import { Collector, createApp } from '../../src/server/index.ts';
import { TestKit } from '../../src/testing/index.ts';
import { waitUntil } from '../support/wait.ts';

type User = { id: string; name: string; tier: string; at: number };

function pipeline(app: Sluice): void {
  app.table<User>('users', { versions: '1d', timestamp: (u) => u.at }).toStream().print();
  app.stream<{ user: string }>('clicks').keyBy((c) => c.user).count({ name: 'clicks-per-user' }).to('click-counts');
}

const PATHS = [
  '/api/tables/users/u1',
  '/api/tables/users/u1?asOf=1500',
  '/api/tables/users/u1?asOf=500',
  '/api/tables/users/u2',
  '/api/tables/users?prefix=u',
  '/api/tables/users?limit=1',
  '/api/tables/clicks-per-user/u1',
  '/api/tables/clicks-per-user?prefix=',
];

for (const state of ['memory', 'lmdb'] as const) {
  void test(`tables answer over HTTP while the app runs, and the same after a restart (${state} state)`, { timeout: 60_000 }, async () => {
    const collector = new Collector();
    const server = createApp({ collector });
    const get = async (path: string) => {
      const response = await server.request(path);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const dataDir = state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-tables-')) : undefined;
    try {
      const kit = new TestKit();
      kit.input<User>(
        'users',
        [
          { id: 'u1', name: 'Ann', tier: 'free', at: 1000 },
          { id: 'u2', name: 'Bob', tier: 'gold', at: 1000 },
          { id: 'u3', name: 'Cy', tier: 'free', at: 1000 },
          { id: 'u1', name: 'Ann', tier: 'gold', at: 2000 },
        ],
        { key: (u) => u.id, partitions: 2 },
      );
      kit.tombstones('users', ['u2'], { timestamp: () => 3000 });
      kit.input('clicks', [{ user: 'u1' }, { user: 'u1' }, { user: 'u3' }], { partitions: 3 });
      const options = { name: 'crm', checkpointInterval: 1, ...(dataDir ? { dataDir, state, guarantee: 'at-least-once' as const } : {}) };

      const first = kit.app(options);
      pipeline(first);
      assert.equal((await get('/api/tables/users/u1')).status, 503);
      const running = first.run();
      await waitUntil(async () => (await get('/api/tables/clicks-per-user?prefix=')).body.total === 2 && (await get('/api/tables/users')).body.total === 2, 'the tables to fill');
      const answers = await Promise.all(PATHS.map(get));
      assert.deepEqual(answers[0], { status: 200, body: { app: 'crm', table: 'users', key: 'u1', value: { id: 'u1', name: 'Ann', tier: 'gold', at: 2000 } } });
      assert.deepEqual(answers[1].body.value, { id: 'u1', name: 'Ann', tier: 'free', at: 1000 });
      assert.equal(answers[2].status, 404, 'no row before the first version');
      assert.equal(answers[3].status, 404, 'the tombstone deleted u2');
      assert.deepEqual(answers[4].body, {
        app: 'crm',
        table: 'users',
        total: 2,
        rows: [
          { key: 'u1', value: { id: 'u1', name: 'Ann', tier: 'gold', at: 2000 } },
          { key: 'u3', value: { id: 'u3', name: 'Cy', tier: 'free', at: 1000 } },
        ],
      });
      assert.deepEqual((answers[5].body.rows as unknown[]).length, 1);
      assert.deepEqual(answers[6].body.value, 2);
      assert.deepEqual(answers[7].body.rows, [
        { key: 'u1', value: 2 },
        { key: 'u3', value: 1 },
      ]);
      // Mistakes: an unknown table, a bad time, asOf on a table without versions.
      assert.match(String((await get('/api/tables/nope/u1')).body.error), /no table named 'nope' in this process \(tables: 'users', 'clicks-per-user'\)/);
      assert.equal((await get('/api/tables/users/u1?asOf=soon')).status, 400);
      assert.match(String((await get('/api/tables/clicks-per-user/u1?asOf=5')).body.error), /keeps no versions/);
      first.stop();
      await running;
      // The value a changed count wrote: the count alone, keyed by the user (a compacted changelog).
      assert.deepEqual(kit.records<number>('click-counts').map((r) => [r.key, r.value]).sort(), [['u1', 1], ['u1', 2], ['u3', 1]]);

      const second = kit.app(options);
      pipeline(second);
      const again = second.run();
      await waitUntil(async () => (await get('/api/tables/users')).status === 200, 'the restarted app to answer');
      assert.deepEqual(await Promise.all(PATHS.map(get)), answers);
      second.stop();
      await again;
    } finally {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });
}
