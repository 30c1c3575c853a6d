/**
 * The keyed window aggregation operator (DESIGN section 4).
 *
 * - A window `[start, end)` fires when the operator watermark W reaches its end (W >= end).
 * - Lateness uses the record's own `sourceWatermark` (W_before): a record contributes to window
 *   w only if `w.end + allowedLateness > W_before`; a record contributing to no window is late:
 *   counted (`lateRecords`), and sent to the late side output when one is set, else dropped.
 * - With allowed lateness a fired window keeps its state until W >= end + allowedLateness and
 *   re-fires with its updated result for each contributing late record. A record that changes
 *   a window its own partition's watermark already completed first fires the key's windows that
 *   partition completed, so a single-partition input gives the same emissions however the
 *   runtime batches records and watermarks. The last result emitted for a window is its final.
 * - Results are elements `{ key, start, end, value }` keyed by the key, stamped `end - 1`, and
 *   come out in window-end order per key (late re-firings follow the record that caused them).
 * - Processing-time windows assign by the clock and fire from `onProcessingTime`; early
 *   firings by interval run on processing time too. Both depend on timing, by nature.
 *
 * @example
 * const op = new WindowOperator({
 *   name: 'clicks-per-url',
 *   window: TumblingWindow.of(5, MINUTES),
 *   lateness: { allowedLatenessMs: 0 },
 *   emit: { kind: 'final' },
 *   aggregate: aggregates.count(),
 * });
 */
import { SluiceError } from '../core/errors.ts';
import { alignedStart } from '../time/assigners.ts';
import type { EmitSpec, LatenessSpec, TimeDomain, WindowSpec } from '../time/window-spec.ts';
import type { AggregateFunction } from './aggregate-function.ts';
import { type Element, type Operator, type Output, positionField } from './operator.ts';
import { type RecordErrorHandler, rethrow } from './record-error.ts';
import { type EngineContext, Emitter, savedNumber, userFailure, type WindowEngine, type WindowResult } from './window-common.ts';
import { CountWindowEngine } from './window-count.ts';
import { FixedWindowEngine } from './window-fixed.ts';
import { GlobalWindowEngine } from './window-global.ts';
import { PaneWindowEngine } from './window-panes.ts';
import { SessionWindowEngine } from './window-session.ts';
import { SlidingWindowEngine } from './window-sliding.ts';
import type { KeyedTable } from '../state/index.ts';

export type { WindowResult } from './window-common.ts';

export interface WindowOperatorConfig<V = unknown, A = unknown, R = unknown> {
  /** Stable name: state and checkpoints are keyed by it. */
  name: string;
  window: WindowSpec;
  /** Default: no allowed lateness, late records dropped (and counted). */
  lateness?: LatenessSpec;
  /** Default: `{ kind: 'final' }`. Early firings apply to time windows only. */
  emit?: EmitSpec;
  aggregate: AggregateFunction<any, V, A, R>;
  /**
   * Where a record whose aggregate throws, or a window whose value user code fails to compute,
   * is reported (the runtime's dead-letter or fail handler). Default: rethrow.
   */
  onError?: RecordErrorHandler;
  /** Processing-time clock (epoch ms) for processing-time windows. Default `Date.now`. */
  clock?: () => number;
  /** Where time-based windows keep each key's windows (default the heap; the lmdb backend gives a durable table). */
  table?: KeyedTable<unknown> | undefined;
  /** Beside a durable `table`: a time index, so the keys' timers wait on disk (the heap holds the earliest `timerHeapLimit`). */
  timerIndex?: KeyedTable<unknown> | undefined;
  timerHeapLimit?: number | undefined;
}

/**
 * What `snapshot()` returns: plain data, with infinities as numbers (JSON writes them with
 * core's infinity marks). Snapshots taken before that held `'inf'`/`'-inf'`; restore reads both.
 */
export interface WindowOperatorSnapshot {
  version: 1;
  name: string;
  window: WindowSpec['kind'];
  watermark: number;
  progress: number;
  lateRecords: number;
  nextEarlyAt: number;
  engine: unknown;
}

function invalid(message: string): SluiceError {
  return new SluiceError('INVALID_ARGUMENT', message);
}

export class WindowOperator<V = unknown, A = unknown, R = unknown> implements Operator<V, WindowResult<R>> {
  readonly name: string;
  private readonly spec: WindowSpec;
  private readonly domain: TimeDomain;
  private readonly clock: () => number;
  private readonly emitter: Emitter;
  private readonly engine: WindowEngine;
  private readonly earlyIntervalMs: number;
  private readonly onError: RecordErrorHandler;
  private watermark = Number.NEGATIVE_INFINITY;
  /** The engine's time: the watermark, or the processing time reached for processing-time windows. */
  private progress = Number.NEGATIVE_INFINITY;
  private nextEarlyAt = Number.NEGATIVE_INFINITY;

  constructor(config: WindowOperatorConfig<V, A, R>) {
    if (typeof config.name !== 'string' || config.name === '') throw invalid('a window operator needs a non-empty name');
    this.name = config.name;
    this.spec = config.window;
    const spec = config.window;
    this.domain = 'time' in spec ? spec.time : 'event';
    this.clock = config.clock ?? Date.now;
    const lateness = config.lateness ?? { allowedLatenessMs: 0 };
    if (!(lateness.allowedLatenessMs >= 0) || !Number.isFinite(lateness.allowedLatenessMs)) {
      throw invalid(`allowed lateness must be a finite number of milliseconds >= 0, got ${lateness.allowedLatenessMs}`);
    }
    const emit = config.emit ?? { kind: 'final' };
    const timeWindow = spec.kind !== 'global' && spec.kind !== 'count-tumbling' && spec.kind !== 'count-sliding';
    if (emit.kind !== 'final' && !timeWindow) {
      throw invalid(`early firings apply to time windows; ${spec.kind} windows emit per their ${spec.kind === 'global' ? 'trigger' : 'count'}, so use emit { kind: 'final' }`);
    }
    if (emit.kind === 'early-count' && !(Number.isInteger(emit.every) && emit.every >= 1)) {
      throw invalid(`early-count firing needs a whole number every >= 1, got ${emit.every}`);
    }
    if (emit.kind === 'early-interval' && !(emit.everyMs > 0)) {
      throw invalid(`early-interval firing needs everyMs > 0, got ${emit.everyMs}`);
    }
    const agg = config.aggregate;
    if (!agg || typeof agg.init !== 'function' || typeof agg.add !== 'function' || typeof agg.result !== 'function') {
      throw invalid('aggregate needs init(), add(key, value, acc) and result(acc) functions');
    }
    if (spec.kind === 'session' && typeof agg.merge !== 'function') {
      throw invalid('session windows merge their accumulators when a record joins two sessions: give aggregate.merge(a, b) as well');
    }
    this.earlyIntervalMs = emit.kind === 'early-interval' ? emit.everyMs : 0;
    this.onError = config.onError ?? rethrow;
    this.emitter = new Emitter(this.name, lateness.lateSideOutput, this.onError);
    const ctx: EngineContext = {
      aggregate: agg as AggregateFunction,
      emitter: this.emitter,
      // Processing time never goes back, so processing-time windows see no late records.
      latenessMs: this.domain === 'processing' ? 0 : lateness.allowedLatenessMs,
      earlyEvery: emit.kind === 'early-count' ? emit.every : 0,
      table: config.table,
      timerIndex: config.timerIndex,
      timerHeapLimit: config.timerHeapLimit,
    };
    const trackDirty = this.earlyIntervalMs > 0;
    switch (spec.kind) {
      case 'tumbling':
      case 'hopping':
        this.engine = PaneWindowEngine.applies(ctx, trackDirty) ? new PaneWindowEngine(spec, ctx) : new FixedWindowEngine(spec, ctx, trackDirty);
        break;
      case 'sliding':
        this.engine = new SlidingWindowEngine(spec.lookbackMs, ctx, trackDirty);
        break;
      case 'session':
        this.engine = new SessionWindowEngine(spec.gapMs, ctx, trackDirty);
        break;
      case 'global':
        this.engine = new GlobalWindowEngine(spec.trigger, ctx);
        break;
      case 'count-tumbling':
        this.engine = new CountWindowEngine(spec.size, spec.size, ctx);
        break;
      case 'count-sliding':
        this.engine = new CountWindowEngine(spec.size, spec.slide, ctx);
        break;
      default:
        throw invalid(`unknown window kind ${(spec as { kind: string }).kind}; build windows with Windows.tumbling(...) and friends`);
    }
  }

  /** Records that contributed to no window (dropped or sent to the late side output). */
  get lateRecords(): number {
    return this.emitter.lateRecords;
  }

  /**
   * The current value of every window the operator holds (open, or fired and within allowed
   * lateness), for one key or, without an argument, for every key: what a queryable store
   * answers while the pipeline runs. Count windows report their partial windows.
   * @example op.query('customer-42') // [{ key: 'customer-42', start, end, value }]
   */
  query(...args: [key: unknown] | []): WindowResult<R>[] {
    try {
      return this.engine.query(args[0], args.length === 0) as WindowResult<R>[];
    } catch (cause) {
      throw userFailure(this.name, undefined, cause);
    }
  }

  /** The operator watermark reached so far. */
  get currentWatermark(): number {
    return this.watermark;
  }

  private begin(out: Output<WindowResult<R>>): void {
    this.emitter.out = out as Output<WindowResult>;
    this.emitter.forwarded = this.watermark;
  }

  process(batch: Element<V>[], out: Output<WindowResult<R>>): void {
    this.begin(out);
    const processing = this.domain === 'processing';
    for (const element of batch) {
      const ts = processing ? this.clock() : element.timestamp;
      if (typeof ts !== 'number' || Number.isNaN(ts)) {
        const error = new SluiceError('INVALID_RECORD', `window '${this.name}': record time must be epoch milliseconds, got ${String(ts)}; check the stream's timestamp extractor`, {
          operator: this.name,
          ...positionField(element),
        });
        this.onError(element, error, this.name);
        continue;
      }
      const wBefore = processing ? Number.NEGATIVE_INFINITY : (element.sourceWatermark ?? Number.NEGATIVE_INFINITY);
      try {
        this.engine.add(element, element.key, ts, wBefore);
      } catch (cause) {
        // The aggregate threw on this record (windows that fire meanwhile report their own failures).
        this.onError(element, userFailure(this.name, element, cause), this.name);
      }
    }
  }

  onWatermark(watermark: number, out: Output<WindowResult<R>>): number {
    if (!(watermark > this.watermark)) return this.watermark;
    this.begin(out);
    // Processing-time windows ignore event time, except the end of a bounded input: fire all.
    if (this.domain === 'event' || watermark === Number.POSITIVE_INFINITY) this.advance(watermark);
    this.watermark = watermark;
    return watermark;
  }

  onProcessingTime(now: number, out: Output<WindowResult<R>>): void {
    this.begin(out);
    if (this.domain === 'processing') this.advance(now);
    if (this.earlyIntervalMs > 0 && now >= this.nextEarlyAt) {
      this.engine.emitEarly();
      this.nextEarlyAt = alignedStart(now, this.earlyIntervalMs, 0) + this.earlyIntervalMs;
    }
  }

  /** Fires what `progress` completes; a window user code fails on goes to the error handler (see Emitter.failed). */
  private advance(progress: number): void {
    if (progress > this.progress) this.progress = progress;
    this.engine.advance(progress);
  }

  snapshot(): WindowOperatorSnapshot {
    // A deep copy: accumulators that user code mutates in place must not change a taken snapshot.
    try {
      return this.copyState();
    } catch (cause) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `window '${this.name}': its state cannot be checkpointed (${cause instanceof Error ? cause.message : String(cause)}); make the aggregate's init() and add() return plain data: numbers, strings, arrays, plain objects`,
        { cause, operator: this.name },
      );
    }
  }

  private copyState(): WindowOperatorSnapshot {
    return structuredClone({
      version: 1,
      name: this.name,
      window: this.spec.kind,
      watermark: this.watermark,
      progress: this.progress,
      lateRecords: this.emitter.lateRecords,
      nextEarlyAt: this.nextEarlyAt,
      engine: this.engine.snapshot(),
    });
  }

  restore(snapshot: unknown): void {
    const s = snapshot as WindowOperatorSnapshot;
    if (s?.version !== 1 || s.window !== this.spec.kind) {
      throw new SluiceError(
        'STATE_INCOMPATIBLE',
        `window '${this.name}': the saved state is of a ${String(s?.window)} window (version ${String(s?.version)}), this operator is ${this.spec.kind}; restart without that state, or keep the window kind`,
        { operator: this.name },
      );
    }
    const copy = structuredClone(s);
    this.watermark = savedNumber(copy.watermark);
    this.progress = savedNumber(copy.progress);
    this.nextEarlyAt = savedNumber(copy.nextEarlyAt);
    this.emitter.lateRecords = copy.lateRecords;
    this.engine.restore(copy.engine, this.progress);
  }
}
