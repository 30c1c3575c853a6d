// The lmdb backend's background checkpoints against a plain Map model: random sets, in-place
// changes (get, change, set), deletes and reads, interleaved with barriers, event-loop turns
// while the write is in flight, and waits for it. Every read sees the newest change; what a
// reopen finds is exactly the model as of the last barrier whose write finished.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import { withDir } from '../log/helpers.ts';

type Value = { v: number; tags: Set<number> };
type Control = { t: 'barrier' } | { t: 'turn' } | { t: 'await' };
type Op = { t: 'set' | 'change'; k: number; v: number } | { t: 'delete' | 'get'; k: number } | Control;

const KEYS = 12;
/** Entries rewritten at every barrier ahead of the tested tables, so framing takes several slices. */
const FILLER = 6_000;
const scopes = ['t/keyed/0', 't/keyed/1'];
const where = (k: number) => ({ scope: scopes[k % 2], id: `k${k}` });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constantFrom('set' as const, 'change' as const), k: fc.nat(KEYS - 1), v: fc.integer() }),
  fc.record({ t: fc.constantFrom('delete' as const, 'get' as const), k: fc.nat(KEYS - 1) }),
  fc.constantFrom<Control>({ t: 'barrier' }, { t: 'turn' }, { t: 'await' }),
);

void test('background checkpoints: reads see the newest change, a reopen the last finished barrier (property)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) =>
      withDir(async (dir) => {
        const backend = LmdbStateBackend.open(dir);
        const filler = backend.table<number>('a-filler/keyed/0');
        const tables = new Map(scopes.map((s) => [s, backend.table<Value>(s)]));
        const model = new Map<number, number>();
        let durable = new Map<number, number>();
        let barrier = 0;
        let inFlight: { done: Promise<void>; finished: boolean; model: Map<number, number> } | undefined;
        const settle = async () => {
          if (inFlight === undefined) return;
          await inFlight.done;
          durable = inFlight.model;
          inFlight = undefined;
        };
        for (const o of ops) {
          if (o.t === 'barrier') {
            await settle();
            for (let i = 0; i < FILLER; i++) filler.set(i, barrier);
            barrier++;
            backend.seal();
            const started = { done: Promise.resolve(), finished: false, model: new Map(model) };
            started.done = backend.writeCheckpoint(new Uint8Array([barrier])).then(() => {
              started.finished = true;
            });
            inFlight = started;
          } else if (o.t === 'turn') await turn();
          else if (o.t === 'await') await settle();
          else if ('k' in o) {
            const { scope, id } = where(o.k);
            const table = tables.get(scope)!;
            const seen = table.get(id);
            assert.equal(seen?.v, model.get(o.k), `read of k${o.k}`);
            if (o.t === 'set') table.set(id, { v: o.v, tags: new Set([o.v]) });
            else if (o.t === 'change') {
              if (seen === undefined) table.set(id, { v: o.v, tags: new Set([o.v]) });
              else {
                seen.v = o.v; // in place, as operators do
                seen.tags.add(o.v);
                table.set(id, seen);
              }
            } else if (o.t === 'delete') table.delete(id);
            if (o.t === 'delete') model.delete(o.k);
            else if ('v' in o) model.set(o.k, o.v);
          }
          if (inFlight?.finished) await settle();
        }
        await settle();
        await backend.close();
        const reopened = LmdbStateBackend.open(dir);
        try {
          for (let k = 0; k < KEYS; k++) {
            const { scope, id } = where(k);
            assert.equal(reopened.table<Value>(scope).get(id)?.v, durable.get(k), `k${k} after the reopen`);
          }
          assert.equal(reopened.lastCheckpoint()?.[0], barrier === 0 ? undefined : barrier);
        } finally {
          await reopened.close();
        }
      }),
    ),
    { numRuns: 40 },
  );
});
