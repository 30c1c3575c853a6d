// DESIGN section 5, second block; only the imports, the app and its two sources are added, and
// `queryable: true`, which makes the named aggregate a queryable store (a name alone only names it).
import { Sluice, Watermarks, Windows } from 'sluice';

const app = new Sluice({ name: 'windows', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const events = app.stream<{ k: string; v: number; user: string; ts: number }>('events', {
  timestamp: (e) => e.ts,
  watermark: Watermarks.boundedOutOfOrderness('5s'),
});
const orders = app.stream<{ customer: string; total: number; ts: number }>('orders', {
  timestamp: (o) => o.ts,
  watermark: Watermarks.boundedOutOfOrderness('5s'),
});

// hopping windows, allowed lateness, late records to a side topic
events.keyBy((e) => e.k)
  .window(Windows.hopping('1m', '20s'))
  .allowedLateness('30s')
  .sideOutputLateData('late-events')
  .sum((e) => e.v)
  .to('sums');

// sessions per user
events.keyBy((e) => e.user).window(Windows.session('30s')).count().to('sessions');

// Kafka Streams style aggregate, materialized as a named, queryable store
orders.keyBy((o) => o.customer)
  .window(Windows.tumbling('1h'))
  .aggregate(() => 0, (key, order, total) => total + order.total, { name: 'hourly-order-totals', queryable: true })
  .map((r) => `Window: ${new Date(r.start).toISOString()} Total: $${r.value}`)
  .to('order-analytics-output');

await app.run({ bounded: true });
