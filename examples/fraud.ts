// The three fraud rules of DESIGN section 2 in one pipeline: two as patterns, one with keyed state.
//   1. a login followed by a purchase from a different country within 5 minutes (per user);
//   2. more than 3 transactions on one card within a minute, alerted once per burst (per card);
//   3. a single transaction above 10x the card's running average (per card).
import { Pattern, type ProcessFunction, Sluice, Watermarks } from 'sluice';

interface Event {
  type: 'login' | 'purchase';
  user: string;
  card: string;
  country: string;
  amount: number;
  ts: number;
}

interface Alert {
  rule: 'foreign-purchase' | 'burst' | 'outsized';
  user: string;
  card: string;
  detail: string;
  at: number;
}

const app = new Sluice({ name: 'fraud', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const events = app.stream<Event>('events', {
  timestamp: (e) => e.ts,
  watermark: Watermarks.boundedOutOfOrderness('5s'),
});
const purchases = events.filter((e) => e.type === 'purchase');

// 1. Login, then a purchase from another country, within 5 minutes.
const foreignPurchase = Pattern.begin<Event>('login').where((e) => e.type === 'login')
  .followedBy('buy').where((e, ctx) => e.type === 'purchase' && e.country !== ctx.events('login')[0].country)
  .within('5m');

const foreign = events.keyBy((e) => e.user)
  .pattern(foreignPurchase, { name: 'foreign-purchase' })
  .select((m): Alert => ({
    rule: 'foreign-purchase',
    user: m.login[0].user,
    card: m.buy[0].card,
    detail: `login in ${m.login[0].country}, purchase in ${m.buy[0].country}`,
    at: m.buy[0].ts,
  }));

// 2. Four transactions within a minute; skipPastLastEvent starts the next burst after this one, so one alert per burst.
const fourInAMinute = Pattern.begin<Event>('tx').times(4).within('1m');

const bursts = purchases.keyBy((e) => e.card)
  .pattern(fourInAMinute, { name: 'card-bursts', skip: 'skipPastLastEvent' })
  .select((m): Alert => ({
    rule: 'burst',
    user: m.tx[0].user,
    card: m.tx[0].card,
    detail: `${m.tx.length} transactions in ${(m.tx[3].ts - m.tx[0].ts) / 1000}s`,
    at: m.tx[3].ts,
  }));

// 3. A transaction above 10x the card's running average (after 3 earlier ones).
const tenTimesAverage: ProcessFunction<string, Event, Alert> = {
  processElement(e, ctx) {
    const stats = ctx.state.value<{ sum: number; n: number }>('stats');
    const s = stats.value() ?? { sum: 0, n: 0 };
    const mean = s.n > 0 ? s.sum / s.n : 0;
    if (s.n >= 3 && e.amount > 10 * mean) {
      ctx.emit({ rule: 'outsized', user: e.user, card: e.card, detail: `${e.amount.toFixed(2)} vs average ${mean.toFixed(2)}`, at: e.ts });
    }
    stats.update({ sum: s.sum + e.amount, n: s.n + 1 });
  },
};
const outsized = purchases.keyBy((e) => e.card).process(tenTimesAverage, { name: 'outsized' });

foreign.union(bursts, outsized, { name: 'all-alerts' }).to('fraud-alerts');

if (process.env.SLUICE_EXPLAIN) console.log(app.explain());
await app.run({ bounded: true });
