// Impressions and clicks of one ad within plus or minus 10 minutes of each other: an interval
// join by ad_id, emitting each click's time-to-click (negative when the click came first).
import { Sluice, Watermarks } from 'sluice';

type Impression = { ad_id: string; impression_id: string; ts: number };
type Click = { ad_id: string; user: string; ts: number };

const app = new Sluice({ name: 'ad-clicks', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const impressions = app.stream<Impression>('impressions', { timestamp: (i) => i.ts, watermark: Watermarks.boundedOutOfOrderness('1m') });
const clicks = app.stream<Click>('clicks', { timestamp: (c) => c.ts, watermark: Watermarks.boundedOutOfOrderness('1m') });

impressions
  .keyBy((i) => i.ad_id)
  .intervalJoin(clicks.keyBy((c) => c.ad_id))
  .between('-10m', '10m')
  .process((impression, click) => ({
    ad_id: impression.ad_id,
    impression_id: impression.impression_id,
    user: click.user,
    time_to_click_ms: click.ts - impression.ts,
  }), { name: 'time-to-click' })
  .to('time-to-click');

await app.run({ bounded: true });
