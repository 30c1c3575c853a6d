// Barrier alignment against its definition: for random inputs, each with the same checkpoints'
// barriers among its records (an input may end early), items arriving at random moments, the
// aligner keeps each input's order, and reports checkpoint N after every item sent before N's
// barrier on any input and before every item sent after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type AlignedItem, BarrierAligner, type ItemSource } from '../../src/runtime/barrier-alignment.ts';
import type { ChannelItem } from '../../src/runtime/thread-channel.ts';

/** An input whose items become available `arrive` at a time, as a channel's batches do. */
class Arriving implements ItemSource {
  readonly #items: ChannelItem[];
  #visible = 0;
  #taken = 0;
  constructor(items: ChannelItem[]) {
    this.#items = items;
  }
  arrive(n: number): void {
    this.#visible = Math.min(this.#items.length, this.#visible + n);
  }
  get exhausted(): boolean {
    return this.#visible === this.#items.length;
  }
  poll(): ChannelItem | undefined {
    return this.#taken < this.#visible ? this.#items[this.#taken++] : undefined;
  }
}

// Per input: the number of records before each barrier, and whether it ends before the last barriers.
const inputArb = (checkpoints: number) =>
  fc.record({
    gaps: fc.array(fc.nat({ max: 6 }), { minLength: checkpoints + 1, maxLength: checkpoints + 1 }),
    endsAfter: fc.integer({ min: 0, max: checkpoints }),
  });

const caseArb = fc.integer({ min: 0, max: 4 }).chain((checkpoints) =>
  fc.record({
    checkpoints: fc.constant(checkpoints),
    inputs: fc.array(inputArb(checkpoints), { minLength: 1, maxLength: 4 }),
    arrivals: fc.array(fc.tuple(fc.nat({ max: 3 }), fc.integer({ min: 1, max: 4 })), { maxLength: 60 }),
  }),
);

void test('alignment keeps each input in order and reports checkpoint N exactly between the items before and after its barriers', () => {
  fc.assert(
    fc.property(caseArb, ({ checkpoints, inputs, arrivals }) => {
      // Each record names its input and the checkpoint it precedes, so the expectations need no model of the aligner.
      const streams = inputs.map(({ gaps, endsAfter }, input) => {
        const items: ChannelItem[] = [];
        let seq = 0;
        for (let epoch = 1; epoch <= checkpoints + 1; epoch++) {
          const last = epoch > endsAfter || epoch === checkpoints + 1;
          for (let r = 0; r < gaps[epoch - 1]; r++) items.push({ kind: 'record', key: input, value: { input, seq: seq++, epoch }, timestamp: 0, sourceWatermark: 0 });
          if (last) break;
          items.push({ kind: 'barrier', id: epoch });
        }
        items.push({ kind: 'end' });
        return items;
      });
      const sources = streams.map((items) => new Arriving(items));
      const aligner = new BarrierAligner(sources);
      const out: AlignedItem[] = [];
      const take = () => {
        for (let next = aligner.next(); next !== undefined; next = aligner.next()) out.push(next);
      };
      for (const [input, n] of arrivals) {
        sources[input % sources.length].arrive(n);
        take();
      }
      for (const source of sources) source.arrive(Number.POSITIVE_INFINITY);
      take();
      assert.equal(aligner.done, true);

      // Each input's items come out in its order, every one of them once.
      for (let input = 0; input < streams.length; input++) {
        const mine = out.flatMap((o) => (o.kind === 'item' && o.input === input ? [o.item] : []));
        assert.deepEqual(mine, streams[input].filter((i) => i.kind !== 'barrier'));
      }
      // Checkpoint N is reported once, in order, for every barrier some input still sent.
      const sentBarriers = new Set(streams.flatMap((items) => items.flatMap((i) => (i.kind === 'barrier' ? [i.id] : []))));
      const aligned = out.flatMap((o, at) => (o.kind === 'aligned' ? [{ id: o.id, at }] : []));
      assert.deepEqual(
        aligned.map((a) => a.id),
        [...sentBarriers].sort((a, b) => a - b),
      );
      // Before N: exactly the records of epochs <= N.
      for (const { id, at } of aligned) {
        out.forEach((o, position) => {
          if (o.kind !== 'item' || o.item.kind !== 'record') return;
          const { epoch } = o.item.value as { epoch: number };
          assert.equal(position < at, epoch <= id, `record of epoch ${epoch} ${position < at ? 'before' : 'after'} checkpoint ${id}`);
        });
      }
    }),
    { numRuns: 300 },
  );
});

void test('barriers out of order are refused with the checkpoints named', () => {
  const source = new Arriving([{ kind: 'barrier', id: 2 }]);
  const other = new Arriving([{ kind: 'barrier', id: 3 }]);
  source.arrive(1);
  other.arrive(1);
  const aligner = new BarrierAligner([source, other]);
  assert.throws(() => aligner.next(), /barrier 3 on input 1 while checkpoint 2 is being aligned/);
});
