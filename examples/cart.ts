// Event sourcing: shopping carts rebuilt by replaying ItemAdded / ItemRemoved events, folded per
// cart into a table (queryable as `app.table('carts')` while the app runs) and written as a
// compacted changelog. Each run folds in the events that arrived since the last one (the table
// is kept in the app's state). With CART_AS_OF (epoch ms or an ISO time) it is a replay of the
// history up to that event time, as an app of its own (`cart-as-of`, replayed from the
// beginning each time): the carts as they were then.
// Produce the events keyed by cart, so each cart's events stay in order in one partition.
import { Sluice } from 'sluice';

type CartEvent = { type: 'ItemAdded' | 'ItemRemoved'; cart: string; sku: string; qty: number; ts: number };
type Cart = { items: Record<string, number> };

const asOf = process.env.CART_AS_OF;
const until = asOf === undefined ? undefined : /^\d+$/.test(asOf) ? Number(asOf) : Date.parse(asOf);

const app = new Sluice({ name: until === undefined ? 'cart' : 'cart-as-of', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

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

await app.run(until === undefined ? { bounded: true } : { bounded: true, until, fromBeginning: true });
