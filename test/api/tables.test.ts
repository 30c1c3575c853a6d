// Tables in the DSL: what app.table() returns by name, mistakes that say what to write, explain()
// showing tables and joins, and a bounded run up to an event time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, Sluice, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Click = { user: string; ts: number };

void test('app.table() by name returns the table; mistakes say what to write', () => {
  const app = new Sluice({ name: 'crm' });
  const users = app.table<{ tier: string }>('users', { versions: '1h' });
  const counts = app.stream<Click>('clicks').keyBy((c) => c.user).count({ name: 'clicks-per-user' });
  assert.equal(app.table('users'), users);
  assert.equal(app.table('clicks-per-user').name, 'clicks-per-user');
  assert.equal(counts.versioned, false);
  assert.ok(users.versioned);
  assert.throws(() => app.table('users', { versions: '2h' }), /already defined in this app; call app.table\('users'\) without options/);
  assert.throws(() => app.stream('users'), /keep the table the first app.table\('users'\) returned/);
  assert.throws(() => app.table('x', { versions: 0 }), /versions must be a positive duration/);
  assert.throws(() => counts.asOf('u1', 0), /keeps no versions/);
  assert.throws(() => users.get('u1'), (e) => isSluiceError(e, 'STORE_UNAVAILABLE'));
  assert.throws(() => users.filter((u) => u.tier === 'gold').get('u1'), /no state of its own/);
  const keyed = app.stream<Click>('more-clicks').keyBy((c) => c.user);
  assert.throws(() => keyed.join(keyed as never, (a) => a), /join\(\) on a keyed stream takes a table/);
  assert.throws(() => keyed.count({ queryable: true } as never), /is a table, queryable by its name/);
  // @ts-expect-error a table has no window
  assert.throws(() => users.window(Windows.tumbling('1m')));
});

void test('explain() shows tables, joins and changelog sinks', () => {
  const app = new Sluice({ name: 'shop' });
  const users = app.table<{ tier: string }>('users', { versions: '1h' });
  const clicks = app.stream<Click>('clicks', { timestamp: (c) => c.ts });
  clicks.keyBy((c) => c.user).leftJoin(users, (c, u) => ({ ...c, tier: u?.tier ?? null }), { name: 'enrich' }).to('enriched');
  users.join(app.table<{ n: number }>('scores'), (u, s) => ({ ...u, ...s }), { name: 'user-scores' }).to('user-scores');
  const plan = app.explain();
  assert.match(plan, /users: table from its topic \(tombstones delete\), versioned \(3600000ms of history\), queryable as 'users'/);
  assert.match(plan, /enrich: stream-table left join \(the version at each record's event time, after the watermark\)/);
  assert.match(plan, /user-scores: table-table inner join on the key, queryable as 'user-scores'/);
  assert.match(plan, /to 'user-scores' \(a changelog: rows as upserts, deletes as tombstones\)/);
});

void test('a bounded run until T stops each source after T and fires what is complete by then', async () => {
  const kit = new TestKit();
  kit.input<Click>('clicks', [0, 30_000, 59_000, 61_000, 62_000, 130_000].map((ts) => ({ user: 'u', ts })), { partitions: 2 });
  const app = kit.app({ name: 'until' });
  const keyed = app.stream<Click>('clicks', { timestamp: (c) => c.ts }).keyBy((c) => c.user);
  keyed.window(Windows.tumbling('1m')).count().to('per-minute');
  keyed.count().to('running');
  await assert.rejects(app.run({ until: 5 } as never), /must be an event time \(epoch ms\) of a bounded run/);
  await app.run({ bounded: true, until: 61_500 });
  assert.deepEqual(kit.output<{ start: number; value: number }>('per-minute').map((w) => [w.start, w.value]), [[0, 3]]);
  assert.equal(Math.max(...kit.output<number>('running')), 4, 'the records after T are left for the next run');
  // The next run starts at the first record after T (offsets committed there).
  const next = kit.app({ name: 'until' });
  next.stream<Click>('clicks', { timestamp: (c) => c.ts }).keyBy((c) => c.user).window(Windows.tumbling('1m')).count().to('rest');
  await next.run({ bounded: true });
  const rest = kit.output<{ start: number; value: number }>('rest').map((w) => [w.start, w.value]);
  assert.deepEqual(rest.sort((a, b) => a[0] - b[0]), [[60_000, 1], [120_000, 1]]);
});
