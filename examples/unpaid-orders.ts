// Orders with no payment within 15 minutes: a left interval join of orders with payments by
// order id; an order no payment matched comes out once, with null for the payment, when the
// watermark passes its 15 minutes.
import { Sluice, Watermarks } from 'sluice';

type Order = { order_id: string; customer: string; amount: number; ts: number };
type Payment = { order_id: string; amount: number; ts: number };

const app = new Sluice({ name: 'unpaid-orders', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const orders = app.stream<Order>('orders', { timestamp: (o) => o.ts, watermark: Watermarks.boundedOutOfOrderness('30s') });
const payments = app.stream<Payment>('payments', { timestamp: (p) => p.ts, watermark: Watermarks.boundedOutOfOrderness('30s') });

orders
  .keyBy((o) => o.order_id)
  .intervalJoin(payments.keyBy((p) => p.order_id), { type: 'left' })
  .between(0, '15m')
  // Paid orders give undefined, which emits nothing; unpaid ones their order.
  .process((order, payment) => (payment === null ? { order_id: order.order_id, customer: order.customer, amount: order.amount, ordered_at: order.ts } : undefined), {
    name: 'unpaid',
  })
  .to('unpaid-orders');

await app.run({ bounded: true });
