// Clicks enriched with the user's { name, tier } from a compacted `users` changelog (DESIGN
// section 2, stream-table join). The users table is versioned: each click joins the user as
// they were at the click's time, so an update to a user changes later clicks, not earlier ones,
// whatever order the two topics are read in.
import { Sluice } from 'sluice';

type User = { id: string; name: string; tier: string; updatedAt: number };
type Click = { user: string; url: string; ts: number };

const app = new Sluice({ name: 'enrich-clicks', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const users = app.table<User>('users', { timestamp: (u) => u.updatedAt, versions: '30d' });
const clicks = app.stream<Click>('clicks', { timestamp: (c) => c.ts, watermark: '5s' });

clicks
  .keyBy((c) => c.user)
  .leftJoin(users, (click, user) => ({ ...click, name: user?.name ?? null, tier: user?.tier ?? null }))
  .to('enriched-clicks');

await app.run({ bounded: true });
