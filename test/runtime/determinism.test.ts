// DESIGN section 4, determinism: with no late records, the results are a function of the input
// alone, whatever the batch size and however many partitions the input is spread over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Event = { user: string; v: number; ts: number };

const BOUND = 2000;

/** Events whose disorder stays within the watermark bound, so none is late. */
const eventsArb = fc
  .array(fc.record({ user: fc.constantFrom('a', 'b', 'c', 'd', 'e'), v: fc.integer({ min: -50, max: 50 }), step: fc.integer({ min: 0, max: 3000 }), jitter: fc.integer({ min: 0, max: BOUND - 1 }) }), { minLength: 1, maxLength: 120 })
  .map((rows) => {
    let base = 1_000_000;
    return rows.map(({ user, v, step, jitter }) => {
      base += step;
      return { user, v, ts: base + jitter };
    });
  });

async function run(events: Event[], partitions: number, batchSize: number): Promise<Record<string, string[]>> {
  const kit = new TestKit();
  kit.input('events', events, { partitions });
  const app = kit.app({ name: 'det' });
  const source = app.stream<Event>('events', { timestamp: (e) => e.ts, watermark: BOUND });
  const keyed = source.filter((e) => e.v !== 0).keyBy((e) => e.user);
  keyed.window(Windows.tumbling('5s')).count().to('tumbling');
  keyed.window(Windows.hopping('6s', '2s')).sum((e) => e.v).to('hopping');
  keyed.window(Windows.session('3s')).max((e) => e.v).to('sessions');
  // A second exchange: re-key window results by their value's sign.
  keyed
    .window(Windows.tumbling('5s'))
    .sum((e) => e.v)
    .keyBy((r) => (r.value >= 0 ? 'pos' : 'neg'))
    .window(Windows.tumbling('10s'))
    .count()
    .to('regrouped');
  await app.run({ bounded: true, batchSize });
  const out: Record<string, string[]> = {};
  for (const topic of ['tumbling', 'hopping', 'sessions', 'regrouped']) out[topic] = kit.output(topic).map((r) => JSON.stringify(r)).sort();
  return out;
}

void test('results do not depend on batch size or partition count', async () => {
  await fc.assert(
    fc.asyncProperty(eventsArb, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 50 }), async (events, partitions, batchSize) => {
      const reference = await run(events, 1, 10_000);
      const other = await run(events, partitions, batchSize);
      assert.deepEqual(other, reference);
    }),
    { numRuns: 60 },
  );
});

void test('a fixed input gives the same output at batch sizes 1, 7 and 1000 over 1, 3 and 8 partitions', async () => {
  const events: Event[] = [];
  for (let i = 0; i < 500; i++) events.push({ user: `u${(i * 31) % 7}`, v: (i % 13) - 6, ts: 1_000_000 + i * 97 + ((i * 7919) % BOUND) });
  const reference = await run(events, 1, 1000);
  assert.ok(reference.tumbling.length > 10 && reference.sessions.length > 0 && reference.regrouped.length > 0);
  for (const partitions of [1, 3, 8]) {
    for (const batchSize of [1, 7, 1000]) assert.deepEqual(await run(events, partitions, batchSize), reference, `${partitions} partitions, batch ${batchSize}`);
  }
});
