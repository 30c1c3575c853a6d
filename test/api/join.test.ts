// The join builders: Flink's spellings, typed results (a left join's right side may be null),
// bad arguments refused where they are written, explain() showing the join with both inputs,
// and inputs keyed differently or with different partition counts meeting in one task.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, Sluice, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Impression = { adId: string; ts: number };
type Click = { ad: string; user: string; ts: number };

function streams() {
  const app = new Sluice({ name: 'joins' });
  return { app, impressions: app.stream<Impression>('impressions', { timestamp: (i) => i.ts }), clicks: app.stream<Click>('clicks', { timestamp: (c) => c.ts }) };
}

void test('joins are typed: the pair of an inner join, nulls for what a left or outer join may miss', () => {
  const { impressions, clicks } = streams();
  impressions
    .join(clicks)
    .where((i) => i.adId)
    .equalTo((c) => c.ad)
    .window(Windows.tumbling('1m'))
    .apply((i, c) => ({ ad: i.adId, user: c.user }))
    .map((r) => r.ad.length + r.user.length)
    .to('window-joined');
  const keyedImpressions = impressions.keyBy((i) => i.adId);
  const keyedClicks = clicks.keyBy((c) => c.ad);
  keyedImpressions.intervalJoin(keyedClicks).between('-10m', '10m').process((i, c, ctx) => c.ts - i.ts + ctx.timestamp).to('inner');
  keyedImpressions
    .intervalJoin(keyedClicks, { type: 'left' })
    .between('-10m', '10m')
    // @ts-expect-error the click of a left join may be null
    .process((i, c) => c.ts - i.ts)
    .to('left');
  keyedImpressions
    .intervalJoin(keyedClicks, { type: 'outer' })
    .between('-10m', '10m')
    // @ts-expect-error the impression of an outer join may be null
    .process((i, c) => i.ts + (c?.ts ?? 0))
    .to('outer');
  // @ts-expect-error equalTo's key has where's key type
  impressions.join(clicks).where((i) => i.adId).equalTo((c) => c.ts);
  // @ts-expect-error an interval join needs the other side keyed by the same kind of key
  keyedImpressions.intervalJoin(clicks.keyBy((c) => c.ts));
});

void test('join builders refuse bad arguments where they are written, saying what to write', () => {
  const { impressions, clicks } = streams();
  const keyed = impressions.keyBy((i) => i.adId);
  const other = clicks.keyBy((c) => c.ad);
  const refused = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => isSluiceError(e, 'INVALID_ARGUMENT') && pattern.test(e.message));
  refused(() => keyed.intervalJoin(other).between('10m', '-10m'), /lower bound is above the upper one.*between\('-10m', '10m'\)/);
  refused(() => keyed.intervalJoin(other).between(0, 0).lowerBoundExclusive(), /holds no time/);
  refused(() => keyed.intervalJoin(other).between('-x' as never, '1m'), /not a duration/);
  refused(() => keyed.intervalJoin(other, { type: 'right' as never }), /type "right" is not a join type/);
  refused(() => keyed.intervalJoin(clicks as never), /takes a keyed stream/);
  refused(() => impressions.join('clicks' as never), /takes a stream of the same app/);
  refused(() => impressions.join(clicks).where('adId' as never), /where\(\) expects a function/);
  refused(() => impressions.join(clicks).where((i) => i.adId).equalTo((c) => c.ad).window(Windows.countTumbling(3)), /needs time windows/);
  refused(() => impressions.join(clicks).where((i) => i.adId).equalTo((c) => c.ad).window(Windows.tumbling('1m', { time: 'processing' })), /event time/);
  refused(() => keyed.intervalJoin(other).between('-1m', '1m').process((i) => i, { name: 'bad name' }), /name "bad name" is not valid/);
});

void test('explain() shows each join with both inputs and its bounds or window; the keyBys written before it leave no stage', () => {
  const { app, impressions, clicks } = streams();
  impressions
    .keyBy((i) => i.adId)
    .intervalJoin(clicks.keyBy((c) => c.ad), { type: 'left' })
    .between('-10m', '10m')
    .upperBoundExclusive()
    .sideOutputLateData('late-ads')
    .process((i, c) => ({ i, c }), { name: 'time-to-click' })
    .to('joined');
  impressions.join(clicks).where((i) => i.adId).equalTo((c) => c.ad).window(Windows.hopping('1m', '30s')).apply((i, c) => ({ i, c }), { name: 'same-minute' }).to('windowed');
  const text = app.explain();
  assert.match(text, /time-to-click: interval join \(left\) of 'source-impressions' \(left\) and 'source-clicks' \(right\), left.ts - 600000ms <= right.ts < left.ts \+ 600000ms, late records to 'late-ads'/);
  assert.match(text, /same-minute: window join of 'source-impressions' \(left\) and 'source-clicks' \(right\), window \{"kind":"hopping","sizeMs":60000,"slideMs":30000/);
  assert.match(text, /time-to-click.late: to 'late-ads'/);
  assert.doesNotMatch(text, /keyBy-\d/, 'the keyBys written before intervalJoin are read by nothing and dropped');
  assert.equal(text.match(/^stage /gm)?.length, 4, 'two source stages, one keyed stage per join');
});

void test('inputs with different key functions and partition counts meet: a window join and an interval join on the test kit', async () => {
  const kit = new TestKit();
  const T = 60_000;
  kit.input('impressions', [{ adId: 'a', ts: 1000 }, { adId: 'b', ts: 2000 }, { adId: 'a', ts: T + 5 }], { partitions: 3 });
  kit.input('clicks', [{ ad: 'A', user: 'u1', ts: 1500 }, { ad: 'B', user: 'u2', ts: T + 10 }, { ad: 'A', user: 'u3', ts: T + 20 }], { partitions: 2 });
  const app = kit.app({ name: 'meet' });
  const impressions = app.stream<Impression>('impressions', { timestamp: (i) => i.ts });
  const clicks = app.stream<Click>('clicks', { timestamp: (c) => c.ts });
  impressions.join(clicks).where((i) => i.adId).equalTo((c) => c.ad.toLowerCase()).window(Windows.tumbling('1m')).apply((i, c) => `${i.adId}@${i.ts}-${c.user}`).to('windowed');
  impressions.keyBy((i) => i.adId).intervalJoin(clicks.keyBy((c) => c.ad.toLowerCase())).between('-1m', '1m').process((i, c) => `${i.adId}@${i.ts}-${c.user}`).to('interval');
  await app.run({ bounded: true });
  assert.deepEqual(kit.records('windowed').map((r) => [r.value, r.timestamp]).sort(), [['a@1000-u1', T - 1], [`a@${T + 5}-u3`, 2 * T - 1]]);
  assert.deepEqual(kit.output('interval').sort(), ['a@1000-u1', 'a@1000-u3', `a@${T + 5}-u1`, `a@${T + 5}-u3`, 'b@2000-u2']);
});

void test('a keyed stream joins a stream as any stream does (a window join); a stream with a function is refused, naming both joins', async () => {
  const kit = new TestKit();
  kit.input('impressions', [{ adId: 'a', ts: 1000 }], { partitions: 2 });
  kit.input('clicks', [{ ad: 'a', user: 'u1', ts: 2000 }], { partitions: 3 });
  const app = kit.app({ name: 'keyed-join' });
  const impressions = app.stream<Impression>('impressions', { timestamp: (i) => i.ts });
  const clicks = app.stream<Click>('clicks', { timestamp: (c) => c.ts });
  impressions
    .keyBy((i) => i.adId)
    .join(clicks)
    .where((i) => i.adId)
    .equalTo((c) => c.ad)
    .window(Windows.tumbling('1m'))
    .apply((i, c) => `${i.adId}-${c.user}`)
    .to('windowed');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output('windowed'), ['a-u1']);
  assert.throws(() => impressions.keyBy((i) => i.adId).join(clicks as never, (() => 1) as never), /takes a table .* or a stream for a window join/);
});
