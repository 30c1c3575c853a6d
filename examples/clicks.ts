// DESIGN section 5, first program, exactly as written: clicks per URL per 5-minute window.
import { Sluice, Windows, Watermarks, TumblingWindow, MINUTES } from 'sluice';

const app = new Sluice({ name: 'clicks', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const events = app.stream<{ url: string; action: string; ts: number }>('events', {
  timestamp: (e) => e.ts,
  watermark: Watermarks.boundedOutOfOrderness('5s'),
});

events
  .filter((e) => e.action === 'click')
  .keyBy((e) => e.url)
  .window(TumblingWindow.of(5, MINUTES))
  .count()
  .to('clicks-per-url');              // each result {key, start, end, value} as JSON

await app.run({ bounded: true });     // process what the input topics hold now, fire every window, stop
