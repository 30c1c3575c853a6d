/**
 * `npm run bench -- cep [events] [repeats] [--peer flink]`: the two fraud patterns of the issue through Sluice's
 * pattern operator and as hand-written TypeScript detectors (the material's Python detector,
 * with the same event-time order and the same match rules), over the same generated input in
 * memory (default 1M events, 10k keys), alternating and keeping the best of `repeats` (default
 * 2). Prints events/s, the ratio engine/hand-written (time) and whether the matches agree
 * (count and an order-independent checksum of the encoded results). With `--peer flink`, the
 * same patterns on FlinkCEP (bench/peers/flink, sluice.cep.Main) in the same run, its matches
 * compared the same way.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFlink } from '../nexmark/flink.ts';
import { Pattern } from '../../src/index.ts';
import { Sluice } from '../../src/sluice.ts';
import { type CepEvent, CepBackend, KEYS, partitionRounds } from './generated.ts';

const args = process.argv.slice(2);
const peerAt = args.indexOf('--peer');
const peer = peerAt >= 0 ? args.splice(peerAt, 2)[1] : undefined;
if (peer !== undefined && peer !== 'flink') throw new Error(`--peer ${peer}: the only peer is flink`);
const events = Number(args[0] ?? 1_000_000);
const repeats = Number(args[1] ?? 2);
const PARTITIONS = 4;
const BATCH = 1000;
const FIVE_MINUTES = 300_000;
const MINUTE = 60_000;

interface Case {
  name: string;
  /** The case's name in the Flink peer. */
  flink: string;
  engine(app: Sluice): void;
  loop(backend: CepBackend): Promise<void>;
}

const encoder = new TextEncoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));

const foreignPurchase: Case = {
  name: 'login -> foreign purchase within 5m',
  flink: 'foreign',
  engine(app) {
    const p = Pattern.begin<CepEvent>('login')
      .where((e) => e.t === 'login')
      .followedBy('buy')
      .where((e, ctx) => e.t === 'purchase' && e.c !== ctx.events('login')[0].c)
      .within('5m');
    app
      .stream<CepEvent>('events')
      .keyBy((e) => e.u)
      .pattern(p)
      .select((m) => ({ user: m.login[0].u, from: m.login[0].c, to: m.buy[0].c }))
      .to('alerts');
  },
  async loop(backend) {
    // Per user, the logins still waiting for a purchase from another country.
    const waiting = new Map<number, { ts: number; c: number }[]>();
    const writer = await backend.openWriter();
    await partitionRounds(backend, BATCH, (batch) => {
      const out = [];
      for (const { e, ts } of batch) {
        let list = waiting.get(e.u);
        if (list !== undefined) {
          const keep: { ts: number; c: number }[] = [];
          for (const login of list) {
            if (login.ts + FIVE_MINUTES <= ts) continue; // expired
            if (e.t === 'purchase' && e.c !== login.c) out.push({ key: null, value: json({ user: e.u, from: login.c, to: e.c }), timestamp: ts });
            else keep.push(login);
          }
          list = keep;
        }
        if (e.t === 'login') (list ??= []).push({ ts, c: e.c });
        if (list === undefined || list.length === 0) waiting.delete(e.u);
        else waiting.set(e.u, list);
      }
      if (out.length > 0) void writer.send('alerts', out);
    });
  },
};

const bursts: Case = {
  name: 'times(4).within(1m), skip past last',
  flink: 'bursts',
  engine(app) {
    const p = Pattern.begin<CepEvent>('tx').times(4).within('1m');
    app
      .stream<CepEvent>('events')
      .filter((e) => e.t === 'purchase')
      .keyBy((e) => e.u)
      .pattern(p, { skip: 'skipPastLastEvent' })
      .select((m) => ({ card: m.tx[0].u, first: m.tx[0].n, last: m.tx[3].n }))
      .to('bursts');
  },
  async loop(backend) {
    // Per card, the transactions of the last minute since the last alert.
    const recent = new Map<number, { ts: number; n: number }[]>();
    const writer = await backend.openWriter();
    await partitionRounds(backend, BATCH, (batch) => {
      const out = [];
      for (const { e, ts } of batch) {
        if (e.t !== 'purchase') continue;
        const list = (recent.get(e.u) ?? []).filter((tx) => tx.ts + MINUTE > ts);
        list.push({ ts, n: e.n });
        if (list.length === 4) {
          out.push({ key: null, value: json({ card: e.u, first: list[0].n, last: list[3].n }), timestamp: ts });
          recent.delete(e.u);
        } else recent.set(e.u, list);
      }
      if (out.length > 0) void writer.send('bursts', out);
    });
  },
};

async function timeEngine(c: Case, n = events) {
  const backend = new CepBackend(n, PARTITIONS);
  const app = new Sluice({ name: 'bench', backend, guarantee: 'at-least-once' });
  c.engine(app);
  const started = performance.now();
  await app.run({ bounded: true, batchSize: BATCH });
  return { ms: performance.now() - started, records: backend.totals.records, checksum: backend.totals.checksum };
}

async function timeLoop(c: Case, n = events) {
  const backend = new CepBackend(n, PARTITIONS);
  const started = performance.now();
  await c.loop(backend);
  return { ms: performance.now() - started, records: backend.totals.records, checksum: backend.totals.checksum };
}

let flinkBuilt = false;
const rate = (ms: number) => `${((events / ms) * 1000 / 1e6).toFixed(2)}M ev/s`;
console.log(`cep bench: ${events.toLocaleString('en')} events, ${KEYS.toLocaleString('en')} keys, ${PARTITIONS} partitions, batches of ${BATCH}, best of ${repeats}, node ${process.version}`);
for (const c of [foreignPurchase, bursts]) {
  await timeLoop(c, 100_000);
  await timeEngine(c, 100_000);
  let loop = await timeLoop(c);
  let engine = await timeEngine(c);
  for (let i = 1; i < repeats; i++) {
    const l = await timeLoop(c);
    const e = await timeEngine(c);
    if (l.ms < loop.ms) loop = l;
    if (e.ms < engine.ms) engine = e;
  }
  const same = loop.records === engine.records && loop.checksum === engine.checksum ? 'matches agree' : `MATCHES DIFFER (${engine.records} vs ${loop.records})`;
  console.log(`${c.name.padEnd(36)} engine ${rate(engine.ms).padStart(12)}  hand-written ${rate(loop.ms).padStart(12)}  ratio ${(engine.ms / loop.ms).toFixed(2)}x  ${engine.records.toLocaleString('en')} matches, ${same}`);
  if (peer === 'flink') {
    const f = runFlink(c.flink);
    const agree = f.matches === engine.records && f.checksum === engine.checksum ? 'matches agree' : `MATCHES DIFFER (${f.matches} vs ${engine.records})`;
    console.log(`${''.padEnd(36)} flink  ${rate(f.ms).padStart(12)}  flink/engine time ${(f.ms / engine.ms).toFixed(2)}x  ${f.matches.toLocaleString('en')} matches, ${agree} (Flink ${f.flink}, parallelism 1)`);
  }
}

function runFlink(which: string): { ms: number; matches: number; checksum: number; flink: string } {
  if (!flinkBuilt) {
    buildFlink((line) => console.log(line));
    flinkBuilt = true;
  }
  const dir = fileURLToPath(new URL('../peers/flink/', import.meta.url));
  const classpath = `${join(dir, 'target', 'classes')}:${readFileSync(join(dir, 'target', 'classpath.txt'), 'utf8').trim()}`;
  const out = execFileSync('java', ['-Xms1g', '-Xmx6g', '-cp', classpath, 'sluice.cep.Main', '--case', which, '--events', String(events), '--runs', String(repeats)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}
