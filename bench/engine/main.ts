/**
 * `npm run bench -- engine [events] [json|binary|both] [repeats]`: each case through Sluice and
 * as one hand-written loop, in the same run, over the same in-memory input, alternating and
 * keeping the best of `repeats` (default 2); prints events/s, the ratio engine/hand-written
 * (time), and whether both produced the same output (count and checksum).
 */
import { jsonCodec, type Codec } from '../../src/core/index.ts';
import { Sluice } from '../../src/sluice.ts';
import { type BenchCase, CASES, type Codecs } from './cases.ts';
import { binaryEventCodec, binaryRecordCodec, type Event, GeneratedBackend } from './generated.ts';

const events = Number(process.argv[2] ?? 10_000_000);
const which = process.argv[3] ?? 'both';
const repeats = Number(process.argv[4] ?? 2);
const PARTITIONS = 4;
const BATCH = 1000;

const variants: [string, Codecs][] = [];
if (which === 'json' || which === 'both') {
  variants.push(['json', { event: jsonCodec as Codec<Event>, mapped: jsonCodec as Codecs['mapped'], window: jsonCodec as Codecs['window'] }]);
}
if (which === 'binary' || which === 'both') {
  variants.push(['binary', { event: binaryEventCodec, mapped: binaryRecordCodec(['user', 'double']), window: binaryRecordCodec(['key', 'start', 'end', 'value']) }]);
}

async function timeEngine(c: BenchCase, codecs: Codecs, n = events): Promise<{ ms: number; records: number; checksum: number }> {
  const backend = new GeneratedBackend(n, PARTITIONS, codecs.event);
  const app = new Sluice({ name: 'bench', backend, guarantee: 'at-least-once' });
  c.engine(app, codecs);
  const started = performance.now();
  await app.run({ bounded: true, batchSize: BATCH });
  return { ms: performance.now() - started, records: backend.totals.records, checksum: backend.totals.checksum };
}

async function timeLoop(c: BenchCase, codecs: Codecs, n = events): Promise<{ ms: number; records: number; checksum: number }> {
  const backend = new GeneratedBackend(n, PARTITIONS, codecs.event);
  const started = performance.now();
  await c.loop(backend, codecs, BATCH);
  return { ms: performance.now() - started, records: backend.totals.records, checksum: backend.totals.checksum };
}

const rate = (ms: number) => `${((events / ms) * 1000 / 1e6).toFixed(2)}M ev/s`;
console.log(`engine bench: ${events.toLocaleString('en')} events, ${PARTITIONS} partitions, batches of ${BATCH}, best of ${repeats}, node ${process.version}`);
for (const [variant, codecs] of variants) {
  for (const c of CASES) {
    // Warm both paths up on a small input first, so neither pays for the JIT alone.
    await timeLoop(c, codecs, 200_000);
    await timeEngine(c, codecs, 200_000);
    let loop = await timeLoop(c, codecs);
    let engine = await timeEngine(c, codecs);
    for (let i = 1; i < repeats; i++) {
      const l = await timeLoop(c, codecs);
      const e = await timeEngine(c, codecs);
      if (l.ms < loop.ms) loop = l;
      if (e.ms < engine.ms) engine = e;
    }
    const same = loop.records === engine.records && loop.checksum === engine.checksum ? 'same output' : `OUTPUT DIFFERS (${engine.records} vs ${loop.records} records)`;
    console.log(
      `${variant.padEnd(6)} ${c.name.padEnd(26)} engine ${rate(engine.ms).padStart(14)}  hand-written ${rate(loop.ms).padStart(14)}  ratio ${(engine.ms / loop.ms).toFixed(2)}x  ${engine.records.toLocaleString('en')} results, ${same}`,
    );
  }
}
