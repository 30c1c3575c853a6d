// sources.postgresCdc against a real Postgres: a users table changed by SQL while a pipeline joins
// clicks to it (the snapshot, then inserts, updates and deletes flow through), a restart that
// resumes the change stream without repeating or losing a change, and the clear errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Sink, SourceReader } from '../../src/api/index.ts';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { isSluiceError, Sluice, sources } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';
import { freshDatabase, query } from '../support/postgres.ts';
import { dropSlot, slotFor, withTemp } from './helpers.ts';

interface User {
  id: string;
  name: string;
  tier: string;
}

interface Click {
  user: string;
  n: number;
}

/** A sink that keeps what committed checkpoints wrote (the interface's own example). */
function memorySink<T>(): { sink: Sink<T>; committed: T[] } {
  const committed: T[] = [];
  const pending = new Map<number, readonly T[]>();
  const sink: Sink<T> = {
    describe: 'memory',
    async open() {},
    async recover() {
      pending.clear();
    },
    async write(batch) {
      pending.set(batch.checkpoint, batch.records);
    },
    async commit(id) {
      committed.push(...(pending.get(id) ?? []));
      pending.delete(id);
    },
    async abort(id) {
      pending.delete(id);
    },
    async close() {},
  };
  return { sink, committed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` (every 20 ms) until it holds; fails naming `what` after `timeoutMs`. */
async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A table read that is undefined until the app has restored its state. */
function row(app: Sluice, table: string, key: string): User | undefined {
  try {
    return app.table<User, string>(table).get(key);
  } catch (error) {
    if (isSluiceError(error) && error.code === 'STORE_UNAVAILABLE') return undefined;
    throw error;
  }
}

void test('sources.postgresCdc: clicks joined with a users table changed by SQL see its snapshot, inserts, updates and deletes; a restart resumes the changes', { timeout: 180_000 }, async () => {
  const url = await freshDatabase('cdc_join');
  await query(url, 'CREATE TABLE users (id text PRIMARY KEY, name text NOT NULL, tier text NOT NULL)');
  await query(url, "INSERT INTO users VALUES ('u1', 'Ada', 'gold'), ('u2', 'Bob', 'silver')");
  const slot = slotFor(url);
  await withTemp('cdc-join', async (dir) => {
    const dataDir = join(dir, 'data');
    const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
    log.createTopic('clicks', { partitions: 2 });
    const click = (user: string, n: number) => log.produce('clicks', [{ key: utf8(user), value: utf8(JSON.stringify({ user, n })), timestamp: n }]);
    const enriched = memorySink<{ n: number; user: string; tier: string | null }>();
    const changes = memorySink<{ key: unknown; value: User | null; previous: User | null }>();
    const start = () => {
      const app = new Sluice({ name: 'enrich', dataDir, checkpointInterval: '20ms' });
      const users = app.source(sources.postgresCdc({ url, tables: ['public.users'], slot })).table<User, string>('public.users');
      app
        .stream<Click>('clicks')
        .keyBy((c) => c.user)
        .leftJoin(users, (c, u) => ({ n: c.n, user: c.user, tier: u?.tier ?? null }))
        .to(enriched.sink);
      users.toStream().to(changes.sink);
      return { app, running: app.run() };
    };
    try {
      let { app, running } = start();
      await until('the snapshot in the table', () => row(app, 'public.users', 'u2') !== undefined);
      assert.deepEqual(row(app, 'public.users', 'u1'), { id: 'u1', name: 'Ada', tier: 'gold' });
      await click('u1', 1);
      await click('u2', 2);
      await until('two enriched clicks', () => enriched.committed.length === 2);

      await query(url, "UPDATE users SET tier = 'platinum' WHERE id = 'u1'");
      await query(url, "INSERT INTO users VALUES ('u3', 'Cy', 'bronze')");
      await query(url, "DELETE FROM users WHERE id = 'u2'");
      await until('the update, insert and delete in the table', () => row(app, 'public.users', 'u1')?.tier === 'platinum' && row(app, 'public.users', 'u3') !== undefined && row(app, 'public.users', 'u2') === undefined);
      await click('u1', 3);
      await click('u2', 4);
      await click('u3', 5);
      await until('five enriched clicks', () => enriched.committed.length === 5);
      assert.deepEqual(
        [...enriched.committed].sort((a, b) => a.n - b.n).map((e) => e.tier),
        ['gold', 'silver', 'platinum', null, 'bronze'],
        'each click joined the row its user had when it came; the deleted user is gone',
      );
      await until('the changes committed', () => changes.committed.length === 5);
      app.stop();
      await running;

      // While the app is down: an update. The restart must bring exactly it (no snapshot, no repeats).
      const [{ lsn: beforeLast }] = await query(url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
      await query(url, "UPDATE users SET tier = 'gold' WHERE id = 'u3'");
      ({ app, running } = start());
      await until('the update made while the app was down', () => row(app, 'public.users', 'u3')?.tier === 'gold');
      await click('u3', 6);
      await until('the sixth enriched click', () => enriched.committed.length === 6);
      await until('the sixth change committed', () => changes.committed.length === 6);
      app.stop();
      await running;

      const byKey = new Map<unknown, string[]>();
      for (const c of changes.committed) byKey.set(c.key, [...(byKey.get(c.key) ?? []), `${c.previous?.tier ?? '-'}>${c.value?.tier ?? '-'}`]);
      assert.deepEqual(Object.fromEntries(byKey), { u1: ['->gold', 'gold>platinum'], u2: ['->silver', 'silver>-'], u3: ['->bronze', 'bronze>gold'] }, 'every change once, in order, a delete as a tombstone');
      assert.equal(enriched.committed.find((e) => e.n === 6)?.tier, 'gold');
      // The slot was told only what committed checkpoints hold, and all of it: it is past the last update.
      await until('the slot confirmed the last change', async () => {
        const [row] = await query(url, 'SELECT confirmed_flush_lsn > $1::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = $2', [beforeLast, slot]);
        return row?.past === true;
      });
    } finally {
      await log.close();
      await dropSlot(url, slot);
    }
  });
});

void test('sources.postgresCdc refuses a table without a key, and a table that does not exist, naming what to do', { timeout: 60_000 }, async () => {
  const url = await freshDatabase('cdc_errors');
  await query(url, 'CREATE TABLE events (id text, v int)');
  await withTemp('cdc-errors', async (dir) => {
    for (const [table, pattern] of [
      ['public.events', /public\.events has no primary key.*ADD PRIMARY KEY/],
      ['public.missing', /table public\.missing does not exist/],
    ] as const) {
      const app = new Sluice({ name: `errors-${table.split('.')[1]}`, dataDir: join(dir, table) });
      app.source(sources.postgresCdc({ url, tables: [table], slot: 'sluice_errors' })).table(table).toStream().print();
      await assert.rejects(app.run({ bounded: true }), (error: unknown) => isSluiceError(error) && error.code === 'SOURCE_FAILED' && pattern.test(error.message));
    }
  });
  assert.throws(() => sources.postgresCdc({ url, tables: [], slot: 'x' }), /tables must list the tables/);
  assert.throws(() => sources.postgresCdc({ url, tables: ['users'], slot: 'Bad-Slot' }), /slot must be 1-63 lower-case/);
});

/** Reads `n` records (waiting for them) as `key=value` strings. */
async function readChanges(reader: SourceReader, n: number): Promise<string[]> {
  const got: string[] = [];
  const deadline = Date.now() + 30_000;
  while (got.length < n) {
    if (Date.now() > deadline) assert.fail(`timed out after ${got.length} of ${n} changes`);
    await reader.waitForData(200);
    for (const r of await reader.read(n - got.length)) {
      const c = JSON.parse(fromUtf8(r.value)) as { key: number; value: { v: number } | null };
      got.push(`${c.key}=${c.value?.v ?? '-'}`);
    }
  }
  return got;
}

void test('sources.postgresCdc: a restored position skips what it holds when Postgres sends it again (the crash came before the slot was told), whole transactions and part of one', { timeout: 60_000 }, async () => {
  const url = await freshDatabase('cdc_skip');
  await query(url, 'CREATE TABLE t (id int PRIMARY KEY, v int)');
  await query(url, 'INSERT INTO t VALUES (1, 1), (2, 2)');
  const slot = slotFor(url);
  const source = sources.postgresCdc({ url, tables: ['t'], slot });
  const context = { app: 'skip', name: 'cdc', clock: Date.now, warn: () => {} };
  const first = await source.open(context);
  assert.deepEqual(await readChanges(first, 2), ['1=1', '2=2'], 'the snapshot');
  await query(url, 'BEGIN; UPDATE t SET v = 10 WHERE id = 1; UPDATE t SET v = 20 WHERE id = 2; COMMIT');
  await query(url, 'BEGIN; UPDATE t SET v = 11 WHERE id = 1; DELETE FROM t WHERE id = 2; COMMIT');
  assert.deepEqual(await readChanges(first, 3), ['1=10', '2=20', '1=11'], 'the first transaction and half the second');
  const position = first.position();
  // The checkpoint holding `position` committed, and the process died before telling the slot (no `committed`).
  await first.close();
  const second = await source.open(context);
  second.seek(position);
  assert.deepEqual(await readChanges(second, 1), ['2=-'], 'only what the position does not hold');
  second.committed?.(second.position());
  await query(url, 'UPDATE t SET v = 12 WHERE id = 1');
  assert.deepEqual(await readChanges(second, 1), ['1=12']);
  await second.close();
  const [row] = await query(url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  assert.ok(row !== undefined && row.lsn !== '0/0');
  await dropSlot(url, slot);
});

void test('sources.postgresCdc on a server whose wal_level is not logical says how to change it', { timeout: 120_000 }, async () => {
  // A server of its own, restarted with wal_level = replica.
  const script = new URL('../../scripts/postgres.sh', import.meta.url).pathname;
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const port = String((probe.address() as { port: number }).port);
  await new Promise((resolve) => probe.close(resolve));
  // Directly under the temporary directory: the server's user (postgres, when run as root) must reach it.
  const dir = join(tmpdir(), `sluice-test-wal-level-${process.pid}-${port}`);
  const out = execFileSync('bash', [script, 'start', '--port', port, '--dir', dir], { encoding: 'utf8' });
  try {
    const restart = `bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"; echo "wal_level = replica" >> "$1/data/postgresql.conf"; if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bindir/pg_ctl" -D "$1/data" -m fast -w restart; else "$bindir/pg_ctl" -D "$1/data" -m fast -w restart; fi`;
    execFileSync('bash', ['-c', restart, 'restart', dir], { stdio: 'ignore' });
    const url = /^url (\S+)$/m.exec(out)![1];
    await query(url, 'CREATE TABLE users (id text PRIMARY KEY)');
    await withTemp('cdc-wal-level', async (data) => {
      const app = new Sluice({ name: 'wal-level', dataDir: data });
      app.source(sources.postgresCdc({ url, tables: ['users'], slot: 'sluice_wal' })).table('users').toStream().print();
      await assert.rejects(app.run({ bounded: true }), (error: unknown) => isSluiceError(error) && error.code === 'SOURCE_FAILED' && /wal_level is 'replica'.*set wal_level = logical/.test(error.message));
    });
  } finally {
    execFileSync('bash', [script, 'stop', '--port', port, '--dir', dir], { stdio: 'ignore' });
  }
});

void test('sources.postgresCdc: while the captured table is quiet and others change, heartbeats move the slot on (Postgres need not keep that WAL)', { timeout: 60_000 }, async () => {
  const url = await freshDatabase('cdc_heartbeat');
  await query(url, 'CREATE TABLE t (id int PRIMARY KEY, v int)');
  await query(url, 'CREATE TABLE other (id serial PRIMARY KEY, v int)');
  await query(url, 'INSERT INTO t VALUES (1, 1)');
  const slot = slotFor(url);
  const reader = await sources.postgresCdc({ url, tables: ['t'], slot, heartbeatInterval: '50ms' }).open({ app: 'heartbeat', name: 'cdc', clock: Date.now, warn: () => {} });
  try {
    assert.deepEqual(await readChanges(reader, 1), ['1=1']);
    const confirmed = async () => String((await query(url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]))[0].lsn);
    // Not yet committed: the slot stays where the snapshot put it, whatever else changes.
    const [{ lsn: before }] = await query(url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    for (let i = 0; i < 20; i++) await query(url, 'INSERT INTO other (v) VALUES ($1)', [i]);
    for (let i = 0; i < 10; i++) await reader.read(10);
    const [{ ahead }] = await query(url, 'SELECT $1::pg_lsn > $2::pg_lsn AS ahead', [await confirmed(), before]);
    assert.equal(ahead, false, 'no heartbeat moves the slot past what no checkpoint holds');
    // The checkpoint holding the snapshot committed: now heartbeats move the slot past the other table's changes.
    reader.committed?.(reader.position());
    await until('the slot moved past the changes of the other table', async () => {
      assert.deepEqual(await reader.read(10), [], 'the other table sends no changes');
      const [{ past }] = await query(url, 'SELECT $1::pg_lsn > $2::pg_lsn AS past', [await confirmed(), before]);
      return past === true;
    });
    // And a change of the captured table after the heartbeats still arrives.
    await query(url, 'UPDATE t SET v = 2 WHERE id = 1');
    assert.deepEqual(await readChanges(reader, 1), ['1=2']);
  } finally {
    await reader.close();
    await dropSlot(url, slot);
  }
});
