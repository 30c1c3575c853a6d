// The top-per-window rewrite (rows joined with their window's MAX on the maximum, Nexmark q7's
// shape) against a brute-force reference (group by window and key, max, keep the rows equal to
// it) and against the general plan (the interval join, the rewrite turned off): random bids over
// several partitions, out of order by less than the watermark bound (no record is late), ties
// and NULL prices and keys, with and without a GROUP BY key, the view on either side of the
// join; random batch sizes, and a checkpoint and restore at a random point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TestKit } from '../../src/testing/index.ts';
import { type GoldenCase, type GoldenInput, runStraight, runWithRestore } from './golden-run.ts';

const BOUND_MS = 1500;

interface Bid {
  id: number;
  k: string | null;
  price: number | null;
  ts: number;
  partition: number;
}

const bids = fc
  .array(
    fc.record({
      k: fc.constantFrom('x', 'y', null),
      price: fc.option(fc.integer({ min: 0, max: 4 }), { freq: 8 }),
      jitter: fc.integer({ min: 0, max: BOUND_MS }),
      partition: fc.integer({ min: 0, max: 2 }),
      step: fc.integer({ min: 0, max: 700 }),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((list) => {
    let t = 20_000;
    return list.map(({ k, price, jitter, partition, step }, i) => {
      t += step;
      return { id: i + 1, k, price, ts: t + jitter, partition } satisfies Bid;
    });
  });

// viaView: the rows are a view filtering the source and selecting its columns (the plan then reads the source records).
const shape = fc.record({ sizeMs: fc.integer({ min: 500, max: 4000 }), keyed: fc.boolean(), viewOnLeft: fc.boolean(), viaView: fc.boolean() });
const batch = fc.integer({ min: 1, max: 7 });
const batchSizes = fc.record({ straight: batch, before: batch, after: batch });

function script(s: { sizeMs: number; keyed: boolean; viewOnLeft: boolean; viaView: boolean }): string {
  const rows = s.viaView ? 'vbids' : 'bids';
  const size = `INTERVAL '${s.sizeMs} milliseconds'`;
  const on = [
    s.viewOnLeft ? 'm.maxprice = b.price' : 'b.price = m.maxprice',
    ...(s.keyed ? ['b.k = m.k'] : []),
    `b.ts BETWEEN m.rt - INTERVAL '${s.sizeMs - 1} milliseconds' AND m.rt`,
  ].join(' AND ');
  return `CREATE SOURCE bids (id BIGINT, k TEXT, price BIGINT, ts BIGINT, WATERMARK FOR ts AS ts - INTERVAL '${BOUND_MS} milliseconds') WITH (topic = 'bids');
${s.viaView ? 'CREATE VIEW vbids AS SELECT id, k, price, ts FROM bids WHERE id % 7 <> 3;' : ''}
CREATE VIEW maxes AS SELECT ${s.keyed ? 'k, ' : ''}MAX(price) AS maxprice, TUMBLE_ROWTIME(ts, ${size}) AS rt FROM ${rows} GROUP BY ${s.keyed ? 'k, ' : ''}TUMBLE(ts, ${size});
CREATE MATERIALIZED VIEW top AS SELECT b.id, b.price, m.maxprice, CAST(m.rt AS BIGINT) AS rt FROM ${s.viewOnLeft ? `maxes m JOIN ${rows} b` : `${rows} b JOIN maxes m`} ON ${on};
CREATE SINK top_out FROM top WITH (topic = 'top');`;
}

/** The rows holding their window's (and key's) maximum, by grouping, as `[id, price, maxprice, rt]` JSON, sorted. */
function reference(list: Bid[], sizeMs: number, keyed: boolean): string[] {
  const groups = new Map<string, Bid[]>();
  for (const bid of list) {
    if (bid.price === null || (keyed && bid.k === null)) continue;
    const start = Math.floor(bid.ts / sizeMs) * sizeMs;
    const id = `${start}/${keyed ? bid.k : ''}`;
    groups.set(id, [...(groups.get(id) ?? []), bid]);
  }
  const rows: string[] = [];
  for (const [id, members] of groups) {
    const start = Number(id.split('/')[0]);
    let highest = Number.NEGATIVE_INFINITY;
    for (const m of members) if (m.price! > highest) highest = m.price!;
    for (const m of members) if (m.price === highest) rows.push(JSON.stringify([m.id, m.price, highest, start + sizeMs - 1]));
  }
  return rows.sort();
}

function rowsOf(lines: string[]): string[] {
  return lines
    .map((line) => {
      const { value } = JSON.parse(line) as { value: Record<string, unknown> };
      return JSON.stringify([value.id, value.price, value.maxprice, value.rt]);
    })
    .sort();
}

test('the top-per-window rewrite equals a brute-force reference and the general join plan, with a checkpoint and restore', async () => {
  await fc.assert(
    fc.asyncProperty(bids, shape, batchSizes, fc.double({ min: 0, max: 1, noNaN: true }), async (list, s, sizes, cutAt) => {
      const input: GoldenInput[] = list.map((b) => ({ topic: 'bids', partition: b.partition, value: { id: b.id, k: b.k, price: b.price, ts: b.ts } }));
      const c: GoldenCase = { name: 'top-per-window', sql: script(s), input, expected: [] };
      const expected = reference(s.viaView ? list.filter((b) => b.id % 7 !== 3) : list, s.sizeMs, s.keyed);
      const rewritten = await runStraight(c, { batchSizes: sizes });
      assert.deepEqual(rowsOf(rewritten), expected, 'the rewrite, one bounded run');
      const cut = Math.floor(cutAt * input.length);
      assert.deepEqual(rowsOf(await runWithRestore(c, cut, { batchSizes: sizes })), expected, `the rewrite, checkpoint after ${cut} records, then restore`);
      // Record for record (keys too) what the interval join gives.
      const general = await runStraight(c, { batchSizes: sizes, sql: { topPerWindow: false } });
      assert.deepEqual(rewritten, general, 'the rewrite against the general plan');
    }),
    { numRuns: 40 },
  );
});

async function explain(sql: string, topPerWindow?: boolean): Promise<string> {
  const app = new TestKit().app({ name: 'explain' });
  const results = await app.sql(sql, topPerWindow === undefined ? {} : { topPerWindow });
  return results.at(-1)!.message;
}

const SOURCE = `CREATE SOURCE bids (id BIGINT, k TEXT, price BIGINT, ts BIGINT, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (topic = 'bids');
CREATE VIEW maxes AS SELECT MAX(price) AS maxprice, TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS rt FROM bids GROUP BY TUMBLE(ts, INTERVAL '10' SECOND);`;
const TOP = `SELECT b.id, b.price FROM bids b JOIN maxes m ON b.price = m.maxprice AND b.ts BETWEEN m.rt - INTERVAL '9999 milliseconds' AND m.rt`;

test('EXPLAIN shows the top-per-window aggregate in place of the interval join', async () => {
  const plan = await explain(`${SOURCE}\nCREATE VIEW top AS ${TOP};\nEXPLAIN SELECT * FROM top;`);
  assert.match(plan, /top-top-m: window \{"kind":"tumbling","sizeMs":10000/);
  assert.doesNotMatch(plan, /interval join/);
  assert.match(await explain(`${SOURCE}\nCREATE VIEW top AS ${TOP};\nEXPLAIN SELECT * FROM top;`, false), /interval join/);
});

test('joins that are not exactly the pattern keep the interval join', async () => {
  const variants = [
    // another condition in ON
    `${TOP} AND b.id > 3`,
    // a bound that is not the window
    TOP.replace("'9999 milliseconds'", "'5000 milliseconds'"),
    // not the maximum's equality
    TOP.replace('b.price = m.maxprice', 'b.id = m.maxprice'),
    // an outer join
    TOP.replace(' JOIN ', ' LEFT JOIN '),
  ];
  for (const query of variants) {
    const plan = await explain(`${SOURCE}\nCREATE VIEW top AS ${query};\nEXPLAIN SELECT * FROM top;`);
    assert.match(plan, /interval join/, query);
    assert.doesNotMatch(plan, /-top-/, query);
  }
  // a view over another window, a HAVING, allowed lateness
  for (const view of [
    'CREATE VIEW maxes AS SELECT MAX(price) AS maxprice, HOP_ROWTIME(ts, INTERVAL \'5\' SECOND, INTERVAL \'10\' SECOND) AS rt FROM bids GROUP BY HOP(ts, INTERVAL \'5\' SECOND, INTERVAL \'10\' SECOND);',
    "CREATE VIEW maxes AS SELECT MAX(price) AS maxprice, TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS rt FROM bids GROUP BY TUMBLE(ts, INTERVAL '10' SECOND) HAVING COUNT(*) > 1;",
    "CREATE VIEW maxes AS SELECT MAX(price) AS maxprice, TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS rt FROM bids GROUP BY TUMBLE(ts, INTERVAL '10' SECOND) EMIT AFTER WATERMARK ALLOWED LATENESS = INTERVAL '1' MINUTE;",
  ]) {
    const sql = `${SOURCE.split('\n')[0]}\n${view}\nCREATE VIEW top AS ${TOP};\nEXPLAIN SELECT * FROM top;`;
    assert.match(await explain(sql), /interval join/, view);
  }
});

test('bad records on the source-records path go to the dead-letter topic, naming what and where, and nothing accepted is lost', async () => {
  // The rewrite reads the view's source records (not rows): each is checked in the view's columns before it may lead its window.
  const kit = new TestKit();
  kit.input('raw', [
    { id: 1, k: 'x', price: 3, ts: 1000, qty: 1 },
    { id: 2, k: 'x', price: 'lots', ts: 2000, qty: 1 },
    { id: 3, k: 'x', price: 5, ts: 3000, qty: 'many' },
    { id: 'four', k: 'x', price: 1, ts: 4000, qty: 1 },
    { id: 5, k: 'x', price: 5, ts: 5000, qty: 1 },
    { id: 6, k: 'x', price: 2, ts: 'later', qty: 1 },
    { id: 7, k: 'x', price: 4, ts: 12_000, qty: 1 },
  ]);
  kit.inputRaw('raw', ['"not an object"']);
  const app = kit.app({ name: 'topdlq' });
  const sql = `CREATE SOURCE raw (id BIGINT, k TEXT, price BIGINT, ts BIGINT, qty BIGINT, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (topic = 'raw');
CREATE VIEW bids AS SELECT id, k, price, ts FROM raw WHERE k = 'x';
CREATE VIEW maxes AS SELECT MAX(price) AS maxprice, TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS rt FROM bids GROUP BY TUMBLE(ts, INTERVAL '10' SECOND);
CREATE VIEW top AS SELECT b.id, b.price FROM bids b JOIN maxes m ON b.price = m.maxprice AND b.ts BETWEEN m.rt - INTERVAL '9999 milliseconds' AND m.rt;`;
  const results = await app.sql(`${sql}\nEXPLAIN SELECT * FROM top;`);
  assert.match(results.at(-1)!.message, /top-top-m-columns: filter/, 'the plan reads the source records');
  (await app.sql('SELECT * FROM top;'))[0]!.stream!.to('out');
  await app.run({ bounded: true });
  // Both rows with window 0's maximum (id 3 before the bad records, id 5 after them), and window 1's; qty is never read, so 'many' fails nothing.
  assert.deepEqual(kit.output('out'), [
    { id: 3, price: 5 },
    { id: 5, price: 5 },
    { id: 7, price: 4 },
  ]);
  const letters = kit.deadLetters('topdlq');
  const reasons = letters.map((l) => `${l.error} @ ${l.topic}/${l.partition}@${l.offset}`).sort();
  assert.equal(letters.length, 4, reasons.join('\n'));
  assert.match(reasons.join('\n'), /source raw, column price: "lots" is not a number @ raw\/0@1/);
  assert.match(reasons.join('\n'), /source raw, column id: "four" is not a number @ raw\/0@3/);
  assert.match(reasons.join('\n'), /event-time column ts is "later", not a timestamp.* @ raw\/0@5/);
  // A value that is no object has no event time: the source sends it on before any column is read.
  assert.match(reasons.join('\n'), /event-time column ts is null, not a timestamp.* @ raw\/0@7/);
});
