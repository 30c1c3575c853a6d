/**
 * A brute-force pattern matcher that shares no code with the operator (it imports nothing
 * from src). Per key it sorts the on-time events by (time, partition, offset), enumerates every
 * subsequence with every assignment of its events to steps, and keeps those that satisfy the
 * rules of docs/semantics.md stated directly over the event list: conditions (with the match so
 * far as context), contiguity over the gaps between taken events, until, greedy, negations and
 * within. Then it walks the moments of the key in time order (each event, each expiry) to
 * emit matches, apply the skip strategy and report the partial matches that time out.
 */

export type RefCond = { kind: 'true' } | { kind: 'in'; letters: string } | { kind: 'gtPrev'; step: string };

export interface RefStep {
  name: string;
  kind: 'begin' | 'next' | 'followedBy' | 'followedByAny' | 'notNext' | 'notFollowedBy';
  where: { op: 'and' | 'or'; c: RefCond }[];
  until?: RefCond;
  min: number;
  max: number;
  optional: boolean;
  greedy: boolean;
  consecutive: boolean;
}

export interface RefPattern {
  steps: RefStep[];
  within?: number;
}

export type RefSkip = 'noSkip' | 'skipToNext' | 'skipPastLastEvent' | { skipToFirst: string } | { skipToLast: string };

/** An event's value: its id, letter and number. */
export interface RefValue {
  id: number;
  k: string;
  n: number;
}

export interface RefInput {
  key: string;
  ts: number;
  partition: number;
  offset: number;
  value: RefValue;
}

/** What a key's matching emits, in order: matches and timeouts as `id:step` chains. */
export type RefOutput = { type: 'match'; chain: string } | { type: 'timeout'; chain: string; at: number };

type Ctx = (name: string) => RefValue[];

function holds(c: RefCond, e: RefValue, ctx: Ctx): boolean {
  if (c.kind === 'true') return true;
  if (c.kind === 'in') return c.letters.includes(e.k);
  const prev = ctx(c.step).at(-1);
  return prev === undefined || e.n > prev.n;
}

function condOf(step: RefStep, e: RefValue, ctx: Ctx): boolean {
  if (step.where.length === 0) return true;
  let ok = holds(step.where[0].c, e, ctx);
  for (const w of step.where.slice(1)) ok = w.op === 'and' ? ok && holds(w.c, e, ctx) : ok || holds(w.c, e, ctx);
  return ok;
}

function untilOf(step: RefStep, e: RefValue, ctx: Ctx): boolean {
  return step.until !== undefined && holds(step.until, e, ctx);
}

function takeOf(step: RefStep, e: RefValue, ctx: Ctx): boolean {
  return condOf(step, e, ctx) && !untilOf(step, e, ctx);
}

interface Taken {
  pos: number;
  step: number;
}

/** Matches per key, in emission order, for the given input (late records already left out by `onTime`). */
export function referenceMatches(pattern: RefPattern, skip: RefSkip, records: RefInput[]): Map<string, RefOutput[]> {
  const byKey = new Map<string, RefInput[]>();
  for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  const out = new Map<string, RefOutput[]>();
  for (const [key, list] of byKey) {
    const sorted = [...list].sort((a, b) => a.ts - b.ts || a.partition - b.partition || a.offset - b.offset);
    out.set(key, matchKey(pattern, skip, sorted));
  }
  return out;
}

/** The records that are on time: time >= the watermark of their own partition just before them. */
export function onTime(records: RefInput[], bounds: number[]): RefInput[] {
  // Records come in arrival order; a partition's watermark is its largest time so far minus its bound.
  const maxSeen = new Map<number, number>();
  const kept: RefInput[] = [];
  for (const r of records) {
    const before = (maxSeen.get(r.partition) ?? Number.NEGATIVE_INFINITY) - bounds[r.partition];
    if (r.ts >= before) kept.push(r);
    maxSeen.set(r.partition, Math.max(maxSeen.get(r.partition) ?? Number.NEGATIVE_INFINITY, r.ts));
  }
  return kept;
}

function matchKey(pattern: RefPattern, skip: RefSkip, events: RefInput[]): RefOutput[] {
  const positive = pattern.steps.filter((s) => s.kind !== 'notNext' && s.kind !== 'notFollowedBy');
  const k = positive.length;
  // Negations sitting between positive step j and j + 1 (after the last: at the end).
  const negAfter: RefStep[][] = positive.map(() => []);
  let j = -1;
  for (const s of pattern.steps) {
    if (s.kind === 'notNext' || s.kind === 'notFollowedBy') negAfter[j].push(s);
    else j++;
  }
  const endNegation = negAfter[k - 1].some((s) => s.kind === 'notFollowedBy');
  const value = (pos: number) => events[pos].value;
  const ctxOf = (prefix: Taken[]): Ctx => (name) => prefix.filter((t) => positive[t.step].name === name).map((t) => value(t.pos));
  const countOf = (prefix: Taken[], step: number) => prefix.filter((t) => t.step === step).length;
  const negsBetween = (from: number, to: number, kind: string) => negAfter.slice(from, Math.min(to, k)).flat().filter((n) => n.kind === kind);

  /** Whether the last element of `prefix` keeps every rule, given the ones before it did. */
  const lastValid = (prefix: Taken[]): boolean => {
    const x = prefix[prefix.length - 1];
    const before = prefix.slice(0, -1);
    const ctx = ctxOf(before);
    if (!takeOf(positive[x.step], value(x.pos), ctx)) return false;
    if (pattern.within !== undefined && events[x.pos].ts - events[prefix[0].pos].ts >= pattern.within) return false;
    if (before.length === 0) return true;
    const p = before[before.length - 1];
    const gap: number[] = [];
    for (let g = p.pos + 1; g < x.pos; g++) gap.push(g);
    const firstAfter = p.pos + 1;
    if (x.step === p.step) {
      const step = positive[x.step];
      if (step.consecutive) return gap.length === 0;
      return gap.every((g) => !condOf(step, value(g), ctx) && !untilOf(step, value(g), ctx));
    }
    const target = positive[x.step];
    if (target.kind === 'next' && gap.length > 0) return false;
    if (target.kind === 'followedBy' && gap.some((g) => takeOf(target, value(g), ctx))) return false;
    for (const neg of negsBetween(p.step, x.step, 'notFollowedBy')) if (gap.some((g) => condOf(neg, value(g), ctx))) return false;
    for (const neg of negsBetween(p.step, x.step, 'notNext')) if (condOf(neg, value(firstAfter), ctx)) return false;
    const left = positive[p.step];
    if (left.greedy && countOf(before, p.step) < left.max && takeOf(left, value(firstAfter), ctx)) return false;
    return true;
  };

  /** Whether a prefix ending at its last step (with its count) could end the pattern there. */
  const canEnd = (prefix: Taken[]): boolean => {
    const last = prefix[prefix.length - 1];
    if (countOf(prefix, last.step) < positive[last.step].min) return false;
    return positive.slice(last.step + 1).every((s) => s.optional);
  };

  // Every valid prefix, by depth-first extension (an invalid prefix has no valid extension).
  const prefixes: Taken[][] = [];
  const extend = (prefix: Taken[]): void => {
    prefixes.push(prefix);
    const last = prefix[prefix.length - 1];
    const count = countOf(prefix, last.step);
    const steps: number[] = [];
    if (count < positive[last.step].max) steps.push(last.step);
    if (count >= positive[last.step].min) {
      for (let t = last.step + 1; t < k; t++) {
        steps.push(t);
        if (!positive[t].optional) break;
      }
    }
    for (let pos = last.pos + 1; pos < events.length; pos++) {
      for (const step of steps) {
        const next = [...prefix, { pos, step }];
        if (lastValid(next)) extend(next);
      }
    }
  };
  for (let pos = 0; pos < events.length; pos++) {
    for (let t = 0; t < k; t++) {
      const first = [{ pos, step: t }];
      if (lastValid(first)) extend(first);
      if (!positive[t].optional) break;
    }
  }

  const deadlineOf = (prefix: Taken[]) => (pattern.within === undefined ? Number.POSITIVE_INFINITY : events[prefix[0].pos].ts + pattern.within);
  /** Events after the prefix's last one and before its deadline. */
  const gapToDeadline = (prefix: Taken[]) => {
    const d = deadlineOf(prefix);
    const gap: number[] = [];
    for (let g = prefix[prefix.length - 1].pos + 1; g < events.length && events[g].ts < d; g++) gap.push(g);
    return gap;
  };
  const absenceHeld = (prefix: Taken[]) => {
    const ctx = ctxOf(prefix);
    const last = prefix[prefix.length - 1].step;
    return gapToDeadline(prefix).every((g) => negsBetween(last, k, 'notFollowedBy').every((n) => !condOf(n, value(g), ctx)));
  };
  /** Whether some way on is still open at the deadline (so the partial match is there to time out). */
  const aliveAtDeadline = (prefix: Taken[]): boolean => {
    const ctx = ctxOf(prefix);
    const last = prefix[prefix.length - 1];
    const count = countOf(prefix, last.step);
    const gap = gapToDeadline(prefix);
    const step = positive[last.step];
    if (count < step.max) {
      const ok = step.consecutive ? gap.length === 0 : gap.every((g) => !condOf(step, value(g), ctx) && !untilOf(step, value(g), ctx));
      if (ok) return true;
    }
    if (count < step.min) return false;
    if (step.greedy && count < step.max && gap.length > 0 && takeOf(step, value(gap[0]), ctx)) return false;
    for (let t = last.step + 1; t < k; t++) {
      const target = positive[t];
      let ok = true;
      if (target.kind === 'next' && gap.length > 0) ok = false;
      if (target.kind === 'followedBy' && gap.some((g) => takeOf(target, value(g), ctx))) ok = false;
      for (const neg of negsBetween(last.step, t, 'notFollowedBy')) if (gap.some((g) => condOf(neg, value(g), ctx))) ok = false;
      for (const neg of negsBetween(last.step, t, 'notNext')) if (gap.length > 0 && condOf(neg, value(gap[0]), ctx)) ok = false;
      if (ok) return true;
      if (!target.optional) break;
    }
    return false;
  };

  const chainOf = (prefix: Taken[]) => prefix.map((t) => `${value(t.pos).id}:${positive[t.step].name}`).join(',');
  const order = (a: Taken[], b: Taken[]) => {
    if (a[0].pos !== b[0].pos) return a[0].pos - b[0].pos;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i].pos !== b[i].pos) return a[i].pos - b[i].pos;
      if (a[i].step !== b[i].step) return a[i].step - b[i].step;
    }
    return a.length - b.length;
  };
  const skipPoint = (m: Taken[]): number => {
    if (skip === 'noSkip') return Number.NEGATIVE_INFINITY;
    if (skip === 'skipToNext') return m[0].pos + 1;
    if (skip === 'skipPastLastEvent') return m[m.length - 1].pos + 1;
    const name = 'skipToFirst' in skip ? skip.skipToFirst : skip.skipToLast;
    const hits = m.filter((t) => positive[t.step].name === name);
    if (hits.length === 0) return Number.NEGATIVE_INFINITY;
    return 'skipToFirst' in skip ? hits[0].pos : hits[hits.length - 1].pos;
  };

  // The moments of the key: each event, each deadline (before events at or after it).
  type Moment = { time: number; kind: 0 | 1; pos: number };
  const moments: Moment[] = events.map((e, pos) => ({ time: e.ts, kind: 1 as const, pos }));
  const deadlines = new Set(prefixes.map(deadlineOf).filter((d) => d !== Number.POSITIVE_INFINITY));
  for (const d of deadlines) moments.push({ time: d, kind: 0, pos: -1 });
  moments.sort((a, b) => a.time - b.time || a.kind - b.kind || a.pos - b.pos);

  const result: RefOutput[] = [];
  let threshold = Number.NEGATIVE_INFINITY;
  const emit = (matches: Taken[][]) => {
    for (const m of [...matches].sort(order)) {
      if (m[0].pos < threshold) continue;
      result.push({ type: 'match', chain: chainOf(m) });
      threshold = Math.max(threshold, skipPoint(m));
    }
  };
  for (const moment of moments) {
    if (moment.kind === 1) {
      emit(prefixes.filter((p) => !endNegation && p[p.length - 1].pos === moment.pos && canEnd(p)));
      continue;
    }
    const due = prefixes.filter((p) => deadlineOf(p) === moment.time);
    const ending = due.filter((p) => endNegation && canEnd(p) && absenceHeld(p));
    emit(ending);
    const timedOut = due.filter((p) => p[0].pos >= threshold && !ending.includes(p) && !(canEnd(p) && !endNegation) && aliveAtDeadline(p));
    for (const p of timedOut.sort(order)) result.push({ type: 'timeout', chain: chainOf(p), at: moment.time });
  }
  return result;
}
