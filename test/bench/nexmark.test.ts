// Nexmark smoke test: every query on Sluice and as its hand-written loop over the same events
// must give the same rows (count and checksum). A low event rate spreads 25,000 events over 25 s
// of event time, so the windowed queries fire many windows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonical, checksumOf } from '../../bench/nexmark/checksum.ts';
import { encodeInput } from '../../bench/nexmark/codecs.ts';
import { NexmarkGenerator } from '../../bench/nexmark/generator.ts';
import { QUERIES } from '../../bench/nexmark/queries/index.ts';
import { type Input, runHandwritten, runSluice } from '../../bench/nexmark/run.ts';

const EVENTS = 25_000;
const generator = new NexmarkGenerator({ seed: 7, tps: 1_000 });
const events = generator.events(EVENTS);

void describe('nexmark generator', () => {
  void it('follows the 1:3:46 mix and numbers people and auctions from 1000', () => {
    const kinds = { person: 0, auction: 0, bid: 0 };
    for (const e of events) kinds[e.type]++;
    assert.deepEqual(kinds, { person: 500, auction: 1500, bid: 23000 });
    assert.deepEqual(
      events.filter((e) => e.type === 'person').slice(0, 3).map((p) => p.id),
      [1000, 1001, 1002],
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'auction').slice(0, 4).map((a) => a.id),
      [1000, 1001, 1002, 1003],
    );
  });

  void it('is deterministic per (seed, eventId), whatever the order of generation', () => {
    const again = new NexmarkGenerator({ seed: 7, tps: 1_000 });
    for (const id of [24_999, 17, 0, 12_345]) assert.deepEqual(again.event(id), events[id]);
    assert.notDeepEqual(new NexmarkGenerator({ seed: 8, tps: 1_000 }).event(17), events[17]);
  });

  void it('spaces event times by 1e6/tps microseconds and pads bids to about 100 bytes', () => {
    assert.equal(events[2_000].dateTime - events[0].dateTime, 2_000);
    const bids = events.filter((e) => e.type === 'bid');
    const hot = bids.filter((b) => b.auction % 100 === 0).length / bids.length;
    assert.ok(hot > 0.45 && hot < 0.6, `hot auction share ${hot}`);
    const size = bids.reduce((n, b) => n + 32 + b.extra.length, 0) / bids.length;
    assert.ok(size > 95 && size < 105, `average bid size ${size}`);
  });
});

void describe('nexmark checksum', () => {
  void it('ignores row order and key order, not values', () => {
    const a = checksumOf([{ x: 1, y: 'a' }, { y: 'b', x: 2.5 }]);
    assert.deepEqual(a, checksumOf([{ x: 2.5, y: 'b' }, { y: 'a', x: 1 }]));
    assert.notDeepEqual(a, checksumOf([{ x: 1, y: 'a' }, { y: 'b', x: 2.25 }]));
    assert.equal(canonical({ b: 0.908 * 1234, a: null }), '{"a":null,"b":1120.472}');
  });
});

void describe('nexmark queries: Sluice equals the hand-written loop', () => {
  for (const mode of ['object', 'json'] as const) {
    const input: Input = { mode, events, values: encodeInput(mode, events) };
    for (const query of QUERIES) {
      void it(`${query.name} (${mode} records)`, async () => {
        const handwritten = runHandwritten(query, input);
        const sluice = await runSluice(query, input);
        assert.ok(handwritten.checksum.rows > 0, 'the query produced rows');
        assert.deepEqual(sluice.checksum, handwritten.checksum);
      });
    }
  }
});
