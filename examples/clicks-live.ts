// The clicks example as a service: it keeps running, and takes savepoints when asked (`sluice savepoint create clicks-live`).
import { Sluice, Watermarks, TumblingWindow, MINUTES } from 'sluice';

const app = new Sluice({ name: 'clicks-live', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const events = app.stream<{ url: string; action: string; ts: number }>('events', {
  timestamp: (e) => e.ts,
  watermark: Watermarks.boundedOutOfOrderness('5s'),
});

events
  .filter((e) => e.action === 'click')
  .keyBy((e) => e.url)
  .window(TumblingWindow.of(5, MINUTES))
  .count()
  .to('clicks-live-per-url');

await app.run(); // until Ctrl-C or SIGTERM, which stop it after a final checkpoint
