/**
 * A brute-force reference for the stream-stream joins, sharing no code with the engine (it
 * imports nothing from src): every pair of records of one key is tested against the join's
 * condition. Watermarks follow DESIGN section 4: a source partition's watermark after some
 * records is max(event time seen) - bound, and each record's W_before is its own partition's
 * watermark just before it.
 */

export interface JoinRec {
  id: number;
  k: string;
  ts: number;
}

export interface SideInput {
  topic: string;
  partitions: number;
  bound: number;
  /** In log order per partition (the order of this list within one partition). */
  records: { partition: number; rec: JoinRec }[];
}

/** What a join emits, as the test's join function writes it: the ids of the pair (null: unmatched) and the result time. */
export interface Pair {
  l: number | null;
  r: number | null;
  ts: number;
}

/** Each record with W_before, its own partition's watermark just before it. */
export function withWatermarks(side: SideInput): { rec: JoinRec; wBefore: number }[] {
  const max = new Map<number, number>();
  return side.records.map(({ partition, rec }) => {
    const seen = max.get(partition);
    const wBefore = seen === undefined ? Number.NEGATIVE_INFINITY : seen - side.bound;
    max.set(partition, seen === undefined ? rec.ts : Math.max(seen, rec.ts));
    return { rec, wBefore };
  });
}

export interface IntervalShape {
  lower: number;
  upper: number;
  lowerExclusive: boolean;
  upperExclusive: boolean;
  type: 'inner' | 'left' | 'outer';
}

/** The interval join: pairs within bounds, the unmatched ones its type keeps, and the late records (ts < W_before). */
export function intervalJoin(left: SideInput, right: SideInput, shape: IntervalShape): { pairs: Pair[]; late: number[] } {
  const late: number[] = [];
  const onTime = (side: SideInput) =>
    withWatermarks(side).flatMap(({ rec, wBefore }) => {
      if (rec.ts < wBefore) {
        late.push(rec.id);
        return [];
      }
      return [rec];
    });
  const ls = onTime(left);
  const rs = onTime(right);
  const within = (l: JoinRec, r: JoinRec) => {
    const lo = l.ts + shape.lower;
    const hi = l.ts + shape.upper;
    return (shape.lowerExclusive ? lo < r.ts : lo <= r.ts) && (shape.upperExclusive ? r.ts < hi : r.ts <= hi);
  };
  const pairs: Pair[] = [];
  const matched = new Set<number>();
  for (const l of ls) {
    for (const r of rs) {
      if (l.k !== r.k || !within(l, r)) continue;
      pairs.push({ l: l.id, r: r.id, ts: Math.max(l.ts, r.ts) });
      matched.add(l.id);
      matched.add(r.id);
    }
  }
  if (shape.type !== 'inner') for (const l of ls) if (!matched.has(l.id)) pairs.push({ l: l.id, r: null, ts: l.ts });
  if (shape.type === 'outer') for (const r of rs) if (!matched.has(r.id)) pairs.push({ l: null, r: r.id, ts: r.ts });
  return { pairs, late };
}

export type WindowShape = { kind: 'tumbling'; size: number; offset: number } | { kind: 'hopping'; size: number; slide: number; offset: number } | { kind: 'session'; gap: number };

const floorMod = (a: number, n: number): number => ((a % n) + n) % n;

/** The windows [start, end) of a grid of `size` every `slide`, shifted by `offset`, that hold ts. */
function gridWindows(ts: number, size: number, slide: number, offset: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = ts - floorMod(ts - offset, slide); start > ts - size; start -= slide) out.push([start, start + size]);
  return out;
}

/**
 * The window join: for each key and window, every (left, right) pair of records in it, stamped
 * end - 1. A record joins the windows with end > W_before (lateness 0), and is late if none.
 * Sessions: the key's records (both sides) chained while the next starts before the session's end.
 */
export function windowJoin(left: SideInput, right: SideInput, shape: WindowShape): { pairs: Pair[]; late: number[] } {
  const late: number[] = [];
  // key -> window name -> the ids of each side in it
  const windows = new Map<string, { end: number; l: number[]; r: number[] }>();
  const add = (rec: JoinRec, side: 'l' | 'r', start: number, end: number) => {
    const name = `${rec.k}|${start}|${end}`;
    let w = windows.get(name);
    if (w === undefined) windows.set(name, (w = { end, l: [], r: [] }));
    w[side].push(rec.id);
  };
  const sides: [SideInput, 'l' | 'r'][] = [
    [left, 'l'],
    [right, 'r'],
  ];
  if (shape.kind === 'session') {
    // Late-free input only (the test gives sessions none): every record joins its key's session.
    const byKey = new Map<string, { rec: JoinRec; side: 'l' | 'r' }[]>();
    for (const [input, side] of sides) {
      for (const { rec, wBefore } of withWatermarks(input)) {
        if (rec.ts < wBefore) throw new Error('the session reference takes late-free input');
        byKey.set(rec.k, [...(byKey.get(rec.k) ?? []), { rec, side }]);
      }
    }
    for (const list of byKey.values()) {
      list.sort((a, b) => a.rec.ts - b.rec.ts);
      let session: { start: number; end: number; members: typeof list } | undefined;
      const close = () => {
        if (session) for (const m of session.members) add(m.rec, m.side, session.start, session.end);
      };
      for (const m of list) {
        if (session !== undefined && m.rec.ts < session.end) {
          session.end = Math.max(session.end, m.rec.ts + shape.gap);
          session.members.push(m);
        } else {
          close();
          session = { start: m.rec.ts, end: m.rec.ts + shape.gap, members: [m] };
        }
      }
      close();
    }
  } else {
    const slide = shape.kind === 'hopping' ? shape.slide : shape.size;
    for (const [input, side] of sides) {
      for (const { rec, wBefore } of withWatermarks(input)) {
        const taken = gridWindows(rec.ts, shape.size, slide, shape.offset).filter(([, end]) => end > wBefore);
        if (taken.length === 0) late.push(rec.id);
        for (const [start, end] of taken) add(rec, side, start, end);
      }
    }
  }
  const pairs: Pair[] = [];
  for (const w of windows.values()) for (const l of w.l) for (const r of w.r) pairs.push({ l, r, ts: w.end - 1 });
  return { pairs, late };
}
