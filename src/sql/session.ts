/**
 * A SQL session over one app: runs a script's statements in order against the catalog, and
 * adds the pipeline of each materialized view, sink and query to the app's graph (through the
 * DSL; nothing here runs anything). `app.sql(text)` and `sluice sql` both run sessions.
 */
import { AppBuilder, type Stream } from '../api/index.ts';
import type { Codec } from '../core/index.ts';
import { explainPlan, physicalPlan } from '../plan/index.ts';
import { Binding, type Definition, parseQuery, sourceDef, tableDef, type ViewDef } from './catalog.ts';
import { sqlError } from './errors.ts';
import { loadParser } from './pg.ts';
import { compileQuery } from './query.ts';
import type { Relation } from './relation.ts';
import { parseScript, type Statement } from './statements.ts';
import { type Column, type Row, rowExporter, typeLabel } from './types.ts';

/** What one statement did: a command tag (as Postgres names it), a message, and rows for SHOW, DESCRIBE and EXPLAIN. */
export interface SqlResult {
  /** `CREATE SOURCE`, `CREATE MATERIALIZED VIEW`, `SELECT`, `SHOW`, ... */
  tag: string;
  message: string;
  columns?: Column[];
  rows?: Row[];
  /** A query's rows (timestamps as ISO strings), for `.to(topic)` or `.print()`. */
  stream?: Stream<Row>;
  /** The columns identifying a query's row: a later row with the same values updates the earlier one. */
  primaryKey?: string[];
}

export interface SessionOptions {
  /**
   * A query outside a view (`SELECT ...;`): what to do with its rows. Default: nothing (the
   * caller takes `stream` from the result); `sluice sql -f` prints them.
   */
  onQuery?: (stream: Stream<Row>, columns: Column[]) => void;
  /**
   * Record views and sinks without building their pipelines (materialized views write no
   * topic, sinks nothing): what the interactive shell does, whose queries run one at a time.
   */
  definitionsOnly?: boolean;
  /** How a topic's values are encoded, for sources and sinks; default JSON (undefined). */
  codec?: (topic: string) => Codec | undefined;
  /**
   * Plan a join of a relation with its own per-window MAX on the maximum (Nexmark q7's highest
   * bid) as a top-per-window aggregate; default true. False keeps the general interval join
   * (what tests compare the rewrite against).
   */
  topPerWindow?: boolean;
}

/** The topic a materialized view writes its rows to: `<app>.view.<view>`. */
export function viewTopic(app: string, view: string): string {
  return `${app}.view.${view}`;
}

export class SqlSession {
  readonly app: AppBuilder;
  readonly #catalog = new Map<string, Definition>();
  readonly #binding: Binding;
  readonly #onQuery: SessionOptions['onQuery'];
  readonly #definitionsOnly: boolean;

  constructor(app: AppBuilder, options: SessionOptions = {}) {
    this.app = app;
    this.#binding = new Binding(app, this.#catalog, options.codec, options.topPerWindow ?? true);
    this.#onQuery = options.onQuery;
    this.#definitionsOnly = options.definitionsOnly ?? false;
  }

  /** The definitions, in the order they were made. */
  get definitions(): readonly Definition[] {
    return [...this.#catalog.values()];
  }

  /** Runs every statement of `text` (a script); stops at the first error, the statements before it kept. */
  async execute(text: string): Promise<SqlResult[]> {
    await loadParser();
    return this.executeLoaded(text);
  }

  /** `execute` once the parser is loaded (`loadParser()`). */
  executeLoaded(text: string): SqlResult[] {
    return parseScript(text).map((statement) => this.#run(text, statement));
  }

  #run(text: string, st: Statement): SqlResult {
    switch (st.kind) {
      case 'create-source': {
        if (this.#catalog.has(st.name)) {
          if (st.ifNotExists) return { tag: 'CREATE SOURCE', message: `source ${st.name} exists` };
          throw sqlError(text, st.nameAt, `${st.name} already exists; DROP SOURCE ${st.name} first, or pick another name`);
        }
        const def = sourceDef(text, st.name, st.columns, st.watermark, st.options);
        this.#oneReader(text, st.nameAt, def.topic);
        this.#catalog.set(st.name, def);
        return { tag: 'CREATE SOURCE', message: `source ${st.name} reads topic ${def.topic}` };
      }
      case 'create-table': {
        if (this.#catalog.has(st.name)) {
          if (st.ifNotExists) return { tag: 'CREATE TABLE', message: `table ${st.name} exists` };
          throw sqlError(text, st.nameAt, `${st.name} already exists; DROP TABLE ${st.name} first, or pick another name`);
        }
        const def = tableDef(text, st.at, st.name, st.columns, st.primaryKey, st.watermark, st.options);
        this.#oneReader(text, st.nameAt, def.topic);
        this.#catalog.set(st.name, def);
        return { tag: 'CREATE TABLE', message: `table ${st.name} (primary key ${def.primaryKey.join(', ')}) reads topic ${def.topic}` };
      }
      case 'create-view': {
        this.#free(text, st.name, st.nameAt);
        const query = parseQuery(text, st.query);
        const def: ViewDef = { kind: 'view', name: st.name, materialized: st.materialized, columns: [], text, query, temporal: st.query.temporal, ...(st.query.emit ? { emit: st.query.emit } : {}) };
        // Compiled into a scratch app first: an error leaves the app's graph as it was.
        const checked = this.#scratch().relationFor(def);
        def.columns = checked.columns;
        if (checked.primaryKey) def.primaryKey = checked.primaryKey;
        if (st.materialized) def.topic = viewTopic(this.app.options.name, st.name);
        this.#catalog.set(st.name, def);
        if (!st.materialized) return { tag: 'CREATE VIEW', message: `view ${st.name}` };
        if (this.#definitionsOnly) return { tag: 'CREATE MATERIALIZED VIEW', message: `materialized view ${st.name}` };
        if (checked.table !== undefined) def.changelog = true;
        writeRelation(this.#binding.relation(st.name, st.nameAt, text), st.name, def.topic!, `${st.name}-sink`);
        return { tag: 'CREATE MATERIALIZED VIEW', message: `materialized view ${st.name} writes topic ${def.topic}` };
      }
      case 'create-sink': {
        this.#free(text, st.name, st.nameAt);
        for (const [key, value] of st.options) {
          if (key !== 'topic' && key !== 'format') throw sqlError(text, value.at, `unknown sink option ${key}; the options are topic, format`, 'SQL_UNSUPPORTED');
          if (key === 'format' && value.value.toLowerCase() !== 'json') throw sqlError(text, value.at, `format '${value.value}' is not supported yet; sinks write JSON (format = 'json')`, 'SQL_UNSUPPORTED');
        }
        const topic = st.options.get('topic')?.value ?? st.name;
        if (this.#definitionsOnly) {
          this.#scratch().relation(st.from, st.fromAt, text);
          this.#catalog.set(st.name, { kind: 'sink', name: st.name, from: st.from, topic });
          return { tag: 'CREATE SINK', message: `sink ${st.name} of ${st.from} to topic ${topic}` };
        }
        writeRelation(this.#binding.relation(st.from, st.fromAt, text), st.name, topic, st.name, this.#binding.codec(topic));
        this.#catalog.set(st.name, { kind: 'sink', name: st.name, from: st.from, topic });
        return { tag: 'CREATE SINK', message: `sink ${st.name} writes ${st.from} to topic ${topic}` };
      }
      case 'drop': {
        const def = this.#catalog.get(st.name);
        if (def === undefined || def.kind !== st.what) {
          if (st.ifExists) return { tag: `DROP ${st.what.toUpperCase()}`, message: `no ${st.what} ${st.name}` };
          throw sqlError(text, st.nameAt, `there is no ${st.what} named ${st.name}`);
        }
        if ((def.kind === 'sink' && !this.#definitionsOnly) || this.#binding.has(st.name)) {
          throw sqlError(text, st.nameAt, `${st.name} is already part of app ${this.app.options.name}'s pipeline, which cannot lose stages once built; leave it out of the script instead`, 'SQL_UNSUPPORTED');
        }
        const user = [...this.#catalog.values()].find((d) => (d.kind === 'sink' && d.from === st.name) || (d.kind === 'view' && JSON.stringify(d.query).includes(`"relname":"${st.name}"`)));
        if (user !== undefined) throw sqlError(text, st.nameAt, `${user.name} reads ${st.name}; drop ${user.name} first`);
        this.#catalog.delete(st.name);
        return { tag: `DROP ${st.what.toUpperCase()}`, message: `dropped ${st.what} ${st.name}` };
      }
      case 'show':
        return this.#show(st.what);
      case 'describe': {
        const def = this.#catalog.get(st.name);
        if (def === undefined) throw sqlError(text, st.nameAt, `there is no source, view or sink named ${st.name}`);
        const columns: Column[] = def.kind === 'sink' ? (this.#catalog.get(def.from) as { columns: Column[] }).columns : def.columns;
        const eventTime = def.kind === 'source' || def.kind === 'table' ? def.timestamp : undefined;
        return {
          tag: 'DESCRIBE',
          message: `${def.kind} ${def.name}`,
          columns: [
            { name: 'column', type: 'text' },
            { name: 'type', type: 'text' },
            { name: 'event_time', type: 'boolean' },
          ],
          rows: columns.map((c) => ({ column: c.name, type: typeLabel(c.type), event_time: c.name === eventTime })),
        };
      }
      case 'explain': {
        const scratch = this.#scratch();
        const relation = scratch.query(text, st.query);
        (relation.stream ?? relation.table.toStream()).print();
        const plan = explainPlan(physicalPlan(scratch.app.graph));
        return { tag: 'EXPLAIN', message: plan, columns: [{ name: 'QUERY PLAN', type: 'text' }], rows: plan.split('\n').map((line) => ({ 'QUERY PLAN': line })) };
      }
      case 'query': {
        this.#scratch().query(text, st.query);
        const relation = new QueryBinding(this.#binding).query(text, st.query);
        const stream = exported(relation);
        this.#onQuery?.(stream, relation.columns);
        return { tag: 'SELECT', message: `query of ${relation.columns.map((c) => c.name).join(', ')}`, columns: relation.columns, stream, ...(relation.primaryKey ? { primaryKey: relation.primaryKey } : {}) };
      }
    }
  }

  /** A topic is read by one source or table of the session. */
  #oneReader(text: string, at: number, topic: string): void {
    const reader = [...this.#catalog.values()].find((d) => (d.kind === 'source' || d.kind === 'table') && d.topic === topic);
    if (reader !== undefined) throw sqlError(text, at, `${reader.kind} ${reader.name} already reads topic ${topic}; a topic has one source or table: use ${reader.name}, or a view over it`);
  }

  #free(text: string, name: string, at: number): void {
    if (this.#catalog.has(name)) throw sqlError(text, at, `${name} already exists; DROP it first, or pick another name`);
  }

  /** A binding of the catalog to a scratch app: to check a statement or explain it without touching the app. */
  #scratch(): QueryBinding {
    return new QueryBinding(this.#binding.into(new AppBuilder({ name: this.app.options.name })));
  }

  #show(what: 'sources' | 'tables' | 'views' | 'sinks'): SqlResult {
    const defs = [...this.#catalog.values()];
    const text: Column = { name: 'name', type: 'text' };
    if (what === 'tables') {
      const rows = defs.flatMap((d) => (d.kind === 'table' ? [{ name: d.name, topic: d.topic, primary_key: d.primaryKey.join(', '), event_time: d.timestamp ?? null }] : []));
      return { tag: 'SHOW', message: `${rows.length} tables`, columns: [text, { name: 'topic', type: 'text' }, { name: 'primary_key', type: 'text' }, { name: 'event_time', type: 'text' }], rows };
    }
    if (what === 'sources') {
      const rows = defs.flatMap((d) => (d.kind === 'source' ? [{ name: d.name, topic: d.topic, event_time: d.timestamp ?? null, watermark_ms: d.watermarkMs }] : []));
      return { tag: 'SHOW', message: `${rows.length} sources`, columns: [text, { name: 'topic', type: 'text' }, { name: 'event_time', type: 'text' }, { name: 'watermark_ms', type: 'bigint' }], rows };
    }
    if (what === 'views') {
      const rows = defs.flatMap((d) => (d.kind === 'view' ? [{ name: d.name, materialized: d.materialized, topic: d.topic ?? null }] : []));
      return { tag: 'SHOW', message: `${rows.length} views`, columns: [text, { name: 'materialized', type: 'boolean' }, { name: 'topic', type: 'text' }], rows };
    }
    const rows = defs.flatMap((d) => (d.kind === 'sink' ? [{ name: d.name, from: d.from, topic: d.topic }] : []));
    return { tag: 'SHOW', message: `${rows.length} sinks`, columns: [text, { name: 'from', type: 'text' }, { name: 'topic', type: 'text' }], rows };
  }
}

/** Queries compiled into one binding's app. */
class QueryBinding {
  readonly #binding: Binding;

  constructor(binding: Binding) {
    this.#binding = binding;
  }

  get app(): AppBuilder {
    return this.#binding.app;
  }

  query(text: string, query: Parameters<typeof parseQuery>[1]): Relation {
    return compileQuery(parseQuery(text, query), this.#binding.context(text, { temporal: query.temporal }), query.emit);
  }

  relation(name: string, at: number, text: string): Relation {
    return this.#binding.relation(name, at, text);
  }

  relationFor(def: ViewDef): Relation {
    return compileQuery(def.query, this.#binding.context(def.text, { stageName: def.name, temporal: def.temporal }), def.emit);
  }
}

/** A query's rows as exported (timestamps as ISO strings); of a table, its upserts (deletes reach views and sinks as tombstones). */
function exported(relation: Relation): Stream<Row> {
  const exporter = rowExporter(relation.columns);
  if (relation.stream !== undefined) return relation.stream.map(exporter);
  return relation.table.toStream().flatMap((c) => (c.value === null ? [] : [exporter(c.value)]));
}

/**
 * Writes a relation to a topic: a stream's rows as values, a table's changelog as upserts
 * keyed by the table's key and tombstones for deletes (readers keep the last row per key).
 */
function writeRelation(relation: Relation, name: string, topic: string, sinkName: string, codec?: Codec): void {
  const exporter = rowExporter(relation.columns);
  const options = { name: sinkName, ...(codec ? { codec: codec as Codec<Row> } : {}) };
  if (relation.stream !== undefined) relation.stream.map(exporter, { name: `${name}-rows` }).to(topic, options);
  else relation.table.mapValues(exporter, { name: `${name}-rows` }).to(topic, options);
}
