/**
 * The front parser: what kind each statement is, and the statements Postgres' grammar rejects
 * (`CREATE SOURCE ... WATERMARK FOR`, `CREATE SINK`, `SHOW`, `DESCRIBE`, and the `EMIT` clause
 * after a query). Queries themselves go to the Postgres parser (pg.ts) by their offsets.
 */
import { sqlError, unsupported } from './errors.ts';
import { intervalMs } from './interval.ts';
import { splitStatements, type StatementText, type Token, TokenReader, tokenize as splitStatementsTokens } from './lexer.ts';
import { SUPPORTED_TYPES, type SqlType, typeNamed } from './types.ts';

/** A query's text in the script, and its EMIT clause (blanked out for the Postgres parser). */
export interface QueryText {
  start: number;
  end: number;
  emit?: EmitClause;
  /** Ranges left out when Postgres parses it (`FOR SYSTEM_TIME AS OF ...`). */
  blank: [number, number][];
  /** The temporal joins' `FOR SYSTEM_TIME AS OF` clauses, which Postgres' grammar lacks. */
  temporal: TemporalClause[];
}

/**
 * `JOIN t FOR SYSTEM_TIME AS OF s.ts` (the row of t valid at the event time s.ts) or
 * `... AS OF PROCTIME()` (t's latest row when the event is processed).
 */
export interface TemporalClause {
  /** Where the table's name starts (its RangeVar's location). */
  at: number;
  /** The time: a column reference (qualifier, name) or processing time. */
  time: { column: string; qualifier?: string } | 'proctime';
  timeAt: number;
}

export interface EmitClause {
  /** `EMIT ON WINDOW CLOSE` (the default for windows) or `EMIT AFTER WATERMARK`: both emit a window once its watermark passes. */
  mode: 'window-close' | 'after-watermark';
  /** `ALLOWED LATENESS = INTERVAL '1' MINUTE`: a fired window re-fires for late records this long. */
  latenessMs?: number;
  at: number;
}

export interface OptionValue {
  value: string;
  at: number;
}

export interface SourceColumnDef {
  name: string;
  type: SqlType;
  at: number;
}

export type Statement =
  | {
      kind: 'create-source';
      at: number;
      name: string;
      nameAt: number;
      columns: SourceColumnDef[];
      watermark?: { column: string; boundMs: number; at: number };
      options: Map<string, OptionValue>;
      ifNotExists: boolean;
    }
  | {
      kind: 'create-table';
      at: number;
      name: string;
      nameAt: number;
      columns: SourceColumnDef[];
      primaryKey: { columns: string[]; at: number } | undefined;
      watermark?: { column: string; boundMs: number; at: number };
      options: Map<string, OptionValue>;
      ifNotExists: boolean;
    }
  | { kind: 'create-view'; at: number; name: string; nameAt: number; materialized: boolean; query: QueryText }
  | { kind: 'create-sink'; at: number; name: string; nameAt: number; from: string; fromAt: number; options: Map<string, OptionValue> }
  | { kind: 'drop'; at: number; what: 'source' | 'table' | 'view' | 'sink'; name: string; nameAt: number; ifExists: boolean }
  | { kind: 'show'; at: number; what: 'sources' | 'tables' | 'views' | 'sinks' }
  | { kind: 'describe'; at: number; name: string; nameAt: number }
  | { kind: 'explain'; at: number; query: QueryText }
  | { kind: 'query'; at: number; query: QueryText };

/** Every statement of a script, in order. */
export function parseScript(text: string): Statement[] {
  return splitStatements(text).map((s) => parseOne(text, s));
}

function parseOne(text: string, s: StatementText): Statement {
  const r = new TokenReader(text, s.tokens, s.end);
  const first = r.peek()!;
  const at = first.start;
  if (first.kind === 'word') {
    switch (first.value) {
      case 'select':
      case 'with':
      case 'values':
        return { kind: 'query', at, query: queryText(text, s, 0) };
      case 'create':
        return create(text, s, r);
      case 'drop':
        return drop(r);
      case 'show': {
        r.next();
        const what = r.next();
        if (what.value === 'materialized' && r.accept('views')) return { kind: 'show', at, what: 'views' };
        if (what.value === 'sources' || what.value === 'tables' || what.value === 'views' || what.value === 'sinks') return end(r, { kind: 'show', at, what: what.value });
        throw sqlError(text, what.start, 'write SHOW SOURCES, SHOW TABLES, SHOW VIEWS or SHOW SINKS');
      }
      case 'describe':
      case 'desc': {
        r.next();
        const name = r.name('the name of a source, view or sink after DESCRIBE');
        return end(r, { kind: 'describe', at, name: name.value, nameAt: name.start });
      }
      case 'explain': {
        r.next();
        const next = r.peek();
        if (next === undefined || !['select', 'with', 'values'].includes(next.value)) throw r.error('EXPLAIN takes a query; write EXPLAIN SELECT ...');
        return { kind: 'explain', at, query: queryText(text, s, 1) };
      }
      case 'insert':
        throw unsupported(text, at, 'INSERT INTO is not supported; declare the output with CREATE SINK name FROM view WITH (topic = \'...\') after CREATE MATERIALIZED VIEW view AS SELECT ...');
      case 'update':
      case 'delete':
        throw unsupported(text, at, `${first.value.toUpperCase()} is not supported: sources are append-only streams; filter with WHERE in a view instead`);
      case 'set':
      case 'begin':
      case 'commit':
      case 'start':
      case 'rollback':
        throw unsupported(text, at, `${first.value.toUpperCase()} is not supported in streaming SQL; Sluice commits with its checkpoints`);
    }
  }
  if (first.kind === 'symbol' && first.value === '(') return { kind: 'query', at, query: queryText(text, s, 0) };
  throw sqlError(text, at, `'${text.slice(first.start, first.end)}' does not start a statement Sluice knows; write CREATE SOURCE, CREATE MATERIALIZED VIEW, CREATE SINK, SELECT, SHOW, DESCRIBE, EXPLAIN or DROP`);
}

function end<T>(r: TokenReader, statement: T): T {
  if (!r.done()) throw r.error('expected the end of the statement here; end each statement with ;');
  return statement;
}

/** The query from token `from` of the statement, its EMIT clause split off and its temporal clauses taken out. */
function queryText(text: string, s: StatementText, from: number): QueryText {
  const tokens = s.tokens.slice(from);
  let depth = 0;
  const start = tokens[0]!.start;
  const blank: [number, number][] = [];
  const temporal: TemporalClause[] = [];
  for (const [i, t] of tokens.entries()) {
    if (t.kind === 'symbol' && t.value === '(') depth++;
    if (t.kind === 'symbol' && t.value === ')') depth--;
    if (t.kind === 'word' && t.value === 'for' && tokens[i + 1]?.value === 'system_time') {
      const clause = temporalClause(text, tokens, i);
      temporal.push(clause.clause);
      blank.push([t.start, clause.end]);
    }
    if (depth === 0 && t.kind === 'word' && t.value === 'emit') {
      const emit = emitClause(new TokenReader(text, tokens.slice(i + 1), s.end), t.start);
      const end = i === 0 ? t.start : tokens[i - 1]!.end;
      return { start, end, emit, blank, temporal };
    }
  }
  return { start, end: s.end, blank, temporal };
}

const TEMPORAL_HINT = 'write JOIN table FOR SYSTEM_TIME AS OF stream.event_time ON ..., or FOR SYSTEM_TIME AS OF PROCTIME()';

/** `FOR SYSTEM_TIME AS OF s.ts` or `... AS OF PROCTIME()` at token `i`, right after a table's name. */
function temporalClause(text: string, tokens: Token[], i: number): { clause: TemporalClause; end: number } {
  const table = tokens[i - 1];
  if (table === undefined || (table.kind !== 'word' && table.kind !== 'quoted') || tokens[i - 2]?.value === '.') throw sqlError(text, tokens[i]!.start, `FOR SYSTEM_TIME AS OF follows the name of the table joined; ${TEMPORAL_HINT}`);
  if (tokens[i + 2]?.value !== 'as' || tokens[i + 3]?.value !== 'of') throw sqlError(text, tokens[i + 2]?.start ?? tokens[i]!.end, `expected AS OF; ${TEMPORAL_HINT}`, 'SQL_UNSUPPORTED');
  const first = tokens[i + 4];
  if (first === undefined || (first.kind !== 'word' && first.kind !== 'quoted')) throw sqlError(text, first?.start ?? tokens[i + 3]!.end, `expected the stream's event-time column after AS OF; ${TEMPORAL_HINT}`);
  if (first.value === 'proctime' && tokens[i + 5]?.value === '(' && tokens[i + 6]?.value === ')') {
    return { clause: { at: table.start, time: 'proctime', timeAt: first.start }, end: tokens[i + 6]!.end };
  }
  if (tokens[i + 5]?.value === '.') {
    const name = tokens[i + 6];
    if (name === undefined || (name.kind !== 'word' && name.kind !== 'quoted')) throw sqlError(text, tokens[i + 5]!.end, `expected a column name; ${TEMPORAL_HINT}`);
    if (['(', '.', '+', '-'].includes(tokens[i + 7]?.value ?? '')) throw sqlError(text, first.start, `AS OF takes a column of the stream, not an expression; ${TEMPORAL_HINT}`, 'SQL_UNSUPPORTED');
    return { clause: { at: table.start, time: { qualifier: first.value, column: name.value }, timeAt: first.start }, end: name.end };
  }
  if (tokens[i + 5]?.value === '(' || tokens[i + 5]?.value === '-' || tokens[i + 5]?.value === '+') throw sqlError(text, first.start, `AS OF takes a column of the stream, not an expression; ${TEMPORAL_HINT}`, 'SQL_UNSUPPORTED');
  return { clause: { at: table.start, time: { column: first.value }, timeAt: first.start }, end: first.end };
}

const EMIT_HINT = "write EMIT ON WINDOW CLOSE, or EMIT AFTER WATERMARK ALLOWED LATENESS = INTERVAL '1' MINUTE";

function emitClause(r: TokenReader, at: number): EmitClause {
  let mode: EmitClause['mode'];
  if (r.accept('on')) {
    const what = r.peek();
    if (what?.value === 'update' || what?.value === 'changes') throw r.error(`EMIT ON ${what.value.toUpperCase()} is not supported for windows (they emit when they close); ${EMIT_HINT}`, 'SQL_UNSUPPORTED');
    r.expect('window', EMIT_HINT);
    r.expect('close', EMIT_HINT);
    mode = 'window-close';
  } else if (r.accept('after')) {
    r.expect('watermark', EMIT_HINT);
    mode = 'after-watermark';
  } else {
    const what = r.peek();
    throw r.error(`${what === undefined ? 'EMIT needs a mode' : `EMIT ${r.text.slice(what.start, what.end).toUpperCase()} is not supported`}; ${EMIT_HINT}`, 'SQL_UNSUPPORTED');
  }
  const clause: EmitClause = { mode, at };
  if (r.accept('allowed')) {
    r.expect('lateness', EMIT_HINT);
    r.accept('=');
    clause.latenessMs = intervalLiteral(r);
  }
  if (!r.done()) throw r.error(`expected the end of the EMIT clause here; ${EMIT_HINT}`);
  return clause;
}

/** `INTERVAL '5' SECOND`, `INTERVAL '1 minute'`, or a duration string such as '1m'. */
function intervalLiteral(r: TokenReader): number {
  const start = r.peek();
  r.accept('interval');
  const literal = r.next();
  if (literal.kind !== 'string' && literal.kind !== 'number') throw sqlError(r.text, literal.start, "expected an interval such as INTERVAL '5' SECOND");
  let unit: string | undefined;
  const next = r.peek();
  if (next?.kind === 'word' && ['second', 'seconds', 'minute', 'minutes', 'hour', 'hours', 'day', 'days', 'month', 'year'].includes(next.value)) unit = r.next().value.replace(/s$/, '');
  const ms = intervalMs(literal.value, unit);
  if (typeof ms === 'string') throw sqlError(r.text, start!.start, ms);
  return ms;
}

function create(text: string, s: StatementText, r: TokenReader): Statement {
  const at = r.next().start;
  const orReplace = r.accept('or');
  if (orReplace) throw sqlError(text, at, 'CREATE OR REPLACE is not supported; DROP the object first, then CREATE it', 'SQL_UNSUPPORTED');
  const what = r.next();
  switch (what.value) {
    case 'source':
      return createSource(text, r, at);
    case 'materialized':
      r.expect('view');
      return createView(text, s, r, at, true);
    case 'view':
      return createView(text, s, r, at, false);
    case 'sink':
      return createSink(r, at);
    case 'table':
      return createTable(text, r, at);
    default:
      throw sqlError(text, what.start, 'write CREATE SOURCE, CREATE TABLE, CREATE MATERIALIZED VIEW, CREATE VIEW or CREATE SINK');
  }
}

function ifNot(r: TokenReader): boolean {
  if (!r.accept('if')) return false;
  r.expect('not');
  r.expect('exists');
  return true;
}

function createSource(text: string, r: TokenReader, at: number): Statement {
  const ifNotExists = ifNot(r);
  const name = r.name('the source name after CREATE SOURCE');
  const { columns, watermark, primaryKey } = columnList(text, r, 'SOURCE');
  if (primaryKey !== undefined) throw sqlError(text, primaryKey.at, `a source is an append-only stream without a primary key; declare a changelog table with CREATE TABLE ${name.value} (..., PRIMARY KEY (${primaryKey.columns.join(', ')})) WITH (...)`);
  const options = r.accept('with') ? withOptions(r) : new Map<string, OptionValue>();
  return end(r, { kind: 'create-source', at, name: name.value, nameAt: name.start, columns, ...(watermark ? { watermark } : {}), options, ifNotExists });
}

function createTable(text: string, r: TokenReader, at: number): Statement {
  const ifNotExists = ifNot(r);
  const name = r.name('the table name after CREATE TABLE');
  const { columns, watermark, primaryKey } = columnList(text, r, 'TABLE');
  const options = r.accept('with') ? withOptions(r) : new Map<string, OptionValue>();
  return end(r, { kind: 'create-table', at, name: name.value, nameAt: name.start, columns, primaryKey, ...(watermark ? { watermark } : {}), options, ifNotExists });
}

/** `(col TYPE [PRIMARY KEY], ..., [PRIMARY KEY (a, b),] [WATERMARK FOR ts AS ts - INTERVAL '5' SECOND])` of CREATE SOURCE and CREATE TABLE. */
function columnList(text: string, r: TokenReader, what: 'SOURCE' | 'TABLE'): { columns: SourceColumnDef[]; watermark?: { column: string; boundMs: number; at: number }; primaryKey: { columns: string[]; at: number } | undefined } {
  r.expect('(', `list the columns: CREATE ${what} page_views (page TEXT, event_time TIMESTAMP, ${what === 'TABLE' ? 'PRIMARY KEY (page), ' : ''}WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND) WITH (...)`);
  const columns: SourceColumnDef[] = [];
  let watermark: { column: string; boundMs: number; at: number } | undefined;
  let primaryKey: { columns: string[]; at: number } | undefined;
  const setKey = (key: { columns: string[]; at: number }): void => {
    if (primaryKey !== undefined) throw sqlError(text, key.at, 'a table has one primary key; name all its columns in one PRIMARY KEY (a, b)');
    primaryKey = key;
  };
  do {
    if (r.peek()?.value === 'watermark' && r.peek(1)?.value === 'for') {
      const wAt = r.next().start;
      r.next();
      const column = r.name('the event-time column after WATERMARK FOR');
      r.expect('as', "write WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND");
      const again = r.name('the column again');
      if (again.value !== column.value) throw sqlError(text, again.start, `the watermark is ${column.value} minus a bound; write WATERMARK FOR ${column.value} AS ${column.value} - INTERVAL '5' SECOND`);
      let boundMs = 0;
      if (r.accept('-')) boundMs = intervalLiteral(r);
      watermark = { column: column.value, boundMs, at: wAt };
      continue;
    }
    if (r.peek()?.value === 'primary' && r.peek(1)?.value === 'key') {
      const kAt = r.next().start;
      r.next();
      r.expect('(', 'write PRIMARY KEY (column, ...)');
      const names: string[] = [];
      do names.push(r.name('a column of the primary key').value);
      while (r.accept(','));
      r.expect(')');
      setKey({ columns: names, at: kAt });
      continue;
    }
    const column = r.name('a column name');
    const type = columnType(r);
    columns.push({ name: column.value, type, at: column.start });
    while (r.peek() !== undefined && r.peek()!.value !== ',' && r.peek()!.value !== ')') {
      const extra = r.next();
      if (extra.value === 'not' && r.accept('null')) continue;
      if (extra.value === 'null') continue;
      if (extra.value === 'primary' && r.accept('key')) {
        setKey({ columns: [column.value], at: extra.start });
        continue;
      }
      throw sqlError(text, extra.start, `'${text.slice(extra.start, extra.end)}' is not supported in a column definition; write name TYPE`, 'SQL_UNSUPPORTED');
    }
  } while (r.accept(','));
  r.expect(')');
  if (watermark !== undefined && !columns.some((c) => c.name === watermark.column)) {
    throw sqlError(text, watermark.at, `WATERMARK FOR ${watermark.column}: there is no column ${watermark.column}; declare it, such as ${watermark.column} TIMESTAMP`);
  }
  const key = primaryKey as { columns: string[]; at: number } | undefined;
  for (const k of key?.columns ?? []) if (!columns.some((c) => c.name === k)) throw sqlError(text, key!.at, `PRIMARY KEY names ${k}, which is not a column; declare it, such as ${k} TEXT`);
  return { columns, ...(watermark ? { watermark } : {}), primaryKey: key };
}

/** A column's type: a type name of one or more words, with an optional `(n[, m])` after it. */
function columnType(r: TokenReader): SqlType {
  const first = r.name('a column type such as TEXT, BIGINT or TIMESTAMP');
  let name = first.value;
  const words = ['precision', 'varying', 'with', 'without', 'time', 'zone'];
  const skipModifier = (): void => {
    if (r.peek()?.value !== '(') return;
    while (!r.done() && r.next().value !== ')');
  };
  skipModifier();
  while (r.peek()?.kind === 'word' && words.includes(r.peek()!.value)) {
    name += ` ${r.next().value}`;
    skipModifier();
  }
  const type = typeNamed(name.replace(/ (with|without) time zone$/, '')) ?? typeNamed(name);
  if (type === undefined) throw sqlError(r.text, first.start, `type ${name.toUpperCase()} is not supported; use one of ${SUPPORTED_TYPES}`, 'SQL_UNSUPPORTED');
  return type;
}

function withOptions(r: TokenReader): Map<string, OptionValue> {
  const options = new Map<string, OptionValue>();
  r.expect('(', "write WITH (topic = 'page_views', format = 'json')");
  do {
    const key = r.name('an option name, such as topic');
    let name = key.value;
    while (r.accept('.')) name += `.${r.name('an option name').value}`;
    r.expect('=', `write ${name} = 'value'`);
    const value: Token = r.next();
    if (value.kind === 'symbol') throw sqlError(r.text, value.start, `expected a value for ${name}, such as '${name === 'topic' ? 'page_views' : 'value'}'`);
    if (options.has(name)) throw sqlError(r.text, key.start, `option ${name} is given twice`);
    options.set(name, { value: value.value, at: value.start });
  } while (r.accept(','));
  r.expect(')');
  return options;
}

function createView(text: string, s: StatementText, r: TokenReader, at: number, materialized: boolean): Statement {
  if (r.peek()?.value === 'if') throw r.error('CREATE VIEW IF NOT EXISTS is not supported; DROP VIEW IF EXISTS first', 'SQL_UNSUPPORTED');
  const name = r.name('the view name');
  if (r.peek()?.value === 'with' || r.peek()?.value === '(') throw r.error('options and column lists on a view are not supported; name the columns with AS in the SELECT', 'SQL_UNSUPPORTED');
  r.expect('as', `write CREATE ${materialized ? 'MATERIALIZED ' : ''}VIEW ${name.value} AS SELECT ...`);
  if (r.done()) throw r.error('expected a query after AS');
  return { kind: 'create-view', at, name: name.value, nameAt: name.start, materialized, query: queryText(text, s, r.index) };
}

function createSink(r: TokenReader, at: number): Statement {
  const name = r.name('the sink name');
  if (r.peek()?.value === 'as') throw r.error('write CREATE SINK name FROM view WITH (topic = \'...\'), with the query in CREATE MATERIALIZED VIEW view AS SELECT ...', 'SQL_UNSUPPORTED');
  r.expect('from', `write CREATE SINK ${name.value} FROM view WITH (topic = '...')`);
  const from = r.name('the view or source the sink writes');
  const options = r.accept('with') ? withOptions(r) : new Map<string, OptionValue>();
  return end(r, { kind: 'create-sink', at, name: name.value, nameAt: name.start, from: from.value, fromAt: from.start, options });
}

function drop(r: TokenReader): Statement {
  const at = r.next().start;
  const what = r.next();
  let kind: 'source' | 'table' | 'view' | 'sink';
  if (what.value === 'source') kind = 'source';
  else if (what.value === 'table') kind = 'table';
  else if (what.value === 'sink') kind = 'sink';
  else if (what.value === 'view') kind = 'view';
  else if (what.value === 'materialized' && r.accept('view')) kind = 'view';
  else throw sqlError(r.text, what.start, 'write DROP SOURCE, DROP TABLE, DROP VIEW, DROP MATERIALIZED VIEW or DROP SINK');
  let ifExists = false;
  if (r.accept('if')) {
    r.expect('exists');
    ifExists = true;
  }
  const name = r.name(`the ${kind} name`);
  return end(r, { kind: 'drop', at, what: kind, name: name.value, nameAt: name.start, ifExists });
}

/** Whether `text` ends a statement: its last token is a semicolon outside parentheses (strings and comments closed). */
export function endsStatement(text: string): boolean {
  let tokens: Token[];
  try {
    tokens = splitStatementsTokens(text);
  } catch {
    return false;
  }
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'symbol' && t.value === '(') depth++;
    if (t.kind === 'symbol' && t.value === ')') depth--;
  }
  const last = tokens.at(-1);
  return depth <= 0 && last !== undefined && last.kind === 'symbol' && last.value === ';';
}
