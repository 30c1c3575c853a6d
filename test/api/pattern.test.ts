// The Pattern builder: every method checks its arguments where it is written, what only the
// whole pattern can tell is checked by .pattern(p), and the messages say what to write instead.
// Then the API end to end on the test kit: select, flatSelect, timedOut, late data, explain().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pattern, type PatternMatch, SluiceError } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

interface Ev {
  user: string;
  type: string;
  country: string;
  ts: number;
}

const isLogin = (e: Ev) => e.type === 'login';

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e) => e instanceof SluiceError && e.code === 'INVALID_ARGUMENT' && message.test(e.message));
}

function keyed() {
  const kit = new TestKit();
  const app = kit.app({ name: 'patterns' });
  return app.stream<Ev>('events', { timestamp: (e) => e.ts }).keyBy((e) => e.user);
}

void test('builder methods reject bad arguments at once, saying what to write', () => {
  rejects(() => Pattern.begin<Ev>('bad name'), /step name "bad name" is not valid/);
  rejects(() => Pattern.begin<Ev>('a').followedBy('a'), /two steps are named 'a'/);
  rejects(() => Pattern.begin<Ev>('a').where('x' as never), /where\(\) expects a function/);
  rejects(() => Pattern.begin<Ev>('a').or(isLogin), /or\(\) on step 'a' has no where\(\)/);
  rejects(() => Pattern.begin<Ev>('a').until(isLogin), /until\(\) on step 'a' stops a loop.*oneOrMore\(\)\.until/);
  rejects(() => Pattern.begin<Ev>('a').times(0), /times\(0\): counts are whole numbers >= 1/);
  rejects(() => Pattern.begin<Ev>('a').times(3, 2), /the maximum must be a whole number >= the minimum/);
  rejects(() => Pattern.begin<Ev>('a').times(1.5), /whole numbers/);
  rejects(() => Pattern.begin<Ev>('a').timesOrMore(-1), /timesOrMore\(-1\)/);
  rejects(() => Pattern.begin<Ev>('a').times(2).oneOrMore(), /already has a quantifier/);
  rejects(() => Pattern.begin<Ev>('a').greedy(), /greedy\(\) on step 'a' applies to loops/);
  rejects(() => Pattern.begin<Ev>('a').consecutive(), /consecutive\(\) on step 'a' applies to loops/);
  rejects(() => Pattern.begin<Ev>('a').within('0s'), /a match needs a positive time bound; write \.within\('5m'\)/);
  rejects(() => Pattern.begin<Ev>('a').within(-5), /non-negative/);
  rejects(() => Pattern.begin<Ev>('a').within('soon' as never), /is not a duration/);
  rejects(() => Pattern.begin<Ev>('a').notNext('b').times(2), /notNext\(\) checks single events/);
  rejects(() => Pattern.begin<Ev>('a').notFollowedBy('b').optional(), /notFollowedBy\(\) takes no event to make optional/);
  rejects(() => Pattern.begin<Ev>('a').optional().notNext('b'), /cannot follow the optional step 'a'/);
});

void test('.pattern(p) rejects patterns that cannot run, saying what to write instead', () => {
  const events = keyed();
  rejects(() => events.pattern(Pattern.begin<Ev>('a').where(isLogin).notFollowedBy('b')), /ends with notFollowedBy\('b'\) but has no within\(\).*add \.within\('5m'\)/);
  rejects(() => events.pattern(Pattern.begin<Ev>('a').where(isLogin).notNext('b').within('1m')), /ends with notNext\('b'\)/);
  rejects(() => events.pattern(Pattern.begin<Ev>('a').where(isLogin).optional()), /every step of the pattern \('a'\) is optional/);
  rejects(() => events.pattern(Pattern.begin<Ev>('a').oneOrMore().greedy().within('1m')), /greedy\(\) on 'a' needs a required step after it/);
  rejects(() => events.pattern(Pattern.begin<Ev>('a').notFollowedBy('x').followedBy('b').optional().within('1m')), /notFollowedBy\('x'\) needs a required step after it/);
  rejects(() => events.pattern({} as never), /pattern\(\) expects a Pattern/);
  const p = Pattern.begin<Ev>('a').followedBy('b').within('1m');
  rejects(() => events.pattern(p, { skip: 'skipToFirst' }), /skipToFirst needs the step to skip to; write \{ skip: \{ skipToFirst: 'a' \} \}/);
  rejects(() => events.pattern(p, { skip: { skipToLast: 'zz' } }), /skipToLast skips to a step of the pattern \('a', 'b'\), got "zz"/);
  rejects(() => events.pattern(p, { skip: 'sometimes' as never }), /is not a skip strategy/);
  rejects(() => events.pattern(p, { time: 'wall' as never }), /is not a time domain/);
  rejects(() => events.pattern(p, { ttl: 0 }), /ttl must be a positive duration/);
  rejects(() => events.pattern(Pattern.begin<Ev>('a').followedBy('b')).timedOut(() => 1), /the pattern has no within\(\)/);
  rejects(() => events.pattern(p, { time: 'processing' }).sideOutputLateData('late'), /processing-time pattern sees no late records/);
  const stream = events.pattern(p);
  stream.select((m) => m.a[0]);
  rejects(() => stream.sideOutputLateData('late'), /sideOutputLateData\(\) goes before select\(\)/);
});

void test('both spellings of skipToFirst/skipToLast are accepted', () => {
  const events = keyed();
  const p = Pattern.begin<Ev>('a').followedBy('b').within('1m');
  events.pattern(p, { skip: { skipToFirst: 'b' } }).select((m) => m.a);
  events.pattern(p, { skip: 'skipToLast', skipTo: 'a' }).select((m) => m.a);
});

void test('a pattern without within warns that its state grows, unless it has a ttl', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const events = keyed();
    events.pattern(Pattern.begin<Ev>('w1').followedBy('w2')).select((m) => m.w1);
    events.pattern(Pattern.begin<Ev>('w3').followedBy('w4'), { ttl: '1h' }).select((m) => m.w3);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.filter((w) => /'w\d/.test(w)), ["pattern 'w1 -> w2' has no within(): its partial matches never time out, so state grows with the stream; add .within('5m') or give the pattern a { ttl }"]);
});

void test('select, flatSelect and timedOut over several partitions; late data to its topic; explain() shows the steps', async () => {
  const kit = new TestKit();
  const events: Ev[] = [
    { user: 'ann', type: 'login', country: 'FR', ts: 1000 },
    { user: 'bob', type: 'login', country: 'DE', ts: 1500 },
    { user: 'ann', type: 'purchase', country: 'FR', ts: 2000 },
    { user: 'cid', type: 'login', country: 'US', ts: 2500 },
    { user: 'ann', type: 'purchase', country: 'US', ts: 3000 },
    { user: 'cid', type: 'purchase', country: 'BR', ts: 3500 },
    { user: 'bob', type: 'purchase', country: 'US', ts: 400_000 },
    { user: 'ann', type: 'login', country: 'FR', ts: 100 }, // late: the partition's watermark passed it
  ];
  kit.input('events', events, { partitions: 3, key: (e) => e.user });
  const app = kit.app({ name: 'fraud' });
  const foreignPurchase = Pattern.begin<Ev>('login')
    .where((e) => e.type === 'login')
    .followedBy('buy')
    .where((e, ctx) => e.type === 'purchase' && e.country !== ctx.events('login')[0].country)
    .within('5m');
  const matches = app
    .stream<Ev>('events', { timestamp: (e) => e.ts })
    .keyBy((e) => e.user)
    .pattern(foreignPurchase, { name: 'foreign-purchase' })
    .sideOutputLateData('late-events');
  matches.select((m: PatternMatch<Ev>) => ({ user: m.login[0].user, from: m.login[0].country, to: m.buy[0].country })).to('fraud-alerts');
  matches.flatSelect((m) => [m.login[0].ts, m.buy[0].ts]).to('times');
  matches.timedOut((m, at) => ({ user: m.login[0].user, at })).to('expired');
  assert.match(app.explain(), /foreign-purchase: pattern begin login -> followedBy buy \(within 300000ms, skip noSkip, event time, late records to 'late-events'\)/);
  await app.run({ bounded: true });
  const sortByUser = <T extends { user: string }>(l: T[]) => [...l].sort((a, b) => a.user.localeCompare(b.user));
  assert.deepEqual(sortByUser(kit.output<{ user: string }>('fraud-alerts')), [
    { user: 'ann', from: 'FR', to: 'US' },
    { user: 'cid', from: 'US', to: 'BR' },
  ]);
  assert.deepEqual(
    kit.output<number>('times').sort((a, b) => a - b),
    [1000, 2500, 3000, 3500],
  );
  assert.deepEqual(kit.output('expired'), [{ user: 'bob', at: 301_500 }]);
  assert.deepEqual(kit.output('late-events'), [{ user: 'ann', type: 'login', country: 'FR', ts: 100 }]);
  // Results are keyed by the pattern's key.
  assert.deepEqual(kit.records('fraud-alerts').map((r) => r.key).sort(), ['ann', 'cid']);
});
