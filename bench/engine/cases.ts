/**
 * The three engine benchmarks, each as a Sluice pipeline and as the same computation written
 * as one plain TypeScript loop over the same backend: fetch, decode, compute, encode, send.
 */
import type { FetchedRecord, OutgoingRecord } from '../../src/backend/index.ts';
import type { Codec } from '../../src/core/index.ts';
import { Windows } from '../../src/index.ts';
import { encodeKey } from '../../src/operators/index.ts';
import type { Sluice } from '../../src/sluice.ts';
import type { Event, GeneratedBackend } from './generated.ts';

export interface Codecs {
  event: Codec<Event>;
  mapped: Codec<{ user: number; double: number }>;
  window: Codec<{ key: number; start: number; end: number; value: number }>;
}

export interface BenchCase {
  name: string;
  engine(app: Sluice, codecs: Codecs): void;
  loop(backend: GeneratedBackend, codecs: Codecs, batchSize: number): Promise<void>;
}

const WINDOW_MS = 1000;
const GAP_MS = 200;

/** Reads every partition round by round, as the engine does, handing each batch to `onBatch`. */
async function rounds(backend: GeneratedBackend, batchSize: number, onBatch: (records: FetchedRecord[], partition: number) => void, onRound: (watermark: number) => void): Promise<void> {
  const offsets = new Array(backend.partitionCount).fill(0);
  const maxTs = new Array(backend.partitionCount).fill(Number.NEGATIVE_INFINITY);
  for (;;) {
    let read = 0;
    for (let p = 0; p < backend.partitionCount; p++) {
      const { records, nextOffset } = await backend.fetch('events', p, offsets[p], batchSize);
      offsets[p] = nextOffset;
      read += records.length;
      if (records.length > 0) maxTs[p] = records[records.length - 1].timestamp;
      onBatch(records, p);
    }
    if (read === 0) break;
    onRound(Math.min(...maxTs));
  }
  onRound(Number.POSITIVE_INFINITY);
}

export const filterMap: BenchCase = {
  name: 'filter+map',
  engine(app, codecs) {
    app
      .stream<Event>('events', { codec: codecs.event })
      .filter((e) => e.v % 2 === 0)
      .map((e) => ({ user: e.user, double: e.v * 2 }))
      .to('out', { codec: codecs.mapped });
  },
  async loop(backend, codecs, batchSize) {
    const writer = await backend.openWriter();
    await rounds(
      backend,
      batchSize,
      (records) => {
        const out: OutgoingRecord[] = [];
        for (const r of records) {
          const e = codecs.event.decode(r.value!);
          if (e.v % 2 === 0) out.push({ key: null, value: codecs.mapped.encode({ user: e.user, double: e.v * 2 }), timestamp: r.timestamp });
        }
        void writer.send('out', out);
      },
      () => {},
    );
  },
};

export const tumblingCount: BenchCase = {
  name: 'tumbling count, 10k keys',
  engine(app, codecs) {
    app.stream<Event>('events', { codec: codecs.event }).keyBy((e) => e.user).window(Windows.tumbling(WINDOW_MS)).count().to('counts', { codec: codecs.window });
  },
  async loop(backend, codecs, batchSize) {
    const writer = await backend.openWriter();
    const windows = new Map<number, Map<number, number>>();
    await rounds(
      backend,
      batchSize,
      (records) => {
        for (const r of records) {
          const e = codecs.event.decode(r.value!);
          const start = r.timestamp - (r.timestamp % WINDOW_MS);
          let counts = windows.get(start);
          if (counts === undefined) windows.set(start, (counts = new Map()));
          counts.set(e.user, (counts.get(e.user) ?? 0) + 1);
        }
      },
      (watermark) => {
        const out: OutgoingRecord[] = [];
        for (const [start, counts] of windows) {
          const end = start + WINDOW_MS;
          if (end > watermark) continue;
          for (const [key, value] of counts) out.push({ key: encodeKey(key), value: codecs.window.encode({ key, start, end, value }), timestamp: end - 1 });
          windows.delete(start);
        }
        if (out.length > 0) void writer.send('counts', out);
      },
    );
  },
};

export const sessionCount: BenchCase = {
  name: 'session count, 10k keys',
  engine(app, codecs) {
    app.stream<Event>('events', { codec: codecs.event }).keyBy((e) => e.user).window(Windows.session(GAP_MS)).count().to('sessions', { codec: codecs.window });
  },
  async loop(backend, codecs, batchSize) {
    const writer = await backend.openWriter();
    // Open sessions per key, sorted by start; partitions interleave, so a key's records may
    // come slightly out of order and a record can bridge two sessions.
    const open = new Map<number, { start: number; end: number; count: number }[]>();
    await rounds(
      backend,
      batchSize,
      (records) => {
        for (const r of records) {
          const e = codecs.event.decode(r.value!);
          const ts = r.timestamp;
          let list = open.get(e.user);
          if (list === undefined) open.set(e.user, (list = []));
          let merged = { start: ts, end: ts + GAP_MS, count: 1 };
          const keep: { start: number; end: number; count: number }[] = [];
          for (const s of list) {
            if (s.start < merged.end && merged.start < s.end) merged = { start: Math.min(s.start, merged.start), end: Math.max(s.end, merged.end), count: s.count + merged.count };
            else keep.push(s);
          }
          keep.push(merged);
          if (keep.length > 1) keep.sort((a, b) => a.start - b.start);
          open.set(e.user, keep);
        }
      },
      (watermark) => {
        const out: OutgoingRecord[] = [];
        for (const [key, list] of open) {
          let fired = 0;
          while (fired < list.length && list[fired].end <= watermark) {
            const s = list[fired++];
            out.push({ key: encodeKey(key), value: codecs.window.encode({ key, start: s.start, end: s.end, value: s.count }), timestamp: s.end - 1 });
          }
          if (fired === list.length) open.delete(key);
          else if (fired > 0) open.set(key, list.slice(fired));
        }
        if (out.length > 0) void writer.send('sessions', out);
      },
    );
  },
};

export const CASES = [filterMap, tumblingCount, sessionCount];
