/**
 * The health line: is the job keeping up, and if not, where does the time go. Read from the
 * collector's one-second series: consumer lag growing over the last ten seconds means the
 * job falls behind; the operator with the largest busy share is named as the slow one. For
 * keyed stages (windows), the input partition holding the watermark back, or idle inputs.
 */
import type { JobStartEvent, PlanOperator, RoundEvent } from '../runtime/index.ts';
import type { SeriesPoint } from './series.ts';

export interface WatermarkHolder {
  stage: number;
  /** The stage's first stateful operator (the window), or its entry. */
  operator: string;
  watermark: number | null;
  /** `topic/partition` (source inputs) or `stage N task P` holding the minimum, when inputs disagree. */
  heldBy: string | null;
  /** How far the holder is behind the most advanced input, ms. */
  behindMs: number;
  idle: string[];
  /** For event-time windows: which window fires next and what it waits for. */
  next: string | null;
}

export interface Health {
  status: 'starting' | 'ok' | 'behind' | 'stopped';
  line: string;
  slowOperator: string | null;
  watermarks: WatermarkHolder[];
}

const WINDOW = 10;

export function health(start: JobStartEvent, series: SeriesPoint[], last: RoundEvent | undefined, now: number): Health {
  const names = new Map<string, string>();
  for (const stage of start.stages) for (const op of stage.ops) names.set(`${stage.id}.${op.index}`, op.name);
  const watermarks = holders(start, last);
  if (series.length < 2 || last === undefined) return { status: 'starting', line: 'starting: waiting for the first records', slowOperator: null, watermarks };
  const recent = series.slice(-WINDOW);
  const busy = new Map<string, number>();
  for (const p of recent) for (const [id, share] of Object.entries(p.busy)) busy.set(id, (busy.get(id) ?? 0) + share / recent.length);
  let slowest: [string, number] | null = null;
  for (const entry of busy) if (slowest === null || entry[1] > slowest[1]) slowest = entry;
  const slowName = slowest ? (names.get(slowest[0]) ?? slowest[0]) : null;
  const busyText = slowest && slowName ? `${slowName} busy ${(slowest[1] * 100).toFixed(1)}% of the time` : 'no operator busy';
  const lagNow = recent[recent.length - 1].lag;
  const lagBefore = recent[0].lag;
  const rate = recent[recent.length - 1].inPerSec;
  if (now - last.time > 5000 && lagNow === 0) return { status: 'ok', line: `idle: no new records for ${Math.round((now - last.time) / 1000)} s, nothing waiting`, slowOperator: null, watermarks };
  // Lag rising across the window (not a single commit's jitter) and beyond one second of input.
  if (lagNow > lagBefore && lagNow > Math.max(1000, rate)) {
    const seconds = Math.round((recent[recent.length - 1].time - recent[0].time) / 1000);
    return { status: 'behind', line: `falling behind: lag ${lagNow} records (+${lagNow - lagBefore} in ${seconds} s); slowest operator: ${busyText}`, slowOperator: slowName, watermarks };
  }
  return { status: 'ok', line: `keeping up: ${Math.round(rate)} records/s in, lag ${lagNow} records; busiest operator: ${busyText}`, slowOperator: null, watermarks };
}

function holders(start: JobStartEvent, last: RoundEvent | undefined): WatermarkHolder[] {
  if (last === undefined) return [];
  const out: WatermarkHolder[] = [];
  for (const sw of last.stages) {
    const stage = start.stages[sw.stage];
    const op = stage.ops.find((o) => o.kind === 'window' || o.kind === 'process' || o.kind === 'rolling' || o.kind === 'windowJoin' || o.kind === 'intervalJoin') ?? stage.ops[0];
    const label = (i: { stage: number; partition: number }) => {
      const topic = start.stages[i.stage].topic;
      return topic === undefined ? `stage ${i.stage} task ${i.partition}` : `${topic}/${i.partition}`;
    };
    const active = sw.inputs.filter((i) => !i.idle);
    let min: (typeof active)[number] | undefined;
    let max = Number.NEGATIVE_INFINITY;
    for (const i of active) {
      if (min === undefined || i.watermark < min.watermark) min = i;
      if (i.watermark > max) max = i.watermark;
    }
    const spread = min === undefined ? 0 : max - min.watermark;
    out.push({
      stage: sw.stage,
      operator: op.name,
      watermark: Number.isFinite(sw.watermark) ? sw.watermark : null,
      heldBy: min !== undefined && spread > 0 ? label(min) : null,
      behindMs: Number.isFinite(spread) ? spread : 0,
      idle: sw.inputs.filter((i) => i.idle).map(label),
      next: nextFiring(op.window, sw.watermark),
    });
  }
  return out;
}

/** The next event-time window to fire, given the operator's watermark (windows fire at W >= end). */
function nextFiring(window: PlanOperator['window'], watermark: number): string | null {
  if (window === undefined || !Number.isFinite(watermark)) return null;
  const iso = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  if ((window.kind === 'tumbling' || window.kind === 'hopping') && window.time === 'event') {
    const slide = window.kind === 'hopping' ? window.slideMs : window.sizeMs;
    // The earliest window end after W: ends fall on offset + k * slide.
    const end = Math.floor((watermark - window.offsetMs) / slide) * slide + window.offsetMs + slide;
    return `next window [${iso(end - window.sizeMs)}, ${iso(end)}) fires when the watermark reaches ${iso(end)}, ${((end - watermark) / 1000).toFixed(1)} s from now in event time`;
  }
  if (window.kind === 'session' && window.time === 'event') return `a session fires once the watermark passes ${window.gapMs / 1000} s after its last record`;
  return null;
}
