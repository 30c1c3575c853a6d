// Keyed timers on lmdb with a time index: with a heap that holds only a few timers, any sequence
// of registrations, deletes, firings (all due, and one key's ahead of the watermark),
// checkpoints and crashes fires the same timers in the same order as a brute-force reference
// (a plain list sorted by time, then registration order) that shares no code with them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type IndexedTimer, KeyedTimers, type KeyTimes, type OrderedTable, type SavedTimers } from '../../src/operators/index.ts';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import { withDir } from '../log/helpers.ts';

type Op =
  | { kind: 'register'; time: number; key: string }
  | { kind: 'delete'; time: number; key: string }
  | { kind: 'pollDue'; upTo: number }
  | { kind: 'pollDueForKey'; upTo: number; key: string }
  | { kind: 'checkpoint' }
  | { kind: 'crash' };

/** The reference: every pending timer with its registration number, in a list. */
class Reference {
  timers: { time: number; key: string; seq: number }[] = [];
  nextSeq = 0;

  register(time: number, key: string): void {
    if (this.timers.some((t) => t.time === time && t.key === key)) return;
    this.timers.push({ time, key, seq: this.nextSeq++ });
  }

  delete(time: number, key: string): void {
    this.timers = this.timers.filter((t) => !(t.time === time && t.key === key));
  }

  /** The first of `candidates` by time, then registration, removed. */
  #take(candidates: { time: number; key: string; seq: number }[]): { time: number; key: string } | undefined {
    let best: { time: number; key: string; seq: number } | undefined;
    for (const t of candidates) if (best === undefined || t.time < best.time || (t.time === best.time && t.seq < best.seq)) best = t;
    if (best === undefined) return undefined;
    this.timers = this.timers.filter((t) => t !== best);
    return { time: best.time, key: best.key };
  }

  pollDue(upTo: number): { time: number; key: string } | undefined {
    return this.#take(this.timers.filter((t) => t.time <= upTo));
  }

  pollDueForKey(upTo: number, key: string): { time: number; key: string } | undefined {
    return this.#take(this.timers.filter((t) => t.time <= upTo && t.key === key));
  }

  copy(): Reference {
    const r = new Reference();
    r.timers = this.timers.map((t) => ({ ...t }));
    r.nextSeq = this.nextSeq;
    return r;
  }
}

const key = fc.constantFrom('a', 'b', 'c', 'd');
const time = fc.integer({ min: -5, max: 40 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('register' as const), time, key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), time, key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pollDue' as const), upTo: time }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pollDueForKey' as const), upTo: time, key }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

const plain = (t: { time: number; key: unknown }) => ({ time: t.time, key: t.key });

function open(backend: LmdbStateBackend, heapLimit: number): KeyedTimers {
  return new KeyedTimers(backend.table<KeyTimes>('p/event-timers/0'), backend.table<IndexedTimer>('p/event-timer-index/0') as OrderedTable<IndexedTimer>, { heapLimit });
}

void test('timers on disk with a small heap fire as the reference does, across checkpoints and crashes (property)', async () => {
  let spilled = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 120 }), fc.integer({ min: 2, max: 6 }), async (ops, heapLimit) => {
      await withDir(async (dir) => {
        let backend = LmdbStateBackend.open(dir);
        let timers = open(backend, heapLimit);
        let reference = new Reference();
        let checkpointed = new Reference();
        for (const [i, o] of ops.entries()) {
          const at = `op ${i} ${JSON.stringify(o)}`;
          if (o.kind === 'register') {
            timers.register(o.time, o.key);
            reference.register(o.time, o.key);
          } else if (o.kind === 'delete') {
            timers.delete(o.time, o.key);
            reference.delete(o.time, o.key);
          } else if (o.kind === 'pollDue') {
            // Fire everything due, as an operator does at a watermark.
            const fired: unknown[] = [];
            const expected: unknown[] = [];
            for (let t = timers.pollDue(o.upTo); t !== undefined; t = timers.pollDue(o.upTo)) fired.push(plain(t));
            for (let t = reference.pollDue(o.upTo); t !== undefined; t = reference.pollDue(o.upTo)) expected.push(t);
            assert.deepEqual(fired, expected, at);
          } else if (o.kind === 'pollDueForKey') {
            const t = timers.pollDueForKey(o.upTo, o.key);
            assert.deepEqual(t && plain(t), reference.pollDueForKey(o.upTo, o.key), at);
          } else if (o.kind === 'checkpoint') {
            backend.checkpoint(new TextEncoder().encode(JSON.stringify(timers.saved())));
            checkpointed = reference.copy();
          } else {
            // A crash: what changed since the checkpoint is lost; the restore reads the tables.
            await backend.close();
            backend = LmdbStateBackend.open(dir);
            const record = backend.lastCheckpoint();
            timers = open(backend, heapLimit);
            timers.reload(record === undefined ? undefined : (JSON.parse(new TextDecoder().decode(record)) as SavedTimers));
            reference = checkpointed.copy();
          }
          assert.equal(timers.size, reference.timers.length, `size after ${at}`);
          assert.ok(timers.inHeap <= Math.max(heapLimit, reference.timers.length) + 1, `heap bounded after ${at}: ${timers.inHeap}`);
          if (timers.inHeap < timers.size) spilled++;
        }
        const rest: unknown[] = [];
        for (let t = timers.pollDue(Number.POSITIVE_INFINITY); t !== undefined; t = timers.pollDue(Number.POSITIVE_INFINITY)) rest.push(plain(t));
        const expected: unknown[] = [];
        for (let t = reference.pollDue(Number.POSITIVE_INFINITY); t !== undefined; t = reference.pollDue(Number.POSITIVE_INFINITY)) expected.push(t);
        assert.deepEqual(rest, expected, 'the rest, at the end of input');
        await backend.close();
      });
    }),
    { numRuns: 150 },
  );
  // The runs did put timers on disk only (not a heap that never filled).
  assert.ok(spilled > 10, `steps with timers on disk only: ${spilled}`);
});
