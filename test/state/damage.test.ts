// Damaged state is refused, never trusted: a flipped byte in a stored value, a state file cut
// short, zeroed header pages, and state written without value checksums each give a clear
// error (STATE_CORRUPT / STATE_INCOMPATIBLE) instead of a wrong count or a crash (SIGBUS).
import assert from 'node:assert/strict';
import { openSync, readFileSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { open } from 'lmdb';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { isSluiceError, jsonCodec } from '../../src/core/index.ts';
import { Sluice } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';
import { keyId } from '../../src/state/index.ts';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import { withDir } from '../log/helpers.ts';

/** A state directory holding one checkpointed table of 200 counters. */
async function writeState(dir: string): Promise<void> {
  const backend = LmdbStateBackend.open(dir);
  const table = backend.table<{ n: number }>('count-1/keyed/0');
  for (let i = 0; i < 200; i++) table.set(keyId(`k${i}`), { n: i });
  backend.checkpoint(new TextEncoder().encode('{"id":1}'));
  await backend.close();
}

/** Flips the last byte of one stored value in place, as a bad disk would, keeping LMDB's own structure intact. */
async function flipValue(dir: string, scope: string, key: string): Promise<void> {
  const env = open({ path: join(dir, 'state.mdb'), maxDbs: 10 });
  const db = env.openDB({ name: scope, encoding: 'binary' });
  const stored = Buffer.from(db.get(key) as Buffer);
  stored[stored.length - 1] ^= 0x01;
  await db.put(key, stored);
  await env.close();
}

void test('a flipped byte in a stored value is refused with STATE_CORRUPT naming the operator and key', () =>
  withDir(async (dir) => {
    await writeState(dir);
    await flipValue(dir, 'count-1/keyed/0', 'k7');
    const backend = LmdbStateBackend.open(dir);
    try {
      const table = backend.table<{ n: number }>('count-1/keyed/0');
      assert.deepEqual(table.get(keyId('k8')), { n: 8 });
      assert.throws(
        () => table.get(keyId('k7')),
        (e) => isSluiceError(e, 'STATE_CORRUPT') && /operator 'count-1'/.test(e.message) && /"k7"/.test(e.message) && /savepoint/.test(e.message),
      );
      assert.throws(() => [...table.entries()], (e) => isSluiceError(e, 'STATE_CORRUPT'));
      const { scan } = table;
      assert.ok(scan !== undefined);
      assert.throws(() => scan.call(table, undefined, 1000), (e) => isSluiceError(e, 'STATE_CORRUPT'));
    } finally {
      await backend.close();
    }
  }));

void test('a state file cut short is refused before it is mapped (no SIGBUS), naming the sizes', () =>
  withDir(async (dir) => {
    await writeState(dir);
    const file = join(dir, 'state.mdb');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    assert.throws(
      () => LmdbStateBackend.open(dir),
      (e) => isSluiceError(e, 'STATE_CORRUPT') && /cut short/.test(e.message) && /sluice app reset/.test(e.message),
    );
    truncateSync(file, 100);
    assert.throws(() => LmdbStateBackend.open(dir), (e) => isSluiceError(e, 'STATE_CORRUPT') && /cut short/.test(e.message));
    // Refusing released the state: once the damage is gone, the app can open it again.
    truncateSync(file, 0);
    await LmdbStateBackend.open(dir).close();
  }));

void test('zeroed header pages are refused (no SIGSEGV)', () =>
  withDir(async (dir) => {
    await writeState(dir);
    const file = join(dir, 'state.mdb');
    const pageSize = readFileSync(file).readUInt32LE(48);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize * 2), 0, pageSize * 2, 0);
    closeSync(fd);
    assert.throws(() => LmdbStateBackend.open(dir), (e) => isSluiceError(e, 'STATE_CORRUPT') && /damaged first header page/.test(e.message));
  }));

void test('state written without value checksums (an older format) is refused as incompatible, not misread as damage', () =>
  withDir(async (dir) => {
    const env = open({ path: join(dir, 'state.mdb'), maxDbs: 10 });
    await env.openDB({ name: 'count-1/keyed/0' }).put('k1', { n: 1 });
    await env.close();
    assert.throws(() => LmdbStateBackend.open(dir), (e) => isSluiceError(e, 'STATE_INCOMPATIBLE') && /another version/.test(e.message));
  }));

void test('a pipeline whose state value was damaged stops with STATE_CORRUPT instead of counting on from a wrong value', () =>
  withDir(async (dataDir) => {
    const app = () => {
      const sluice = new Sluice({ name: 'damaged', dataDir, state: 'lmdb', checkpointInterval: '20ms' });
      sluice.stream<{ k: string }>('input').keyBy((e) => e.k, { name: 'by-key' }).count({ name: 'counts' }).to('out');
      return sluice;
    };
    const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
    log.createTopic('input', { partitions: 1 });
    log.createTopic('out', { partitions: 1 });
    await log.produce('input', Array.from({ length: 10 }, (_, i) => ({ key: null, value: jsonCodec.encode({ k: `k${i % 2}` }), timestamp: i })));
    await log.close();

    // An unbounded run keeps its state (a bounded run's end is a clean slate): run until all 10 counts are out.
    const first = app();
    const running = first.run();
    const backend = await EmbeddedBackend.open(dataDir);
    try {
      for (let i = 0; (await backend.endOffsets('out'))[0] < 10; i++) {
        assert.ok(i < 100, 'the first run never wrote its 10 counts');
        await backend.waitForData('out', 0, (await backend.endOffsets('out'))[0], 200);
      }
    } finally {
      await backend.close();
    }
    first.stop();
    await running;

    const env = open({ path: join(dataDir, 'state', 'damaged', 'state.mdb'), maxDbs: 100 });
    const scope = (env.getKeys() as Iterable<string>)[Symbol.iterator]();
    let table: string | undefined;
    for (let next = scope.next(); !next.done; next = scope.next()) if (next.value.startsWith('counts/')) table = next.value;
    assert.ok(table !== undefined, 'no table of the counts operator');
    const db = env.openDB({ name: table, encoding: 'binary' });
    const keys = [...db.getKeys()];
    await env.close();
    for (const key of keys) await flipValue(join(dataDir, 'state', 'damaged'), table, key as string);

    const log2 = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
    await log2.produce('input', [{ key: null, value: jsonCodec.encode({ k: 'k0' }), timestamp: 10 }]);
    await log2.close();
    await assert.rejects(app().run({ bounded: true }), (e) => isSluiceError(e, 'STATE_CORRUPT') && /operator 'counts'/.test(e.message));
  }));
