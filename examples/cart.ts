// Event sourcing: shopping carts rebuilt by replaying ItemAdded / ItemRemoved events, folded per
// cart into a table (queryable as `app.table('carts')` while the app runs) and written as a
// compacted changelog. With CART_AS_OF (epoch ms or an ISO time) it replays up to that event
// time only: the carts as they were then. Each run replays the whole history (fromBeginning).
// Produce the events keyed by cart, so each cart's events stay in order in one partition.
import { Sluice } from 'sluice';

type CartEvent = { type: 'ItemAdded' | 'ItemRemoved'; cart: string; sku: string; qty: number; ts: number };
type Cart = { items: Record<string, number> };

const app = new Sluice({ name: 'cart', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const asOf = process.env.CART_AS_OF;
const until = asOf === undefined ? undefined : /^\d+$/.test(asOf) ? Number(asOf) : Date.parse(asOf);

app
  .stream<CartEvent>('cart-events', { timestamp: (e) => e.ts })
  .keyBy((e) => e.cart)
  .aggregate<Cart>(
    () => ({ items: {} }),
    (_cart, e, acc) => {
      const qty = (acc.items[e.sku] ?? 0) + (e.type === 'ItemAdded' ? e.qty : -e.qty);
      const items = { ...acc.items };
      if (qty > 0) items[e.sku] = qty;
      else delete items[e.sku];
      return { items };
    },
    { name: 'carts' },
  )
  .to(until === undefined ? 'carts' : 'carts-as-of');

await app.run({ bounded: true, fromBeginning: true, ...(until === undefined ? {} : { until }) });
