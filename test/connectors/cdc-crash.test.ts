// kill -9 at random moments while SQL changes a Postgres table that sources.postgresCdc captures:
// the app writes the table's changelog to a file (committed with each checkpoint), is killed with
// SIGKILL and restarted, then a bounded run finishes. The file must then hold a snapshot taken
// after some transaction P (the first run that reached a checkpoint took it) and every change after
// P exactly once, in order: for each row, its version as of P, then its history after P.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabase } from '../support/postgres.ts';
import { dropSlot, slotFor, withTemp } from './helpers.ts';
import { exited, killRepeatedly } from '../support/kill-loop.ts';

const APP = new URL('./fixtures/cdc-app.ts', import.meta.url).pathname;
const KILLS = 8;
const ACCOUNTS = 12;
const TRANSACTIONS = 600;

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [APP, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function lines(path: string): Promise<{ key: string; value: { id: string; seq: number } | null }[]> {
  try {
    return (await readFile(path, 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
  } catch {
    return []; // not written yet
  }
}

void test(`SIGKILL ${KILLS} times while SQL changes a captured table: the changelog holds every change exactly once, in order`, { timeout: 300_000 }, async () => {
  const url = await freshDatabase('cdc_crash');
  await withTemp('cdc-crash', async (dir) => {
    const out = join(dir, 'changes.jsonl');
    const slot = slotFor(url);
    const args = (mode: string) => [join(dir, 'data'), mode, url, out, slot];
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    // Each row's history as Postgres committed it: `seq` of each version, `-` for a delete, with the transaction's number.
    const history = new Map<string, [tx: number, entry: string][]>();
    const live = new Set<string>();
    let seq = 0;
    let tx = 0; // the rows inserted first are transaction 0
    const record = (id: string, entry: string) => history.set(id, [...(history.get(id) ?? []), [tx, entry]]);
    try {
      await db.query('CREATE TABLE accounts (id text PRIMARY KEY, seq int NOT NULL, note text)');
      for (let i = 0; i < ACCOUNTS / 2; i++) {
        const id = `a${i}`;
        await db.query('INSERT INTO accounts VALUES ($1, $2)', [id, ++seq]);
        live.add(id);
        record(id, `${seq}`);
      }
      let done = 0;
      // Transactions of one to three changes each, one after another (so their commit order is ours).
      const feeding = (async () => {
        for (; done < TRANSACTIONS; done++) {
          tx = done + 1;
          await db.query('BEGIN');
          const changes = 1 + (done % 3);
          const touched = new Set<string>();
          for (let c = 0; c < changes; c++) {
            const id = `a${(done * 7 + c * 5) % ACCOUNTS}`;
            if (touched.has(id)) continue;
            touched.add(id);
            if (!live.has(id)) {
              await db.query('INSERT INTO accounts VALUES ($1, $2)', [id, ++seq]);
              live.add(id);
              record(id, `${seq}`);
            } else if ((done + c) % 5 === 0) {
              await db.query('DELETE FROM accounts WHERE id = $1', [id]);
              live.delete(id);
              record(id, '-');
            } else {
              await db.query('UPDATE accounts SET seq = $2, note = $3 WHERE id = $1', [id, ++seq, `t${done}`]);
              record(id, `${seq}`);
            }
          }
          await db.query('COMMIT');
          if (done % 10 === 0) await sleep(15);
        }
      })();
      await killRepeatedly({ kills: KILLS, start: () => start(args('unbounded')), progress: async () => (await lines(out)).length, inputDone: () => done >= TRANSACTIONS, jitterMs: 250 });
      await feeding;
      assert.equal(await exited(start(args('bounded'))), 0, 'the final bounded run completes');
    } finally {
      await db.end();
      await dropSlot(url, slot);
    }
    const seen = new Map<string, string[]>();
    for (const change of await lines(out)) seen.set(change.key, [...(seen.get(change.key) ?? []), change.value === null ? '-' : `${change.value.seq}`]);
    // What the file must hold if the snapshot was taken after transaction p.
    const expected = (p: number) => {
      const rows = new Map<string, string[]>();
      for (const [id, entries] of history) {
        const before = entries.filter(([tx]) => tx <= p).at(-1);
        const rest = entries.filter(([tx]) => tx > p).map(([, e]) => e);
        const all = [...(before === undefined || before[1] === '-' ? [] : [before[1]]), ...rest];
        if (all.length > 0) rows.set(id, all);
      }
      return Object.fromEntries([...rows].sort());
    };
    const actual = Object.fromEntries([...seen].sort());
    const snapshotAfter = Array.from({ length: TRANSACTIONS + 1 }, (_, p) => p).find((p) => JSON.stringify(expected(p)) === JSON.stringify(actual));
    if (snapshotAfter === undefined) {
      // No snapshot point explains the file: show the difference to the closest one (the first value seen says where).
      assert.deepEqual(actual, expected(0), 'a snapshot, then every change once, in commit order');
    }
    // Most transactions came through the change stream, across the kills, not in the snapshot.
    assert.ok(snapshotAfter! < TRANSACTIONS / 2, `the snapshot came after transaction ${snapshotAfter} of ${TRANSACTIONS}`);
  });
});
