/**
 * The in-memory exchange's checkpoint protocol end to end, over real MessagePorts: P threads'
 * worth of tasks (2-3), several input partitions, a keyed tumbling-window sum. Each upstream task
 * reads its partitions in random batches and sends each record over the channel to the task
 * owning its key, with its watermark; a checkpoint's barrier starts at every upstream task
 * (which votes its offsets and watermark state), flows behind the records, and each keyed task
 * votes its window state, frontier and output when aligned; one decision commits a checkpoint
 * once every part is in. A crash at a random moment drops everything undecided; the restore
 * rewinds every source to the last decided checkpoint and runs to the end. The committed output
 * of both runs must be the brute-force reference's: no loss, no duplicate.
 *
 * The window here is the test's own small operator: what is under test is the channel, the
 * alignment and the one decision, not the engine's window operators (their property tests are
 * graph.property.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import fc from 'fast-check';
import { BarrierAligner } from '../../src/runtime/barrier-alignment.ts';
import { ChannelReader, ChannelWriter } from '../../src/runtime/thread-channel.ts';
import { CheckpointVotes } from '../../src/runtime/thread-checkpoints.ts';

interface Rec {
  key: string;
  ts: number;
  v: number;
}
const SIZE = 10;
const BOUND = 5;

/** The reference: every (key, window) sum, from the input alone. */
function reference(partitions: Rec[][]): string[] {
  const sums = new Map<string, number>();
  for (const partition of partitions) {
    for (const r of partition) {
      const id = `${r.key}|${r.ts - (r.ts % SIZE)}`;
      sums.set(id, (sums.get(id) ?? 0) + r.v);
    }
  }
  return [...sums].map(([id, sum]) => `${id}|${sum}`).sort();
}

interface SourceState {
  offsets: number[];
  maxSeen: number[];
}
interface KeyedState {
  windows: [string, number][];
  marks: number[];
}
type Part = { kind: 'source'; task: number; state: SourceState } | { kind: 'keyed'; task: number; state: KeyedState; output: string[] };
interface Committed {
  id: number;
  sources: SourceState[];
  keyed: KeyedState[];
}

const owner = (key: string, tasks: number) => key.charCodeAt(0) % tasks;

/** One run from `from` (or the start) until the end, or until `crashAt` scheduling steps. */
async function run(input: Rec[][], tasks: number, batches: number[], checkpointEvery: number, from: Committed | undefined, crashAt: number | undefined, output: string[]): Promise<Committed | undefined> {
  let last = from;
  let batch = 0;
  const votes = new CheckpointVotes<Part>(2 * tasks, async (id, parts) => {
    const sources: SourceState[] = [];
    const keyed: KeyedState[] = [];
    for (const part of parts) {
      if (part.kind === 'source') sources[part.task] = part.state;
      else {
        keyed[part.task] = part.state;
        output.push(...part.output);
      }
    }
    last = { id, sources, keyed };
  });
  // channels[from][to]
  const writers: ChannelWriter[][] = [];
  const readers: ChannelReader[][] = Array.from({ length: tasks }, () => []);
  for (let f = 0; f < tasks; f++) {
    writers.push([]);
    for (let t = 0; t < tasks; t++) {
      const { port1, port2 } = new MessageChannel();
      writers[f].push(new ChannelWriter(port1, { batchRecords: 1 + (batches[(f + t) % batches.length] % 7), maxInFlight: 2 }));
      readers[t][f] = new ChannelReader(port2);
    }
  }
  // The coordinator's checkpoints: triggered every few scheduling rounds; each upstream task
  // injects a triggered barrier at its next step (an ended one votes its final offsets at once).
  let nextId = (from?.id ?? 0) + 1;
  const upstream = Array.from({ length: tasks }, (_, task) => {
    const mine = input.flatMap((_p, p) => (p % tasks === task ? [p] : []));
    const state: SourceState = from?.sources[task] ?? { offsets: input.map(() => 0), maxSeen: input.map(() => Number.NEGATIVE_INFINITY) };
    return { task, mine, offsets: [...state.offsets], maxSeen: [...state.maxSeen], injected: nextId - 1, ended: false };
  });
  const keyed = Array.from({ length: tasks }, (_, task) => {
    const state: KeyedState = from?.keyed[task] ?? { windows: [], marks: Array.from({ length: tasks }, () => Number.NEGATIVE_INFINITY) };
    return { task, aligner: new BarrierAligner(readers[task]), windows: new Map(state.windows), marks: [...state.marks], pending: [] as string[], voted: nextId - 1 };
  });
  const snapshotOf = (u: (typeof upstream)[number]): SourceState => ({ offsets: [...u.offsets], maxSeen: [...u.maxSeen] });
  const trigger = () => {
    const id = nextId++;
    for (const u of upstream) {
      if (!u.ended) continue;
      votes.vote(id, u.task, { kind: 'source', task: u.task, state: snapshotOf(u) });
      u.injected = id;
    }
  };
  const keyedVote = (k: (typeof keyed)[number], id: number) => {
    votes.vote(id, tasks + k.task, { kind: 'keyed', task: k.task, state: { windows: [...k.windows], marks: [...k.marks] }, output: k.pending });
    k.pending = [];
    k.voted = id;
  };
  try {
    let step = 0;
    let rounds = 0;
    let final = false;
    for (;;) {
      if (crashAt !== undefined && step >= crashAt) break;
      let progressed = false;
      for (const u of upstream) {
        if (u.ended || !writers[u.task].every((w) => w.writable)) continue;
        progressed = true;
        step++;
        for (let id = u.injected + 1; id < nextId; id++) {
          votes.vote(id, u.task, { kind: 'source', task: u.task, state: snapshotOf(u) });
          for (const w of writers[u.task]) w.barrier(id);
          u.injected = id;
        }
        let budget = 1 + batches[batch++ % batches.length];
        for (const p of u.mine) {
          while (budget > 0 && u.offsets[p] < input[p].length) {
            const r = input[p][u.offsets[p]++];
            u.maxSeen[p] = Math.max(u.maxSeen[p], r.ts);
            writers[u.task][owner(r.key, tasks)].record(r.key, r.v, r.ts, 0);
            budget--;
          }
        }
        const ended = u.mine.every((p) => u.offsets[p] === input[p].length);
        for (const w of writers[u.task]) {
          if (ended) w.end();
          else w.watermark(Math.min(...u.mine.map((p) => u.maxSeen[p] - BOUND)));
        }
        u.ended = ended;
      }
      for (const k of keyed) {
        for (let next = k.aligner.next(); next !== undefined; next = k.aligner.next()) {
          progressed = true;
          if (next.kind === 'aligned') {
            keyedVote(k, next.id);
            continue;
          }
          const { input: from, item } = next;
          if (item.kind === 'record') {
            const id = `${String(item.key)}|${item.timestamp - (item.timestamp % SIZE)}`;
            k.windows.set(id, (k.windows.get(id) ?? 0) + (item.value as number));
            continue;
          }
          k.marks[from] = item.kind === 'end' ? Number.POSITIVE_INFINITY : Math.max(k.marks[from], item.watermark);
          const frontier = Math.min(...k.marks);
          for (const [id, sum] of k.windows) {
            const start = Number(id.split('|')[1]);
            if (start + SIZE <= frontier) {
              k.pending.push(`${id}|${sum}`);
              k.windows.delete(id);
            }
          }
        }
        // Every input ended: no barrier can come any more, so the task votes every checkpoint triggered since with what it holds.
        if (k.aligner.done) for (let id = k.voted + 1; id < nextId; id++) keyedVote(k, id);
      }
      if (progressed && ++rounds % checkpointEvery === 0) trigger();
      if (upstream.every((u) => u.ended) && keyed.every((k) => k.aligner.done)) {
        // The final checkpoint, once every input ended; it is voted (and decided) at once.
        if (final) break;
        final = true;
        trigger();
        for (const k of keyed) for (let id = k.voted + 1; id < nextId; id++) keyedVote(k, id);
        continue;
      }
      if (progressed) continue;
      // Nothing can move until a port delivers: wait for data on an input not held back, or for credit; never for time.
      const waits = [
        ...keyed.flatMap((k) => readers[k.task].flatMap((r, input) => (k.aligner.blocked(input) || r.ended ? [] : [r.whenReadable()]))),
        ...upstream.flatMap((u) => (u.ended ? [] : writers[u.task].flatMap((w) => (w.writable ? [] : [w.whenWritable()])))),
      ];
      if (waits.length === 0) throw new Error('the exchange is stuck: no input can deliver and no writer waits for credit');
      await Promise.race(waits);
    }
    await votes.settled();
    return last;
  } finally {
    // A failed case must not leave ports open: they would keep the test process alive.
    for (const w of writers.flat()) w.close();
    for (const r of readers.flat()) r.close();
  }
}

const caseArb = fc.record({
  tasks: fc.integer({ min: 2, max: 3 }),
  partitions: fc.array(
    fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), jitter: fc.nat({ max: BOUND - 1 }), gap: fc.nat({ max: 3 }), v: fc.integer({ min: 1, max: 9 }) }), { maxLength: 40 }),
    { minLength: 2, maxLength: 4 },
  ),
  batches: fc.array(fc.nat({ max: 9 }), { minLength: 1, maxLength: 8 }),
  checkpointEvery: fc.integer({ min: 1, max: 4 }),
  crashAt: fc.nat({ max: 60 }),
});

void test('keyed windows across 2-3 tasks over in-memory channels: a crash at a random moment and a restore give the reference, no loss and no duplicate', async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ tasks, partitions, batches, checkpointEvery, crashAt }) => {
      // Out of order within the bound, so no record is late (lateness is the window operators' tests' concern).
      const input = partitions.map((records) => {
        let base = 0;
        return records.map(({ key, jitter, gap, v }) => {
          base += gap;
          return { key, ts: base + jitter, v };
        });
      });
      const output: string[] = [];
      const committed = await run(input, tasks, batches, checkpointEvery, undefined, crashAt, output);
      await run(input, tasks, batches, checkpointEvery, committed, undefined, output);
      assert.deepEqual(output.sort(), reference(input));
    }),
    { numRuns: 150 },
  );
});
