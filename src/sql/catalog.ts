/**
 * The catalog: the sources, views and sinks a SQL session declared, as definitions. A binding
 * turns definitions into streams of one app (each source read once, each view compiled once),
 * so the same catalog can build the app that runs and scratch apps that EXPLAIN or answer one query.
 */
import type { AppBuilder, SourceOptions, Stream } from '../api/index.ts';
import { type Codec, SluiceError, toMillis } from '../core/index.ts';
import { sqlError } from './errors.ts';
import { intervalMs } from './interval.ts';
import { type PgNode, parseStatement } from './pg.ts';
import { compileQuery } from './query.ts';
import type { QueryContext } from './query-context.ts';
import { type RawSource, type Relation, tableKey } from './relation.ts';
import { fieldReader, fieldsFiller, rowBuilder } from './row-builder.ts';
import type { EmitClause, OptionValue, QueryText, SourceColumnDef, TemporalClause } from './statements.ts';
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

/** A changelog table (`CREATE TABLE ... PRIMARY KEY (k)`): the latest row per key of a (compacted) topic. */
export interface TableDef extends Omit<SourceDef, 'kind'> {
  kind: 'table';
  primaryKey: string[];
  /** With an event time, the table keeps each key's earlier rows this long: temporal joins read the row valid at an event's time. */
  versionsMs?: number;
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
  /** Whether the view is a table: its topic holds upserts by the table's key and tombstones for deletes. */
  changelog?: boolean;
  /** The script and statement it was declared in, to compile it into any app. */
  text: string;
  query: PgNode;
  emit?: EmitClause;
  temporal: TemporalClause[];
}

export interface SinkDef {
  kind: 'sink';
  name: string;
  from: string;
  topic: string;
}

export type Definition = SourceDef | TableDef | ViewDef | SinkDef;

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
export function sourceDef(text: string, name: string, columns: SourceColumnDef[], watermark: { column: string; boundMs: number } | undefined, options: Map<string, OptionValue>, known = SOURCE_OPTIONS, what = 'source'): SourceDef {
  for (const [key, value] of options) {
    if (!known.includes(key)) throw sqlError(text, value.at, `unknown ${what} option ${key}; the options are ${known.join(', ')}`, 'SQL_UNSUPPORTED');
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

const TABLE_OPTIONS = [...SOURCE_OPTIONS, 'versions'];
/** How long a table with an event time keeps a key's earlier rows unless `versions` says. */
const DEFAULT_VERSIONS_MS = 3_600_000;

/** A table definition from CREATE TABLE: a source's options, the primary key, and how long versions are kept. */
export function tableDef(text: string, at: number, name: string, columns: SourceColumnDef[], primaryKey: { columns: string[]; at: number } | undefined, watermark: { column: string; boundMs: number } | undefined, options: Map<string, OptionValue>): TableDef {
  if (primaryKey === undefined) throw sqlError(text, at, `a table needs a primary key (the record it keeps per key); write CREATE TABLE ${name} (id TEXT, ..., PRIMARY KEY (id)) WITH (...), or CREATE SOURCE for an append-only stream`);
  const source = sourceDef(text, name, columns, watermark, options, TABLE_OPTIONS, 'table');
  const versions = options.get('versions');
  if (versions !== undefined && source.timestamp === undefined) throw sqlError(text, versions.at, `versions are kept by event time; declare the table's event time (WATERMARK FOR updated_at AS updated_at, or timestamp = 'updated_at')`);
  const versionsMs = versions === undefined ? DEFAULT_VERSIONS_MS : durationOption(text, 'versions', versions);
  return { ...source, kind: 'table', primaryKey: primaryKey.columns, ...(source.timestamp === undefined ? {} : { versionsMs }) };
}

/** A JSON field by its column name: as written, else ignoring case (SQL names are lower-cased). */
function field(value: Record<string, unknown>, name: string): unknown {
  const v = value[name];
  if (v !== undefined) return v;
  for (const k of Object.keys(value)) if (k.toLowerCase() === name) return value[k];
  return null;
}

/** A record's fields by their lower-cased names (the first of names that differ only in case, as `field` finds). */
function lowerCaseKeys(keys: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const k of keys) {
    const name = k.toLowerCase();
    if (!fields.has(name)) fields.set(name, k);
  }
  return fields;
}

/** The record's keys by their lower-cased names; records of one kind share their keys, so the last record's map is kept. */
function keysIgnoringCase(): (value: Record<string, unknown>) => Map<string, string> {
  let lastKeys: string[] = [];
  let lastMap = new Map<string, string>();
  return (value) => {
    const keys = Object.keys(value);
    if (keys.length !== lastKeys.length || keys.some((k, i) => k !== lastKeys[i])) {
      lastKeys = keys;
      lastMap = lowerCaseKeys(keys);
    }
    return lastMap;
  };
}

/** The streams of one app for the catalog's definitions, made on first use. */
export class Binding {
  readonly app: AppBuilder;
  readonly #catalog: ReadonlyMap<string, Definition>;
  readonly #relations = new Map<string, Relation>();
  readonly #codec: ((topic: string) => Codec | undefined) | undefined;
  readonly #topPerWindow: boolean;

  constructor(app: AppBuilder, catalog: ReadonlyMap<string, Definition>, codec?: (topic: string) => Codec | undefined, topPerWindow = true) {
    this.app = app;
    this.#catalog = catalog;
    this.#codec = codec;
    this.#topPerWindow = topPerWindow;
  }

  /** A binding of the same catalog into another app (a scratch app), with the same planner choices. */
  into(app: AppBuilder, codec?: (topic: string) => Codec | undefined): Binding {
    return new Binding(app, this.#catalog, codec, this.#topPerWindow);
  }

  /** What compiling a statement of `text` needs: this binding's relations, the views' definitions, the planner's choices. */
  context(text: string, extra: { stageName?: string; temporal?: readonly TemporalClause[] } = {}): QueryContext {
    return {
      text,
      ...extra,
      topPerWindow: this.#topPerWindow,
      relation: (name, at) => this.relation(name, at, text),
      view: (name) => {
        const def = this.#catalog.get(name);
        return def?.kind === 'view' ? { name: def.name, text: def.text, query: def.query, columns: def.columns, ...(def.emit ? { emit: def.emit } : {}) } : undefined;
      },
    };
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
      throw sqlError(text, at, `there is no source, table or view named ${name}${names.length ? ` (there are: ${names.join(', ')})` : ''}; declare it with CREATE SOURCE ${name} (...) WITH (topic = '${name}')`);
    }
    const relation = def.kind === 'source' ? this.#source(def) : def.kind === 'table' ? this.#table(def) : this.#view(def);
    this.#relations.set(name, relation);
    return relation;
  }

  /** A source's options for the DSL: codec, event time from its column, watermark, idle timeout. */
  #sourceOptions(def: SourceDef | TableDef): SourceOptions<Record<string, unknown>> {
    const ts = def.timestamp;
    const codec = this.codec(def.topic);
    const readTime = ts === undefined ? undefined : fieldReader(ts);
    return {
      ...(codec === undefined ? {} : { codec: codec as Codec<Record<string, unknown>> }),
      ...(ts === undefined
        ? {}
        : {
            timestamp: (value) => {
              // The common case first: epoch milliseconds under the column's own name.
              const own = value !== null && typeof value === 'object' ? readTime!(value) : undefined;
              if (typeof own === 'number' && Number.isFinite(own)) return own;
              const ms = parseTimestamp(value === null || typeof value !== 'object' ? undefined : field(value, ts));
              if (!Number.isFinite(ms)) throw new SluiceError('INVALID_RECORD', `${def.kind} ${def.name}: event-time column ${ts} is ${JSON.stringify(value?.[ts] ?? null)}, not a timestamp (an ISO-8601 string or epoch milliseconds)`);
              return ms;
            },
          }),
      watermark: def.watermarkMs,
      ...(def.idleTimeoutMs === undefined ? {} : { idleTimeout: def.idleTimeoutMs }),
    };
  }

  #source(def: SourceDef): Relation {
    const stream = this.app.stream<Record<string, unknown>>(def.topic, this.#sourceOptions(def));
    // The rows of every declared column, added to the graph only when read: a query that reads the raw values (RawSource) needs no such stage.
    let rows: Stream<Row> | undefined;
    return {
      get stream(): Stream<Row> {
        rows ??= stream.map(rowMaker(def), { name: `${def.name}-columns` });
        return rows;
      },
      raw: { stream, ...columnFiller(def) },
      columns: def.columns.map((c) => ({ name: c.name, type: c.type })),
      latenessMs: def.latenessMs,
      name: def.name,
      ...(def.timestamp ? { rowtime: def.timestamp } : {}),
    };
  }

  /** A table keyed by `tableKey` of its primary key's values; a tombstone deletes the row of its record key. */
  #table(def: TableDef): Relation {
    const toRow = rowMaker(def);
    const pk = def.primaryKey.map((k) => def.columns.findIndex((c) => c.name === k));
    const pkConverters = pk.map((i) => converter(def.columns[i]!.type, `table ${def.name}, primary key column ${def.columns[i]!.name}`));
    const key = (value: Record<string, unknown>): string => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SluiceError('INVALID_RECORD', `table ${def.name}: a record must be a JSON object (or a tombstone, null), got ${JSON.stringify(value)}`);
      const k = tableKey(pk.map((i, j) => pkConverters[j]!(field(value, def.columns[i]!.name))));
      if (k === null) throw new SluiceError('INVALID_RECORD', `table ${def.name}: primary key ${def.primaryKey.join(', ')} is null in ${JSON.stringify(value)}; every row needs its key`);
      return k;
    };
    const source = this.app.table<Record<string, unknown>>(def.topic, { ...this.#sourceOptions(def), key, ...(def.versionsMs === undefined ? {} : { versions: def.versionsMs }) });
    const table = source.mapValues(toRow, { name: `${def.name}-columns` });
    return { table, columns: def.columns.map((c) => ({ name: c.name, type: c.type })), latenessMs: def.latenessMs, name: def.name, primaryKey: def.primaryKey, ...(def.timestamp ? { rowtime: def.timestamp } : {}) };
  }

  #view(def: ViewDef): Relation {
    const relation = compileQuery(def.query, this.context(def.text, { stageName: def.name, temporal: def.temporal }), def.emit);
    // Copied by its properties' descriptors: a relation's rows may be a getter that adds their stage only when read.
    const named = Object.defineProperties({}, Object.getOwnPropertyDescriptors(relation)) as Relation;
    named.name = def.name;
    return named;
  }
}

/** Turns a source's JSON object into a row of its columns, each converted to its type. */
function rowMaker(def: SourceDef | TableDef): (value: Record<string, unknown>) => Row {
  const columns = def.columns;
  const names = columns.map((c) => c.name);
  const cells = columns.map((c) => {
    const convert = converter(c.type, `${def.kind} ${def.name}, column ${c.name}`);
    return (value: Record<string, unknown>) => convert(field(value, c.name));
  });
  const build = rowBuilder(names, cells);
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SluiceError('INVALID_RECORD', `${def.kind} ${def.name}: a record must be a JSON object with the columns ${names.join(', ')}, got ${JSON.stringify(value)}`);
    return build(value);
  };
}

/**
 * Converts the named columns of a source's JSON object into a row (RawSource.filler): only those,
 * so a query converts (and checks) the columns it reads and no others.
 */
function columnFiller(def: SourceDef): Pick<RawSource, 'filler'> {
  const converters = new Map(def.columns.map((c) => [c.name, converter(c.type, `${def.kind} ${def.name}, column ${c.name}`)]));
  const names = def.columns.map((c) => c.name).join(', ');
  const lowerKeys = keysIgnoringCase();
  const filler = (columns: readonly string[]): ((value: Record<string, unknown>, row: Row) => Row) => {
    const fill = fieldsFiller(columns, columns.map((name) => converters.get(name)!), lowerKeys);
    return (value, row) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SluiceError('INVALID_RECORD', `${def.kind} ${def.name}: a record must be a JSON object with the columns ${names}, got ${JSON.stringify(value)}`);
      return fill(value, row);
    };
  };
  return { filler };
}

/** Parses a query's text with the Postgres parser. */
export function parseQuery(text: string, query: QueryText): PgNode {
  return parseStatement(text, query.start, query.end, query.blank);
}
