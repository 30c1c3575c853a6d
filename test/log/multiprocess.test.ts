import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromUtf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll } from './helpers.ts';

const WRITER = new URL('./fixtures/writer.ts', import.meta.url).pathname;

interface Writer {
  id: string;
  mode: 'plain' | 'txn';
  child: ChildProcess;
  acked: number;
  /** `acked` when this process started: it acknowledged something once `acked` moved past it. */
  startAcked: number;
}

function startWriter(dataDir: string, mode: 'plain' | 'txn', id: string, acked = -1): Writer {
  const child = spawn(process.execPath, [WRITER, dataDir, mode, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  const writer: Writer = { id, mode, child, acked, startAcked: acked };
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('ack ')) writer.acked = Math.max(writer.acked, Number(line.slice(4)));
  });
  return writer;
}

/** Resolves once the writer acknowledged a write after `after` (it got going), or after `timeoutMs`. */
async function progressed(writer: Writer, after: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (writer.acked <= after && writer.child.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function kill(writer: Writer): Promise<void> {
  return new Promise((resolve) => {
    if (writer.child.exitCode !== null || writer.child.signalCode !== null) return resolve();
    writer.child.once('exit', () => resolve());
    writer.child.kill('SIGKILL');
  });
}


test('writers killed at random moments leave a consistent log that every process can keep using', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-mp-'));
  try {
    const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
    log.createTopic('plain', { partitions: 2, fsync: 'never' });
    log.createTopic('tx', { partitions: 2, fsync: 'never' });
    const live = [startWriter(dataDir, 'plain', 'a'), startWriter(dataDir, 'plain', 'b'), startWriter(dataDir, 'txn', 'c')];
    const writers = [...live];
    // This process reads while others write: it must see their records appear.
    let seenByReader = 0;
    const kills = 24;
    for (let k = 0; k < kills; k++) {
      const index = k % live.length;
      const victim = live[index];
      // Kill at a random moment once it is writing: start-up time varies with the machine's load.
      await progressed(victim, victim.startAcked);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 250));
      await kill(victim);
      // 'plain' writers number from 0 again after a restart: give the new one a fresh id.
      const id = victim.mode === 'plain' ? `${victim.id}${k}` : victim.id;
      live[index] = startWriter(dataDir, victim.mode, id, victim.mode === 'txn' ? victim.acked : -1);
      writers.push(live[index]);
      seenByReader = Math.max(seenByReader, log.endOffset('plain', 0) + log.endOffset('plain', 1));
    }
    await Promise.all(writers.map(kill));
    await log.abortOrphanedTransactions();
    assert.ok(seenByReader > 0, 'the reading process saw other processes append');

    // Plain topic: contiguous offsets, every acknowledged record exactly once.
    const seen = new Map<string, number>();
    for (let p = 0; p < 2; p++) {
      const records = readAll(log, 'plain', p, 'read_uncommitted');
      assert.deepEqual(records.map((r) => r.offset), records.map((_, i) => i), `plain/${p} offsets are contiguous`);
      for (const record of records) {
        const { w, seq } = JSON.parse(fromUtf8(record.value as Uint8Array));
        const key = `${w}:${seq}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
    for (const writer of writers.filter((w) => w.mode === 'plain')) {
      for (let seq = 0; seq <= writer.acked; seq++) assert.equal(seen.get(`${writer.id}:${seq}`), 1, `${writer.id}:${seq} written once`);
    }
    assert.ok([...seen.values()].every((n) => n === 1), 'no record appears twice');

    // Transactions: all or nothing, nothing left open, group offsets agree with what committed.
    for (let p = 0; p < 2; p++) assert.equal(log.endOffset('tx', p, 'read_committed'), log.endOffset('tx', p), 'no transaction left open');
    const perTxn = new Map<number, number>();
    for (let p = 0; p < 2; p++) {
      for (const record of readAll(log, 'tx', p, 'read_committed')) {
        const { txn } = JSON.parse(fromUtf8(record.value as Uint8Array));
        perTxn.set(txn, (perTxn.get(txn) ?? 0) + 1);
      }
    }
    for (const [txn, count] of perTxn) assert.equal(count, 4, `transaction ${txn} is all or nothing`);
    const committed = log.committedOffset('g-c', 'tx', 0) ?? 0;
    assert.equal(perTxn.size, committed, 'group offset counts exactly the committed transactions');
    const lastAcked = Math.max(...writers.filter((w) => w.mode === 'txn').map((w) => w.acked));
    assert.ok(committed >= lastAcked + 1, 'every acknowledged transaction committed');
    await log.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
