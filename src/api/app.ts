/**
 * The api-level app: options, sources, and the logical graph they start. The runnable
 * `Sluice` class extends it at the package root, where it may reach the runtime.
 */
import { type Codec, type Duration, SluiceError, toMillis } from '../core/index.ts';
import type { WatermarkSpec } from '../time/index.ts';
import { checkCodec, checkFunction, checkTopic, GraphBuilder } from './builder.ts';
import { isSource, type Source } from './connector.ts';
import { describeGraph, type LogicalGraph, type SourceTimeSpec } from './graph.ts';
import { type AppOptions, type ResolvedAppOptions, resolveAppOptions } from './options.ts';
import { Stream } from './stream.ts';

/** A watermark strategy, as `Watermarks.boundedOutOfOrderness('5s')` builds it, or just its bound as a duration. */
export type WatermarkArgument = WatermarkSpec | Duration;

/** Options of `app.stream(topic, {...})`. */
export interface SourceOptions<T> {
  /** Event time of a value, epoch ms; default the log record's timestamp. */
  timestamp?: (value: T) => number;
  /** Watermark strategy; default no out-of-orderness (event time never goes back). */
  watermark?: WatermarkArgument;
  /** How values are stored in the topic; default JSON. */
  codec?: Codec<T>;
  /** A partition silent this long stops holding the watermark back (timing-dependent; default never). */
  idleTimeout?: Duration;
}

export class AppBuilder {
  readonly options: ResolvedAppOptions;
  /** @internal */
  readonly builder = new GraphBuilder();

  constructor(options: AppOptions) {
    this.options = resolveAppOptions(options);
  }

  /**
   * A stream of the JSON values of a topic.
   * @example
   * const events = app.stream<{ url: string; ts: number }>('events', { timestamp: (e) => e.ts, watermark: Watermarks.boundedOutOfOrderness('5s') });
   */
  stream<T>(topic: string, options: SourceOptions<T> = {}): Stream<T> {
    checkTopic(topic, 'stream()');
    if (this.builder.graph.nodes.some((n) => n.kind === 'source' && n.topic === topic)) {
      // One reader per topic: two would commit conflicting offsets for the app's group.
      throw new SluiceError('INVALID_ARGUMENT', `topic '${topic}' is already a source of this app; keep the stream the first app.stream('${topic}') returned and use it again`);
    }
    const time = sourceTime(options, 'stream()');
    const codec = checkCodec(options.codec, 'stream()');
    return new Stream<T>(this.builder, this.builder.add({ kind: 'source', topic, time, ...(codec ? { codec } : {}) }, `source-${topic}`));
  }

  /**
   * A stream read from a source outside the log (files, ...); its position is in every checkpoint.
   * @example
   * const events = app.source(sources.file({ path: 'events/*.jsonl', format: 'jsonl' }), { timestamp: (e) => e.ts });
   */
  source<T>(source: Source<T>, options: ConnectorSourceOptions<T> = {}): Stream<T> {
    if (!isSource(source)) throw new SluiceError('INVALID_ARGUMENT', "source() takes a source such as sources.file({ path: 'events/*.jsonl', format: 'jsonl' }); for a topic write app.stream('events')");
    const time = sourceTime(options, 'source()');
    return new Stream<T>(this.builder, this.builder.add({ kind: 'source', topic: source.describe, time, connector: source as Source }, options.name));
  }

  /** The logical graph recorded so far. */
  get graph(): LogicalGraph {
    return this.builder.graph;
  }

  /** The logical graph as JSON-able data. */
  describe(): unknown[] {
    return describeGraph(this.builder.graph);
  }
}

/** Options of `app.source(source, {...})`: event time and watermarks, and a stable name. */
export interface ConnectorSourceOptions<T> extends Omit<SourceOptions<T>, 'codec'> {
  name?: string;
}

function sourceTime(options: Omit<SourceOptions<any>, 'codec'>, what: string): SourceTimeSpec {
  if (options === null || typeof options !== 'object') {
    throw new SluiceError('INVALID_ARGUMENT', `${what} options must be an object such as { timestamp: (e) => e.ts, watermark: '5s' }`);
  }
  const watermark = toWatermarkSpec(options.watermark);
  if (options.idleTimeout !== undefined) {
    watermark.idleTimeoutMs = toMillis(options.idleTimeout, 'idleTimeout');
    if (watermark.idleTimeoutMs === 0) throw new SluiceError('INVALID_ARGUMENT', "idleTimeout must be positive, such as '1m'; omit it to never treat a partition as idle");
  }
  const time: SourceTimeSpec = { watermark };
  if (options.timestamp !== undefined) {
    checkFunction(options.timestamp, `${what} timestamp`, '{ timestamp: (e) => e.ts }');
    time.timestamp = options.timestamp;
  }
  return time;
}

function toWatermarkSpec(watermark: WatermarkArgument | undefined): WatermarkSpec {
  if (watermark === undefined) return { kind: 'bounded-out-of-orderness', boundMs: 0 };
  if (typeof watermark === 'number' || typeof watermark === 'string') {
    return { kind: 'bounded-out-of-orderness', boundMs: toMillis(watermark, 'watermark') };
  }
  if (watermark !== null && typeof watermark === 'object' && 'kind' in watermark && watermark.kind === 'bounded-out-of-orderness') {
    return { ...watermark, boundMs: toMillis(watermark.boundMs, 'watermark bound') };
  }
  throw new SluiceError('INVALID_ARGUMENT', `watermark: ${JSON.stringify(watermark)} is not a watermark strategy; write Watermarks.boundedOutOfOrderness('5s')`);
}
