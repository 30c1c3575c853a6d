// What metrics cost: the engine benchmark's cases (as `npm run bench -- engine` runs them, JSON
// codec, in-memory generated input) with nobody subscribed to the metrics channels, and with
// the dashboard's collector subscribed (every event built, published and aggregated; no HTTP).
// Runs alternate and keep the best of `repeats`. Time is this process's CPU time (user +
// system), which other processes on a busy machine disturb far less than wall time.
//
//   node examples/demo/metrics-overhead.ts [events=1000000] [repeats=5] [case name filter]
import { type BenchCase, CASES, type Codecs } from '../../bench/engine/cases.ts';
import { type Event, GeneratedBackend } from '../../bench/engine/generated.ts';
import { type Codec, jsonCodec, Sluice } from '../../src/index.ts';
import { Collector } from '../../src/server/index.ts';

const events = Number(process.argv[2] ?? 1_000_000);
const repeats = Number(process.argv[3] ?? 5);
const only = process.argv[4] ?? '';
const codecs: Codecs = { event: jsonCodec as Codec<Event>, mapped: jsonCodec as Codecs['mapped'], window: jsonCodec as Codecs['window'] };

async function time(c: BenchCase, subscribed: boolean, n = events): Promise<number> {
  const collector = subscribed ? new Collector() : undefined;
  try {
    const backend = new GeneratedBackend(n, 4, codecs.event);
    const app = new Sluice({ name: 'overhead', backend, guarantee: 'at-least-once' });
    c.engine(app, codecs);
    const started = process.cpuUsage();
    await app.run({ bounded: true, batchSize: 1000 });
    const used = process.cpuUsage(started);
    return (used.user + used.system) / 1000;
  } finally {
    collector?.close();
  }
}

const rate = (ms: number) => `${((events / ms) * 1000 / 1e6).toFixed(2)}M ev/s`;
console.log(`metrics overhead: ${events.toLocaleString('en')} events, best of ${repeats} (CPU time), node ${process.version}`);
for (const c of CASES.filter((x) => x.name.includes(only))) {
  await time(c, false, 200_000);
  await time(c, true, 200_000);
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < repeats; i++) {
    off.push(await time(c, false));
    on.push(await time(c, true));
  }
  const best = (xs: number[]) => Math.min(...xs);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;
  console.log(
    `${c.name.padEnd(26)} off ${rate(best(off)).padStart(12)}  subscribed ${rate(best(on)).padStart(12)}  overhead best ${pct(best(off), best(on))}, median ${pct(median(off), median(on))}`,
  );
}
