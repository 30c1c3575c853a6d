// The lmdb state backend: what a checkpoint writes survives a reopen, what it did not write
// does not; odd ids round-trip; a damaged checkpoint record is refused; and state far larger
// than the heap limit works.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { isSluiceError } from '../../src/core/index.ts';
import { type KeyEntry, KeyedStateStore, keyId } from '../../src/state/index.ts';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import { withDir } from '../log/helpers.ts';

void test('a checkpoint makes the changes durable; changes after it are gone after a reopen', () =>
  withDir(async (dir) => {
    const backend = LmdbStateBackend.open(dir);
    const table = backend.table<unknown>('op/keyed/0');
    const ids = [keyId('a'), keyId(7), keyId(null), keyId(true), keyId({ user: 1 }), keyId('x'.repeat(2000)), keyId('\u0002tricky')];
    ids.forEach((id, i) => {
      table.set(id, { i, seen: new Map([[i, new Set([i])]]), at: new Date(i) });
    });
    assert.equal(backend.pending, ids.length);
    backend.checkpoint(new TextEncoder().encode('one'));
    assert.equal(backend.pending, 0);
    table.set(keyId('a'), { i: 'changed after the checkpoint' });
    table.delete(keyId(7));
    table.set(keyId('new'), 1);
    assert.deepEqual(table.get(keyId('a')), { i: 'changed after the checkpoint' });
    assert.equal(table.get(keyId(7)), undefined);
    await backend.close();

    const reopened = LmdbStateBackend.open(dir);
    assert.equal(new TextDecoder().decode(reopened.lastCheckpoint()), 'one');
    const again = reopened.table<{ i: number; seen: Map<number, Set<number>>; at: Date }>('op/keyed/0');
    ids.forEach((id, i) => {
      const value = again.get(id)!;
      assert.equal(value.i, i);
      assert.deepEqual(value.seen, new Map([[i, new Set([i])]]));
      assert.equal(value.at.getTime(), i);
    });
    assert.equal(again.get(keyId('new')), undefined);
    assert.equal([...again.entries()].length, ids.length);
    again.delete(keyId('a'));
    again.set(keyId('b'), { i: 99 } as never);
    assert.deepEqual([...again.entries()].map(([, v]) => v.i).sort(), [1, 2, 3, 4, 5, 6, 99]);
    reopened.clear();
    assert.equal(reopened.lastCheckpoint(), undefined);
    assert.equal([...again.entries()].length, 0);
    await reopened.close();
  }));

void test('a checkpoint record that fails its checksum is refused with what to do', () =>
  withDir(async (dir) => {
    const backend = LmdbStateBackend.open(dir);
    backend.checkpoint(new TextEncoder().encode('{"id":1}'));
    await backend.close();
    // Damage the record in place, as a bad disk would.
    const { open } = await import('lmdb');
    const env = open({ path: `${dir}/state.mdb`, maxDbs: 10 });
    const meta = env.openDB({ name: '\u0000meta', encoding: 'binary' });
    const framed = Buffer.from(meta.get('checkpoint') as Buffer);
    framed[framed.length - 1] ^= 0xff;
    await meta.put('checkpoint', framed);
    await env.close();
    const reopened = LmdbStateBackend.open(dir);
    assert.throws(() => reopened.lastCheckpoint(), (e) => isSluiceError(e, 'CHECKPOINT_CORRUPT') && /fails its checksum/.test(e.message) && /remove the directory/.test(e.message));
    await reopened.close();
  }));

void test('TTL: state expires after its time to live, reads as absent, and sweeps remove it from disk', () =>
  withDir(async (dir) => {
    let now = 1_000;
    const backend = LmdbStateBackend.open(dir);
    const table = backend.table<KeyEntry>('op/keyed/0');
    const store = new KeyedStateStore(table, () => now);
    const seen = store.value<number>('seen', { ttl: '10s' });
    const total = store.value<number>('total');
    for (const key of ['a', 'b', 'c']) {
      store.setKey(key);
      seen.update(1);
      if (key === 'a') total.update(5);
    }
    backend.checkpoint(new Uint8Array([1]));
    now = 8_000;
    store.setKey('b');
    seen.update(2); // a write renews the time to live
    now = 11_001;
    store.setKey('a');
    assert.equal(seen.value(), undefined, 'expired state reads as absent');
    assert.equal(total.value(), 5, 'state without a TTL stays');
    store.setKey('b');
    assert.equal(seen.value(), 2);
    store.sweep(100);
    backend.checkpoint(new Uint8Array([2]));
    assert.deepEqual([...table.entries()].map(([id]) => id).sort(), ['a', 'b'], "'c' was swept: it only had expired state");
    assert.throws(() => store.value('late', { ttl: 0 }), /must be positive/);
    await backend.close();
  }));

void test('keyed state far larger than the heap: 10 million keys under a 96 MB heap limit', { timeout: 600_000 }, () =>
  withDir(async (dir) => {
    // 10M keys with their entries would take gigabytes as a Map (and 1.1 GB on disk here); the heap
    // holds only the changes since the last checkpoint and a small read cache. About a minute.
    const child = spawnSync(process.execPath, ['--max-old-space-size=96', new URL('./fixtures/many-keys.ts', import.meta.url).pathname, dir, '10000000', '50000'], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout.trim()) as { keys: number; sample: Record<string, number | undefined> };
    assert.deepEqual(result.sample, { 0: 1, 1: 1, 5000000: 1, 9999999: 1 });
  }));

void test('one process at a time: a live owner is refused with its pid, a dead one is taken over', () =>
  withDir(async (dir) => {
    const first = LmdbStateBackend.open(dir);
    assert.throws(() => LmdbStateBackend.open(dir), (e) => isSluiceError(e, 'STATE_IN_USE') && new RegExp(`process ${process.pid}`).test(e.message));
    await first.close();
    // An owner that died without closing (kill -9): pid of an exited child.
    const { spawnSync: run } = await import('node:child_process');
    const dead = run(process.execPath, ['-e', '0']).pid!;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/owner.json`, JSON.stringify({ pid: dead, start: '1' }));
    const second = LmdbStateBackend.open(dir);
    await second.close();
  }));
