/**
 * `npm run bench -- exchange [--records N] [--batch B] [--runs R]`: the in-memory channel between
 * two worker threads (src/runtime/thread-channel.ts: batches by structured clone) against the
 * same batches as msgpack in a transferred ArrayBuffer, over the same MessagePort. One thread
 * sends Nexmark-shaped bids keyed by auction, the other takes every item. Reported: wall time and
 * the CPU time of the whole process (both threads) per mode, medians over the runs, the modes
 * alternating; ratio = msgpack / clone.
 */
import { MessageChannel, Worker } from 'node:worker_threads';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer, got '${process.argv[at + 1]}'`);
  return value;
}

const records = option('records', 300_000);
const batch = option('batch', 1000);
const runs = option('runs', 3);
const MODES = ['clone', 'msgpack'] as const;
type Mode = (typeof MODES)[number];

async function once(mode: Mode): Promise<{ wallMs: number; cpuMs: number }> {
  const { port1, port2 } = new MessageChannel();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const spawn = (role: 'send' | 'receive', port: typeof port1) =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL('./thread.ts', import.meta.url), { workerData: { role, mode, port, records, batch }, transferList: [port] });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${role} thread exited with code ${code}`))));
    });
  await Promise.all([spawn('receive', port2), spawn('send', port1)]);
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const measured: Record<Mode, { wallMs: number; cpuMs: number }[]> = { clone: [], msgpack: [] };
for (let run = 0; run < runs; run++) for (const mode of MODES) measured[mode].push(await once(mode));
console.log(`exchange: ${records.toLocaleString('en-US')} bids in batches of ${batch} between two worker threads, ${runs} runs per mode (medians; CPU of the whole process)`);
for (const mode of MODES) {
  const wall = median(measured[mode].map((m) => m.wallMs));
  const cpu = median(measured[mode].map((m) => m.cpuMs));
  console.log(`  ${mode.padEnd(8)} wall ${wall.toFixed(0)} ms, CPU ${cpu.toFixed(0)} ms, ${((records / cpu) * 1000).toFixed(0)} records per CPU second`);
}
const ratio = median(measured.msgpack.map((m) => m.cpuMs)) / median(measured.clone.map((m) => m.cpuMs));
console.log(`  CPU ratio msgpack / clone: ${ratio.toFixed(2)}`);
