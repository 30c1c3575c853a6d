// The demo's pipelines, from DESIGN section 2, on the generator's four topics.
import { Pattern, type Sluice, Watermarks, Windows } from 'sluice';

export interface Click {
  user: string;
  page: string;
  action: 'view' | 'click';
  ts: number;
}
export interface Transaction {
  card: string;
  country: string;
  amount: number | null;
  merchant: string;
  ts: number;
}
export interface Response {
  server: string;
  endpoint: string;
  ms: number;
  status: number;
  ts: number;
}
export interface Reading {
  sensor: string;
  temp: number;
  ts: number;
}

/** Every result topic the pipelines write. */
export const RESULT_TOPICS = ['clicks-per-page', 'pages-per-user', 'user-sessions', 'fraud-alerts', 'slow-server-alerts', 'sensor-averages', 'sensor-alerts', 'late-clicks'];

export function definePipelines(app: Sluice): void {
  const time = { watermark: Watermarks.boundedOutOfOrderness('5s') };
  const clicks = app.stream<Click>('clicks', { timestamp: (e) => e.ts, ...time });
  const transactions = app.stream<Transaction>('transactions', { timestamp: (t) => t.ts, ...time });
  const responses = app.stream<Response>('server-metrics', { timestamp: (r) => r.ts, ...time });
  // The sensor gateway drops out now and then: an idle partition must not stall the windows.
  const readings = app.stream<Reading>('sensors', { timestamp: (r) => r.ts, ...time, idleTimeout: '5s' });

  // Clicks per page per 10 s; clicks too late for their window go to a side topic.
  clicks
    .filter((e) => e.action === 'click', { name: 'only-clicks' })
    .keyBy((e) => e.page, { name: 'by-page' })
    .window(Windows.tumbling('10s'))
    .sideOutputLateData('late-clicks')
    .count({ name: 'clicks-per-page' })
    .to('clicks-per-page');

  // Pages per user per minute: count and collect_list.
  clicks
    .keyBy((e) => e.user, { name: 'by-user' })
    .window(Windows.tumbling('1m'))
    .collect((e) => e.page, { name: 'pages-per-user-window' })
    .map((r) => ({ user: r.key, start: r.start, end: r.end, count: r.value.length, pages: r.value }), { name: 'pages-per-user-row' })
    .to('pages-per-user');

  // User sessions: activity split at 30 s gaps.
  clicks
    .keyBy((e) => e.user, { name: 'by-user-session' })
    .window(Windows.session('30s'))
    .count({ name: 'sessions' })
    .map((r) => ({ user: r.key, start: r.start, end: r.end, events: r.value, seconds: Math.round((r.end - r.start) / 1000) }), { name: 'session-row' })
    .to('user-sessions');

  // Fraud: payments without an amount are broken upstream records (dead-lettered).
  const payments = transactions.map(
    (t) => {
      if (typeof t.amount !== 'number') throw new Error(`payment of ${t.card} has no amount`);
      return t as Transaction & { amount: number };
    },
    { name: 'validate-payment' },
  );
  // More than 3 transactions per card in a minute.
  const bursts = payments
    .keyBy((t) => t.card, { name: 'by-card' })
    .window(Windows.tumbling('1m'))
    .count({ name: 'card-tx-per-minute' })
    .filter((r) => r.value > 3, { name: 'more-than-3' })
    .map((r) => ({ kind: 'burst', card: r.key, detail: `${r.value} transactions in one minute`, at: r.end }), { name: 'burst-alert' });
  // A single transaction above 10x the card's running average (needs 3 earlier payments).
  const outsized = payments.keyBy((t) => t.card, { name: 'by-card-average' }).process<{ kind: string; card: string; detail: string; at: number }>(
    {
      processElement(t, ctx) {
        const stats = ctx.state.value<{ n: number; mean: number }>('amount-stats');
        const s = stats.value() ?? { n: 0, mean: 0 };
        if (s.n >= 3 && t.amount > 10 * s.mean) {
          ctx.emit({ kind: 'outsized', card: t.card, detail: `$${t.amount.toFixed(2)} vs average $${s.mean.toFixed(2)} (${t.country})`, at: t.ts });
        }
        stats.update({ n: s.n + 1, mean: s.mean + (t.amount - s.mean) / (s.n + 1) });
      },
    },
    { name: 'running-average' },
  );
  // The same rule as a pattern: 4 payments of a card within a minute (sliding, not per clock
  // minute); skipPastLastEvent starts afresh after a match, so one alert per burst.
  const burstPattern = payments
    .keyBy((t) => t.card, { name: 'by-card-pattern' })
    .pattern(Pattern.begin<Transaction & { amount: number }>('tx').times(4).within('1m'), { name: 'card-bursts', skip: 'skipPastLastEvent' })
    .select((m) => ({ kind: 'burst-pattern', card: m.tx[0].card, detail: `4 transactions in ${Math.round((m.tx[3].ts - m.tx[0].ts) / 1000)} s`, at: m.tx[3].ts }), { name: 'burst-pattern-alert' });
  bursts.union(outsized, burstPattern).to('fraud-alerts');

  // Servers answering above 1000 ms more than 5 times in a minute.
  responses
    .filter((r) => r.ms > 1000, { name: 'over-1s' })
    .keyBy((r) => r.server, { name: 'by-server' })
    .window(Windows.tumbling('1m'))
    .count({ name: 'slow-per-minute' })
    .filter((r) => r.value > 5, { name: 'more-than-5' })
    .map((r) => ({ server: r.key, slowResponses: r.value, at: r.end }), { name: 'slow-alert' })
    .to('slow-server-alerts');

  // Average and max temperature per sensor per 10 s; an alert when the average exceeds 40.
  const averages = readings
    .keyBy((r) => r.sensor, { name: 'by-sensor' })
    .window(Windows.tumbling('10s'))
    .aggregate(
      () => ({ sum: 0, n: 0, max: Number.NEGATIVE_INFINITY }),
      (_key, r, acc) => ({ sum: acc.sum + r.temp, n: acc.n + 1, max: Math.max(acc.max, r.temp) }),
      { name: 'sensor-stats' },
    )
    .map((r) => ({ sensor: r.key, start: r.start, end: r.end, avg: Math.round((r.value.sum / r.value.n) * 10) / 10, max: r.value.max }), { name: 'sensor-row' });
  averages.to('sensor-averages');
  averages.filter((r) => r.avg > 40, { name: 'over-40' }).to('sensor-alerts');
}
