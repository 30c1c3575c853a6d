/**
 * Random sequences of produce, transactional produce, commit, abort, compaction, retention,
 * close and reopen, and crashes (the active segment cut at a random byte), checked after every
 * step against a simple in-memory model of what each partition must hold.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { Log, type Producer } from '../../src/log/index.ts';
import { withDir } from './helpers.ts';

type Status = 'committed' | 'open' | 'aborted';
interface ModelRecord {
  offset: number;
  key: string;
  value: string | null;
  status: Status;
}

const PARTITIONS = 2;
const KEYS = ['a', 'b', 'c', 'd'];

type Op =
  | { kind: 'produce'; partition: number; keys: number[]; tombstone: boolean }
  | { kind: 'txnSend'; partition: number; keys: number[] }
  | { kind: 'commit' }
  | { kind: 'abort' }
  | { kind: 'compact' }
  | { kind: 'retention' }
  | { kind: 'reopen' }
  | { kind: 'crash'; partition: number; cut: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('produce' as const), partition: fc.nat(PARTITIONS - 1), keys: fc.array(fc.nat(3), { minLength: 1, maxLength: 4 }), tombstone: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('txnSend' as const), partition: fc.nat(PARTITIONS - 1), keys: fc.array(fc.nat(3), { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'abort' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retention' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), partition: fc.nat(PARTITIONS - 1), cut: fc.integer({ min: 1, max: 200 }) }) },
);

function activeSegment(dir: string, partition: number): string {
  const topicDir = readdirSync(join(dir, 'topics')).find((d) => d.startsWith('p.')) as string;
  const partitionDir = join(dir, 'topics', topicDir, String(partition));
  const logs = readdirSync(partitionDir).filter((f) => f.endsWith('.log')).sort();
  return join(partitionDir, logs[logs.length - 1]);
}

class Harness {
  log!: Log;
  producer!: Producer;
  inTxn = false;
  counter = 0;
  model: ModelRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  /** Compaction or retention ran: reads may hold fewer records than the model. */
  reduced = false;
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async open(afterRecovery?: () => void): Promise<void> {
    this.log = await Log.open(this.dir, { maintenanceIntervalMs: 0 });
    afterRecovery?.();
    this.producer = await this.log.producer({ transactionalId: 'model' });
    // A new instance aborts what the previous one left open.
    for (const records of this.model) for (const r of records) if (r.status === 'open') r.status = 'aborted';
    this.inTxn = false;
  }

  async run(op: Op): Promise<void> {
    switch (op.kind) {
      case 'produce': {
        const records = op.keys.map((k, i) => ({
          key: KEYS[k],
          value: op.tombstone && i === op.keys.length - 1 ? null : `v${this.counter++}`,
        }));
        const result = await this.log.append(
          'p',
          op.partition,
          records.map((r) => ({ key: utf8(r.key), value: r.value === null ? null : utf8(r.value), timestamp: Date.now() })),
        );
        this.model[op.partition].push(...records.map((r, i) => ({ offset: result.baseOffset + i, ...r, status: 'committed' as const })));
        break;
      }
      case 'txnSend': {
        if (!this.inTxn) {
          await this.producer.beginTransaction();
          this.inTxn = true;
        }
        const records = op.keys.map((k) => ({ key: KEYS[k], value: `t${this.counter++}` }));
        const [result] = await this.producer.send(
          'p',
          records.map((r) => ({ partition: op.partition, key: utf8(r.key), value: utf8(r.value), timestamp: Date.now() })),
        );
        this.model[op.partition].push(...records.map((r, i) => ({ offset: result.baseOffset + i, ...r, status: 'open' as const })));
        break;
      }
      case 'commit':
      case 'abort': {
        if (!this.inTxn) break;
        if (op.kind === 'commit') await this.producer.commitTransaction();
        else await this.producer.abortTransaction();
        this.inTxn = false;
        for (const records of this.model) for (const r of records) if (r.status === 'open') r.status = op.kind === 'commit' ? 'committed' : 'aborted';
        break;
      }
      case 'compact':
        this.log.compact('p');
        this.reduced = true;
        break;
      case 'retention':
        this.log.enforceRetention('p');
        this.reduced = true;
        break;
      case 'reopen':
        await this.log.close();
        await this.open();
        break;
      case 'crash': {
        await this.log.close();
        const segment = activeSegment(this.dir, op.partition);
        const size = statSync(segment).size;
        truncateSync(segment, Math.max(0, size - op.cut));
        await this.open(() => {
          // What recovery cut (fsync 'never': a crash may lose unsynced records), before the new
          // producer aborts the old transaction with a marker. The next offset never moves back.
          const report = this.log.repair().find((r) => r.partition === op.partition);
          const end = this.log.endOffset('p', op.partition);
          const [from, to] = report?.lost ?? [end, end];
          this.model[op.partition] = this.model[op.partition].filter((r) => r.offset < from || r.offset >= to);
          assert.equal(this.log.endOffset('p', op.partition), end, 'the next offset stays');
        });
        break;
      }
    }
  }

  check(): void {
    for (let p = 0; p < PARTITIONS; p++) {
      const model = this.model[p];
      const byOffset = new Map(model.map((r) => [r.offset, r]));
      const start = this.log.startOffset('p', p);
      const read = (isolation: 'read_committed' | 'read_uncommitted') => {
        const out = [];
        for (let offset = start; ; ) {
          const page = this.log.read('p', p, offset, { isolation });
          out.push(...page.records);
          if (page.nextOffset === offset) break;
          offset = page.nextOffset;
        }
        return out.map((r) => ({ offset: r.offset, key: fromUtf8(r.key as Uint8Array), value: r.value === null ? null : fromUtf8(r.value) }));
      };
      const uncommitted = read('read_uncommitted');
      for (let i = 1; i < uncommitted.length; i++) assert.ok(uncommitted[i].offset > uncommitted[i - 1].offset);
      for (const r of uncommitted) {
        const expected = byOffset.get(r.offset);
        assert.ok(expected, `partition ${p}: offset ${r.offset} is not in the model`);
        assert.equal(r.key, expected.key);
        assert.equal(r.value, expected.value);
      }
      const readOffsets = new Set(uncommitted.map((r) => r.offset));
      const latest = new Map<string, number>();
      for (const r of model) if (r.status === 'committed') latest.set(r.key, r.offset);
      for (const r of model) {
        if (r.offset < start) continue;
        const droppable = this.reduced && (r.status === 'aborted' || (r.status === 'committed' && latest.get(r.key) !== r.offset));
        if (!droppable) assert.ok(readOffsets.has(r.offset), `partition ${p}: offset ${r.offset} (${r.status}) is missing`);
      }
      const lso = model.find((r) => r.status === 'open')?.offset ?? Number.POSITIVE_INFINITY;
      assert.equal(this.log.endOffset('p', p, 'read_committed'), Math.min(lso, this.log.endOffset('p', p)));
      const committed = read('read_committed');
      const expectedCommitted = uncommitted.filter((r) => byOffset.get(r.offset)?.status === 'committed' && r.offset < lso);
      assert.deepEqual(committed, expectedCommitted, `partition ${p}: read_committed view`);
    }
  }
}

test('the log agrees with an in-memory model under random operations and crashes', { timeout: 300_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) =>
      withDir(async (dir) => {
        const harness = new Harness(dir);
        const setup = await Log.open(dir, { maintenanceIntervalMs: 0 });
        setup.createTopic('p', { partitions: PARTITIONS, compact: true, segmentBytes: 400, retentionBytes: 2000, deleteRetentionMs: 1e12, fsync: 'never' });
        await setup.close();
        await harness.open();
        try {
          for (const op of ops) {
            await harness.run(op);
            harness.check();
          }
        } finally {
          await harness.log.close();
        }
      }),
    ),
    { numRuns: 40 },
  );
});
