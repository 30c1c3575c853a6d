/**
 * The catalog: the sources, views and sinks a SQL session declared, as definitions. A binding
 * turns definitions into streams of one app (each source read once, each view compiled once),
 * so the same catalog can build the app that runs and scratch apps that EXPLAIN or answer one query.
 */
import type { AppBuilder, Stream } from '../api/index.ts';
import { type Codec, SluiceError, toMillis } from '../core/index.ts';
import { sqlError } from './errors.ts';
import { intervalMs } from './interval.ts';
import { type PgNode, parseStatement } from './pg.ts';
import { compileQuery } from './query.ts';
import type { Relation } from './relation.ts';
import type { EmitClause, OptionValue, QueryText, SourceColumnDef } from './statements.ts';
import { type Column, converter, parseTimestamp, type Row } from './types.ts';

export interface SourceDef {
  kind: 'source';
  name: string;
  topic: string;
  columns: SourceColumnDef[];
  /** The column whose value is each record's event time; none: the log timestamp (and no windows). */
  timestamp?: string;
  watermarkMs: number;
  latenessMs: number;
  idleTimeoutMs?: number;
}

export interface ViewDef {
  kind: 'view';
  name: string;
  materialized: boolean;
  columns: Column[];
  /** The topic a materialized view writes its rows to (what readers of the view read). */
  topic?: string;
  /** The columns identifying a row (see Relation.primaryKey): readers keep the last row per key. */
  primaryKey?: string[];
  /** The script and statement it was declared in, to compile it into any app. */
  text: string;
  query: PgNode;
  emit?: EmitClause;
}

export interface SinkDef {
  kind: 'sink';
  name: string;
  from: string;
  topic: string;
}

export type Definition = SourceDef | ViewDef | SinkDef;

const SOURCE_OPTIONS = ['topic', 'format', 'timestamp', 'lateness', 'allowed_lateness', 'idle_timeout'];

/** A duration option: '1m', '30s', an interval text such as '1 minute', or milliseconds. */
function durationOption(text: string, option: string, value: OptionValue): number {
  if (/^\d+$/.test(value.value)) return Number(value.value);
  try {
    return toMillis(value.value as never, option);
  } catch {
    const ms = intervalMs(value.value);
    if (typeof ms === 'string') throw sqlError(text, value.at, `${option} = '${value.value}' is not a duration; write '1m', '30s' or '1 minute'`);
    return ms;
  }
}

/** A source definition from CREATE SOURCE, its options checked. */
export function sourceDef(text: string, name: string, columns: SourceColumnDef[], watermark: { column: string; boundMs: number } | undefined, options: Map<string, OptionValue>): SourceDef {
  for (const [key, value] of options) {
    if (!SOURCE_OPTIONS.includes(key)) throw sqlError(text, value.at, `unknown source option ${key}; the options are ${SOURCE_OPTIONS.join(', ')}`, 'SQL_UNSUPPORTED');
  }
  const format = options.get('format');
  if (format !== undefined && format.value.toLowerCase() !== 'json') throw sqlError(text, format.at, `format '${format.value}' is not supported yet; sources read JSON (format = 'json')`, 'SQL_UNSUPPORTED');
  const tsOption = options.get('timestamp');
  const timestamp = tsOption?.value ?? watermark?.column;
  if (tsOption !== undefined) {
    const column = columns.find((c) => c.name === tsOption.value.toLowerCase() || c.name === tsOption.value);
    if (column === undefined) throw sqlError(text, tsOption.at, `timestamp = '${tsOption.value}' names no column; declare it, such as ${tsOption.value} TIMESTAMP`);
    if (watermark !== undefined && watermark.column !== column.name) throw sqlError(text, tsOption.at, `the watermark is for ${watermark.column} but the timestamp is ${column.name}; they must be the same column`);
  }
  const tsColumn = timestamp === undefined ? undefined : columns.find((c) => c.name === timestamp.toLowerCase() || c.name === timestamp);
  if (tsColumn !== undefined && tsColumn.type !== 'timestamp' && tsColumn.type !== 'bigint') {
    throw sqlError(text, tsColumn.at, `the event-time column ${tsColumn.name} must be TIMESTAMP (ISO strings or epoch milliseconds) or BIGINT (epoch milliseconds)`);
  }
  const lateness = options.get('allowed_lateness') ?? options.get('lateness');
  const idle = options.get('idle_timeout');
  const topic = options.get('topic')?.value ?? name;
  return {
    kind: 'source',
    name,
    topic,
    columns: tsColumn?.type === 'bigint' ? columns.map((c) => (c === tsColumn ? { ...c, type: 'timestamp' } : c)) : columns,
    ...(tsColumn ? { timestamp: tsColumn.name } : {}),
    watermarkMs: watermark?.boundMs ?? 0,
    latenessMs: lateness === undefined ? 0 : durationOption(text, 'allowed_lateness', lateness),
    ...(idle === undefined ? {} : { idleTimeoutMs: durationOption(text, 'idle_timeout', idle) }),
  };
}

/** A JSON field by its column name: as written, else ignoring case (SQL names are lower-cased). */
function field(value: Record<string, unknown>, name: string): unknown {
  const v = value[name];
  if (v !== undefined) return v;
  for (const k of Object.keys(value)) if (k.toLowerCase() === name) return value[k];
  return null;
}

/** The streams of one app for the catalog's definitions, made on first use. */
export class Binding {
  readonly app: AppBuilder;
  readonly #catalog: ReadonlyMap<string, Definition>;
  readonly #relations = new Map<string, Relation>();
  readonly #codec: ((topic: string) => Codec | undefined) | undefined;

  constructor(app: AppBuilder, catalog: ReadonlyMap<string, Definition>, codec?: (topic: string) => Codec | undefined) {
    this.app = app;
    this.#catalog = catalog;
    this.#codec = codec;
  }

  /** How `topic`'s values are encoded: the session's choice, else JSON (undefined). */
  codec(topic: string): Codec | undefined {
    return this.#codec?.(topic);
  }

  /** Whether a definition has become part of this app's graph. */
  has(name: string): boolean {
    return this.#relations.has(name);
  }

  relation(name: string, at: number, text: string): Relation {
    const known = this.#relations.get(name);
    if (known !== undefined) return known;
    const def = this.#catalog.get(name);
    if (def === undefined || def.kind === 'sink') {
      const names = [...this.#catalog.values()].filter((d) => d.kind !== 'sink').map((d) => d.name);
      throw sqlError(text, at, `there is no source or view named ${name}${names.length ? ` (there are: ${names.join(', ')})` : ''}; declare it with CREATE SOURCE ${name} (...) WITH (topic = '${name}')`);
    }
    const relation = def.kind === 'source' ? this.#source(def) : this.#view(def);
    this.#relations.set(name, relation);
    return relation;
  }

  #source(def: SourceDef): Relation {
    const ts = def.timestamp;
    const codec = this.codec(def.topic);
    const stream = this.app.stream<Record<string, unknown>>(def.topic, {
      ...(codec === undefined ? {} : { codec: codec as Codec<Record<string, unknown>> }),
      ...(ts === undefined
        ? {}
        : {
            timestamp: (value) => {
              const ms = parseTimestamp(value === null || typeof value !== 'object' ? undefined : field(value, ts));
              if (!Number.isFinite(ms)) throw new SluiceError('INVALID_RECORD', `source ${def.name}: event-time column ${ts} is ${JSON.stringify(value?.[ts] ?? null)}, not a timestamp (an ISO-8601 string or epoch milliseconds)`);
              return ms;
            },
          }),
      watermark: def.watermarkMs,
      ...(def.idleTimeoutMs === undefined ? {} : { idleTimeout: def.idleTimeoutMs }),
    });
    const columns = def.columns;
    const names = columns.map((c) => c.name);
    const converters = columns.map((c) => converter(c.type, `source ${def.name}, column ${c.name}`));
    const rows: Stream<Row> = stream.map(
      (value) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SluiceError('INVALID_RECORD', `source ${def.name}: a record must be a JSON object with the columns ${columns.map((c) => c.name).join(', ')}, got ${JSON.stringify(value)}`);
        const row: Row = {};
        for (let i = 0; i < names.length; i++) row[names[i]!] = converters[i]!(field(value, names[i]!));
        return row;
      },
      { name: `${def.name}-columns` },
    );
    return { stream: rows, columns: columns.map((c) => ({ name: c.name, type: c.type })), latenessMs: def.latenessMs, name: def.name, ...(ts ? { rowtime: ts } : {}) };
  }

  #view(def: ViewDef): Relation {
    const relation = compileQuery(def.query, { text: def.text, stageName: def.name, relation: (n, at) => this.relation(n, at, def.text) }, def.emit);
    return { ...relation, name: def.name };
  }
}

/** Parses a query's text with the Postgres parser. */
export function parseQuery(text: string, query: QueryText): PgNode {
  return parseStatement(text, query.start, query.end, query.blank);
}
