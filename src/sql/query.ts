/**
 * SELECT compiled onto the DSL: FROM a relation (a source, a view, a subquery, or a window
 * table function over one), WHERE as `filter`, GROUP BY as `keyBy` then a window (`TUMBLE`,
 * `HOP`, `SESSION`) and one `aggregate` computing every aggregate of the query, or a running
 * aggregate without a window; HAVING and the select list as one `flatMap` after it; UNION ALL as
 * `union`. The graph is the DSL's, so the plan and runtime are the same as for TypeScript pipelines.
 */
import type { KeyedStream, Stream, WindowResult } from '../api/index.ts';
import { aggregateDef, combine, type AggregateDef } from './aggregates.ts';
import { sqlError, unsupported } from './errors.ts';
import { type Compiled, compileExpr, type Scope } from './expr.ts';
import { forEachColumnRef, locationOf, nodeKind, type PgNode, shapeOf, strings } from './pg.ts';
import { type FromInput, resolveField, rowScope, single, type WindowDef } from './from.ts';
import { compileJoin } from './join.ts';
import { topPerWindowJoin } from './top-per-window.ts';
import type { Relation, StreamRelation, TableRelation } from './relation.ts';
import type { QueryContext } from './query-context.ts';
import { rowBuilder } from './row-builder.ts';
import type { EmitClause } from './statements.ts';
import { assignWindows, windowOf } from './window-functions.ts';
import type { Column, Row, SqlType } from './types.ts';

const AGGREGATE_NAMES = new Set(['count', 'sum', 'avg', 'min', 'max']);

/** Compiles a SELECT (or UNION ALL of them) into a relation. */
export function compileQuery(node: PgNode, ctx: QueryContext, emit?: EmitClause): Relation {
  const [kind, select] = nodeKind(node);
  if (kind !== 'SelectStmt') throw unsupported(ctx.text, locationOf(node), `${kind} is not a query Sluice runs; write SELECT ...`);
  return compileSelect(select, ctx, emit);
}

function compileSelect(s: PgNode, ctx: QueryContext, emit?: EmitClause): Relation {
  const text = ctx.text;
  const at = locationOf(s);
  if (s.op !== undefined && s.op !== 'SETOP_NONE') {
    if (s.op !== 'SETOP_UNION' || s.all !== true) {
      const name = s.op === 'SETOP_UNION' ? 'UNION (without ALL, which removes duplicates)' : String(s.op).replace('SETOP_', '');
      throw unsupported(text, locationOf(s.rarg, at), `${name} is not supported on streams; write UNION ALL`);
    }
    const left = compileSelect(s.larg, ctx, emit);
    const right = compileSelect(s.rarg, ctx, emit);
    if (left.table !== undefined || right.table !== undefined) throw unsupported(text, locationOf(left.table ? s.larg : s.rarg, at), 'UNION ALL of a table (a changelog with updates and deletes) is not supported; UNION ALL reads streams');
    if (left.columns.length !== right.columns.length) throw sqlError(text, locationOf(s.rarg, at), `each side of UNION ALL must have the same number of columns (${left.columns.length} and ${right.columns.length})`);
    left.columns.forEach((c, i) => {
      const r = right.columns[i]!;
      if (c.type !== r.type && c.type !== 'null' && r.type !== 'null' && !(isNum(c.type) && isNum(r.type))) {
        throw sqlError(text, locationOf(s.rarg, at), `column ${i + 1} of UNION ALL is ${c.type.toUpperCase()} on the left and ${r.type.toUpperCase()} on the right; CAST one side`);
      }
    });
    const names = left.columns.map((c) => c.name);
    const renamed = right.stream.map((row: Row) => Object.fromEntries(right.columns.map((c, i) => [names[i]!, row[c.name]])) as Row);
    return { stream: left.stream.union(renamed), columns: left.columns, latenessMs: left.latenessMs, name: 'union', ...(left.rowtime && right.rowtime === left.rowtime ? { rowtime: left.rowtime } : {}) };
  }
  if (s.valuesLists !== undefined) throw unsupported(text, at, 'VALUES is not supported; produce the rows into a topic and read it with CREATE SOURCE');
  if (s.withClause !== undefined) throw unsupported(text, locationOf(s.withClause, at), 'WITH (common table expressions) is not supported; create a view for the inner query');
  if (s.distinctClause !== undefined) throw unsupported(text, at, 'SELECT DISTINCT is not supported on streams; GROUP BY the columns instead');
  if (s.sortClause !== undefined) throw unsupported(text, locationOf(s.sortClause, at), 'ORDER BY is not supported in a continuous query (a stream has no end to sort by); ORDER BY works when reading a view over the Postgres protocol');
  if (s.limitCount !== undefined || s.limitOffset !== undefined) throw unsupported(text, locationOf(s.limitCount ?? s.limitOffset, at), 'LIMIT and OFFSET are not supported in a continuous query; they work when reading a view over the Postgres protocol');
  if (s.windowClause !== undefined) throw unsupported(text, at, 'WINDOW clauses (OVER) are not supported; use GROUP BY with TUMBLE, HOP or SESSION');
  if (s.intoClause !== undefined) throw unsupported(text, at, 'SELECT INTO is not supported; use CREATE MATERIALIZED VIEW name AS SELECT ...');
  if (s.lockingClause !== undefined) throw unsupported(text, at, 'FOR UPDATE/SHARE is not supported');
  const from = (s.fromClause ?? []) as PgNode[];
  if (from.length === 0) throw sqlError(text, at, 'a streaming query reads a source: add FROM source_name');
  if (from.length > 1) {
    throw unsupported(text, locationOf(from[1], at), "a comma join (FROM a, b) is not supported; write FROM a JOIN b ON a.k = b.k, with a time bound for two streams (AND b.ts BETWEEN a.ts - INTERVAL '10' MINUTE AND a.ts + INTERVAL '10' MINUTE)");
  }
  const input = fromItem(from[0]!, ctx);
  const tvf = input.tvf;
  const inputScope = rowScope(text, input);
  const targets = (s.targetList ?? []) as PgNode[];
  const groups = (s.groupClause ?? []) as PgNode[];
  const aggregates = collectAggregates([...targets, ...(s.havingClause ? [s.havingClause] : [])]);
  if (input.relation.table !== undefined) {
    if (groups.length > 0 || aggregates.length > 0) throw unsupported(text, locationOf(groups[0] ?? aggregates[0]?.node, at), `GROUP BY and aggregates over a table (${input.label}: a changelog whose rows change and go away) are not supported yet; aggregate the stream the table is built from`);
    if (s.havingClause !== undefined) throw sqlError(text, locationOf(s.havingClause, at), 'HAVING needs GROUP BY; use WHERE to filter rows');
    if (emit !== undefined) throw sqlError(text, emit.at, 'EMIT applies to a windowed GROUP BY; a query over a table emits its changes');
    return projectTable(input, input.relation, s.whereClause === undefined ? undefined : compileExpr(s.whereClause, inputScope).fn, targets, text, ctx.stageName);
  }
  const relation = input.relation as StreamRelation;
  const cond = s.whereClause === undefined ? undefined : compileExpr(s.whereClause, inputScope).fn;
  const projection = groups.length === 0 && aggregates.length === 0;
  if (projection) {
    if (s.havingClause !== undefined) throw sqlError(text, locationOf(s.havingClause, at), 'HAVING needs GROUP BY or an aggregate; use WHERE to filter rows');
    if (emit !== undefined) throw sqlError(text, emit.at, 'EMIT applies to a windowed GROUP BY; drop it, or group by a window such as TUMBLE(event_time, INTERVAL \'1\' MINUTE)');
  }
  // Over a source, WHERE reads the raw records (converting only the columns it reads) and rows are built only for the records it keeps.
  const raw = input.plain && input.tvf === undefined ? relation.raw : undefined;
  if (raw !== undefined) {
    let values = raw.stream;
    if (cond !== undefined) {
      const fill = raw.filler(columnsRead(s.whereClause, input));
      const scratch: Row = {};
      values = values.filter((v) => cond(fill(v, scratch)) === true);
    }
    // A projection builds its output straight from the record (the converted columns in a scratch row it does not keep).
    if (projection) {
      const scratch: Row = {};
      // Only the columns the select list reads are converted: a bad value in another column fails nothing.
      const read = selectsStar(targets) ? relation.columns.map((c) => c.name) : columnsRead(targets, input);
      const asTheyAre = selectsColumnsAsTheyAre(targets, input);
      // Rows of source columns as they are: the rows' stage is made when read, as a plan reading the records needs none.
      const fill = raw.filler(read);
      const projected = project((out) => values.map((v) => out(fill(v, scratch))), targets, inputScope, input, text, false, asTheyAre);
      if (asTheyAre) projected.records = { stream: values, filler: raw.filler, checked: read };
      return projected;
    }
    // The rows into the aggregate hold the columns its keys, aggregates and HAVING read.
    const fill = raw.filler(columnsRead([targets, groups, s.havingClause ?? []], input));
    return aggregate(values.map((v) => fill(v, {})), s, targets, groups, aggregates, input, ctx, emit);
  }
  let stream = relation.stream;
  if (cond !== undefined) stream = stream.filter((row: Row) => cond(row) === true);
  if (projection) {
    if (tvf !== undefined) stream = assignWindows(stream, input.relation, tvf, text);
    const scopeAfter = tvf === undefined ? inputScope : rowScope(text, input, true);
    const rows = stream;
    return project((out) => rows.map(out), targets, scopeAfter, input, text, tvf !== undefined);
  }
  return aggregate(stream, s, targets, groups, aggregates, input, ctx, emit);
}

/** Whether each select item is a column of the source under its own name (`SELECT a, b`): the rows are the records' columns. */
function selectsColumnsAsTheyAre(targets: PgNode[], from: FromInput): boolean {
  const names = new Set<string>();
  return targets.every((t) => {
    const val = t.ResTarget?.val as PgNode | undefined;
    const ref = val?.ColumnRef ? strings(val.ColumnRef.fields) : undefined;
    const name = ref?.at(-1);
    if (name === undefined || t.ResTarget.name !== undefined || names.has(name)) return false;
    names.add(name);
    return from.fields.some((f) => f.key === name && (ref!.length === 1 || f.qualifiers.includes(ref![0]!)));
  });
}

/** Whether the select list has a `*` (or `alias.*`). */
function selectsStar(targets: PgNode[]): boolean {
  return targets.some((t) => t.ResTarget?.val?.ColumnRef && strings(t.ResTarget.val.ColumnRef.fields).at(-1) === '*');
}

/** The input columns (field keys) an expression reads. */
function columnsRead(node: unknown, from: FromInput): string[] {
  const found = new Set<string>();
  forEachColumnRef(node, (names) => {
    const field = from.fields.find((f) => f.name === names.at(-1) && (names.length === 1 || f.qualifiers.includes(names[0]!)));
    if (field !== undefined) found.add(field.key);
  });
  return [...found];
}

function isNum(t: SqlType): boolean {
  return t === 'bigint' || t === 'double';
}

/** A FROM item: a relation by name, a subquery, a window table function, or a join of two items. */
export function fromItem(item: PgNode, ctx: QueryContext): FromInput {
  const text = ctx.text;
  const [kind, n] = nodeKind(item);
  const at = locationOf(item);
  switch (kind) {
    case 'RangeVar': {
      if (n.schemaname !== undefined) throw unsupported(text, at, `schema-qualified names (${n.schemaname}.${n.relname}) are not supported; write the name alone`);
      const input = ctx.relation(n.relname, at);
      return single(input, n.alias?.aliasname ?? n.relname);
    }
    case 'RangeSubselect': {
      const input = compileQuery(n.subquery, ctx);
      return single(input, n.alias?.aliasname ?? 'subquery');
    }
    case 'RangeFunction': {
      const call = n.functions?.[0]?.List?.items?.[0] as PgNode | undefined;
      const fc = call?.FuncCall as PgNode | undefined;
      const name = strings(fc?.funcname).join('.').toLowerCase();
      if (fc === undefined || !['tumble', 'hop', 'session'].includes(name)) {
        throw unsupported(text, at, "functions in FROM are not supported except the window functions TUMBLE(source, ts, INTERVAL '1' MINUTE), HOP(source, ts, slide, size) and SESSION(source, ts, gap)");
      }
      const args = (fc.args ?? []) as PgNode[];
      const sourceRef = args[0]?.ColumnRef ? strings(args[0].ColumnRef.fields) : [];
      if (sourceRef.length !== 1) throw sqlError(text, locationOf(args[0] ?? fc, at), `the first argument of ${name.toUpperCase()} is the source, such as ${name.toUpperCase()}(page_views, event_time, INTERVAL '1' MINUTE)`);
      const relation = ctx.relation(sourceRef[0]!, locationOf(args[0]));
      if (relation.table !== undefined) throw unsupported(text, locationOf(args[0]), `${name.toUpperCase()} over a table (${relation.name}) is not supported; windows group a stream's rows by event time`);
      const input = single(relation, n.alias?.aliasname ?? sourceRef[0]!);
      const window = windowOf(name as WindowDef['fn'], args.slice(1), input, text, locationOf(fc));
      return { ...input, tvf: { window } };
    }
    case 'JoinExpr':
      return topPerWindowJoin(n, ctx, fromItem) ?? compileJoin(n, ctx, fromItem);
    default:
      throw unsupported(text, at, `${kind} in FROM is not supported; read a source or view by name`);
  }
}

/** What `*` stands for: the columns of the input (and of `alias.*` those of one side of a join). */
interface StarColumn {
  name: string;
  qualifiers: string[];
}

/**
 * The select list: `*`, expressions, and their output names; `sources` holds, for a column
 * selected as it is, the input field it comes from (`from` resolves a column reference).
 */
function selectList(targets: PgNode[], scope: Scope, text: string, starColumns: StarColumn[], from?: FromInput): { columns: Column[]; fns: ((row: any) => unknown)[]; sources: (string | undefined)[] } {
  const columns: Column[] = [];
  const fns: ((row: any) => unknown)[] = [];
  const sources: (string | undefined)[] = [];
  const add = (name: string, compiled: Compiled, source: string | undefined, at: number): void => {
    if (columns.some((c) => c.name === name)) throw sqlError(text, at, `two columns are named ${name}; name one with AS${target0(name)}`);
    columns.push({ name, type: compiled.type });
    fns.push(compiled.fn);
    sources.push(source);
  };
  const target0 = (name: string): string => (from !== undefined && !from.plain ? `, such as SELECT a.${name} AS a_${name}, b.${name} AS b_${name} instead of *` : '');
  for (const t of targets) {
    const target = t.ResTarget as PgNode;
    const at = locationOf(t);
    const fields = target.val?.ColumnRef ? strings(target.val.ColumnRef.fields) : [];
    if (fields.at(-1) === '*') {
      if (target.name !== undefined) throw sqlError(text, at, '* cannot be renamed; list the columns');
      const qualifier = fields.length > 1 ? fields[0] : undefined;
      const chosen = starColumns.filter((c) => qualifier === undefined || c.qualifiers.includes(qualifier));
      if (chosen.length === 0) throw sqlError(text, at, `there is no relation ${qualifier} here`);
      for (const c of chosen) {
        const q = qualifier ?? (from !== undefined && !from.plain ? c.qualifiers[0] : undefined);
        add(c.name, scope.column(c.name, q, at), from === undefined ? c.name : fieldKey(text, from, c.name, q, at), at);
      }
      continue;
    }
    const compiled: Compiled = compileExpr(target.val, scope);
    const name = (target.name as string | undefined) ?? outputName(target.val);
    const source = from !== undefined && fields.length > 0 ? fieldKey(text, from, fields.at(-1)!, fields.length > 1 ? fields[0] : undefined, at) : undefined;
    add(name, compiled, source, at);
  }
  return { columns, fns, sources };
}

/** The input field a column reference reads, if it is one (window bounds of a table function are not). */
function fieldKey(text: string, from: FromInput, name: string, qualifier: string | undefined, at: number): string | undefined {
  if (!from.fields.some((f) => f.name === name)) return undefined;
  return resolveField(text, from, name, qualifier, at).key;
}

/** Postgres' name for an unnamed select item: the column, the function, or ?column?. */
function outputName(val: PgNode): string {
  if (val.ColumnRef) return strings(val.ColumnRef.fields).at(-1)!;
  if (val.FuncCall) return strings(val.FuncCall.funcname).at(-1)!.toLowerCase();
  if (val.TypeCast) return outputName(val.TypeCast.arg);
  if (val.CaseExpr) return 'case';
  return '?column?';
}

function build(columns: Column[], fns: ((row: any) => unknown)[]): (row: any) => Row {
  return rowBuilder(
    columns.map((c) => c.name),
    fns,
  );
}

function starOf(from: FromInput, windowsAssigned: boolean): StarColumn[] {
  const star: StarColumn[] = from.fields.map((f) => ({ name: f.name, qualifiers: f.qualifiers }));
  if (!windowsAssigned) return star;
  const bounds = ['window_start', 'window_end'].filter((n) => !from.fields.some((f) => f.name === n));
  return [...star, ...bounds.map((name) => ({ name, qualifiers: from.fields[0]?.qualifiers ?? [] }))];
}

/** The select list over rows; `mapRows(out)` is the stream of `out` applied to each input row. */
function project(mapRows: (out: (row: any) => Row) => Stream<Row>, targets: PgNode[], scope: Scope, from: FromInput, text: string, windowsAssigned: boolean, lazy = false): StreamRelation {
  const input = from.relation;
  const rowtime = input.rowtime;
  const { columns, fns, sources } = selectList(targets, scope, text, starOf(from, windowsAssigned), from);
  const out = build(columns, fns);
  // The event time stays the rows' event time when its column is selected as it is.
  const kept = rowtime === undefined ? undefined : columns.find((_c, i) => sources[i] === rowtime);
  const described = { columns, latenessMs: input.latenessMs, name: input.name, ...(kept ? { rowtime: kept.name } : {}) };
  if (!lazy) return { stream: mapRows(out), ...described };
  let rows: Stream<Row> | undefined;
  return {
    get stream(): Stream<Row> {
      rows ??= mapRows(out);
      return rows;
    },
    ...described,
  };
}

/**
 * A query over a table: WHERE as the table's `filter` (a row that stops passing is deleted) and
 * the select list as `mapValues`; the key stays, so the result is a table too.
 */
function projectTable(from: FromInput, input: TableRelation, where: ((row: Row) => unknown) | undefined, targets: PgNode[], text: string, stageName: string | undefined): TableRelation {
  const { columns, fns, sources } = selectList(targets, rowScope(text, from), text, starOf(from, false), from);
  const out = build(columns, fns);
  let table = input.table;
  if (where !== undefined) table = table.filter((row) => where(row) === true, stageName ? { name: `${stageName}-where` } : {});
  table = table.mapValues(out, stageName ? { name: `${stageName}-select` } : {});
  const named = (key: string): string | undefined => columns.find((_c, i) => sources[i] === key)?.name;
  const pk = input.primaryKey?.map(named);
  const rowtime = input.rowtime === undefined ? undefined : named(input.rowtime);
  return { table, columns, latenessMs: input.latenessMs, name: input.name, ...(pk?.every((k) => k !== undefined) ? { primaryKey: pk as string[] } : {}), ...(rowtime ? { rowtime } : {}) };
}

interface AggregateCall {
  shape: string;
  node: PgNode;
}

/** The aggregate calls of the select list and HAVING (not those nested in another aggregate: refused when compiled). */
function collectAggregates(nodes: PgNode[]): AggregateCall[] {
  const found = new Map<string, AggregateCall>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as PgNode;
    const fc = record.FuncCall as PgNode | undefined;
    if (fc !== undefined && AGGREGATE_NAMES.has(strings(fc.funcname).at(-1)!.toLowerCase()) && fc.over === undefined) {
      const shape = shapeOf(record);
      if (!found.has(shape)) found.set(shape, { shape, node: record });
      return;
    }
    if (record.SubLink !== undefined) return;
    for (const v of Object.values(record)) walk(v);
  };
  walk(nodes);
  return [...found.values()];
}

/** What the select list and HAVING read after aggregation: the group's key parts, window bounds and aggregate results. */
interface Grouped {
  k: unknown[];
  s: number;
  e: number;
  a: unknown[];
}

function aggregate(
  stream: Stream<Row>,
  s: PgNode,
  targets: PgNode[],
  groups: PgNode[],
  calls: AggregateCall[],
  from: FromInput,
  ctx: QueryContext,
  emit: EmitClause | undefined,
): StreamRelation {
  const text = ctx.text;
  const input = from.relation;
  const tvf = from.tvf;
  const inputScope = rowScope(text, from);
  const isField = (name: string): boolean => from.fields.some((f) => f.name === name);
  // GROUP BY items: the window (a call, or window_start/window_end of the table function), and the key expressions.
  let window: WindowDef | undefined;
  const keyNodes: PgNode[] = [];
  for (const g of groups) {
    const fc = g.FuncCall as PgNode | undefined;
    const name = fc ? strings(fc.funcname).at(-1)!.toLowerCase() : undefined;
    const column = g.ColumnRef ? strings(g.ColumnRef.fields).at(-1) : undefined;
    if (name === 'tumble' || name === 'hop' || name === 'session') {
      if (window !== undefined) throw sqlError(text, locationOf(g), 'a query groups by one window; drop the second');
      if (tvf !== undefined) throw sqlError(text, locationOf(g), 'the window is already given by the table function in FROM; GROUP BY window_start, window_end');
      window = windowOf(name, fc!.args ?? [], from, text, locationOf(g));
    } else if (tvf !== undefined && (column === 'window_start' || column === 'window_end') && !isField(column)) {
      window = tvf.window;
    } else if (g.GroupingSet !== undefined) {
      throw unsupported(text, locationOf(g), 'GROUPING SETS, ROLLUP and CUBE are not supported; write one view per grouping');
    } else if (g.A_Const?.ival !== undefined) {
      throw unsupported(text, locationOf(g), 'GROUP BY by position is not supported; repeat the expression, or its column name');
    } else {
      keyNodes.push(g);
    }
  }
  if (tvf !== undefined && window === undefined) throw sqlError(text, locationOf(s), 'with a window table function in FROM, GROUP BY window_start, window_end (and any key columns)');
  const keyShapes = keyNodes.map((k) => shapeOf(k));
  const keyFns = keyNodes.map((k) => compileExpr(k, inputScope));
  const refOf = (node: PgNode): string[] | undefined => (node.ColumnRef ? strings(node.ColumnRef.fields) : undefined);
  const keyColumns = keyNodes.map((k) => {
    const ref = refOf(k);
    return ref === undefined ? undefined : resolveField(text, from, ref.at(-1)!, ref.length > 1 ? ref[0] : undefined, locationOf(k)).key;
  });
  // The aggregates, compiled over the input rows.
  const defs: AggregateDef[] = calls.map(({ node }) => {
    const fc = node.FuncCall as PgNode;
    const name = strings(fc.funcname).at(-1)!.toLowerCase();
    const at = locationOf(node);
    if (fc.agg_filter !== undefined) throw unsupported(text, at, 'aggregate FILTER (WHERE ...) is not supported; use CASE inside the aggregate, such as SUM(CASE WHEN ok THEN 1 ELSE 0 END)');
    if (fc.agg_order !== undefined) throw unsupported(text, at, 'ORDER BY inside an aggregate is not supported');
    const args = (fc.args ?? []) as PgNode[];
    if (args.length > 1) throw sqlError(text, at, `${name.toUpperCase()}() takes one argument`);
    const noAggregates: Scope = { ...inputScope, call: (n) => (AGGREGATE_NAMES.has(n) ? (() => { throw sqlError(text, at, 'aggregates cannot be nested'); })() : undefined) };
    const arg = fc.agg_star ? undefined : args[0] === undefined ? undefined : compileExpr(args[0], noAggregates);
    if (!fc.agg_star && arg === undefined) throw sqlError(text, at, `${name.toUpperCase()}() needs an argument, such as ${name.toUpperCase()}(amount)${name === 'count' ? ' or COUNT(*)' : ''}`);
    return aggregateDef(name, arg, fc.agg_distinct === true, text, at);
  });
  const combined = combine(defs);
  const aggregateIndex = new Map(calls.map((c, i) => [c.shape, i]));
  const windowFn = window?.fn;
  const scope: Scope = {
    text,
    replace(node) {
      const i = keyShapes.indexOf(shapeOf(node));
      if (i >= 0) return { fn: (g: Grouped) => g.k[i], type: keyFns[i]!.type };
      const j = aggregateIndex.get(shapeOf(node));
      if (j !== undefined) return { fn: (g: Grouped) => g.a[j], type: defs[j]!.type };
      return undefined;
    },
    column(name, qualifier, at) {
      if (tvf !== undefined && name === 'window_start' && !isField(name)) return { fn: (g: Grouped) => g.s, type: 'timestamp' };
      if (tvf !== undefined && name === 'window_end' && !isField(name)) return { fn: (g: Grouped) => g.e, type: 'timestamp' };
      const i = keyColumns.indexOf(resolveField(text, from, name, qualifier, at).key);
      if (i >= 0) return { fn: (g: Grouped) => g.k[i], type: keyFns[i]!.type };
      throw sqlError(text, at, `column ${name} must appear in GROUP BY or be used in an aggregate function, such as COUNT(${name}) or MAX(${name})`);
    },
    call(name, node) {
      const at = locationOf(node);
      const bound = /^(tumble|hop|session)_(start|end|rowtime)$/.exec(name);
      if (bound !== null) {
        if (windowFn === undefined || bound[1] !== windowFn) {
          throw sqlError(text, at, windowFn === undefined ? `${name.toUpperCase()}() needs GROUP BY ${bound[1]!.toUpperCase()}(...)` : `${name.toUpperCase()}() does not match the window of GROUP BY; write ${windowFn.toUpperCase()}_${bound[2]!.toUpperCase()}(...)`);
        }
        if (bound[2] === 'start') return { fn: (g: Grouped) => g.s, type: 'timestamp' };
        if (bound[2] === 'end') return { fn: (g: Grouped) => g.e, type: 'timestamp' };
        return { fn: (g: Grouped) => g.e - 1, type: 'timestamp' };
      }
      if (AGGREGATE_NAMES.has(name)) throw sqlError(text, at, 'aggregates cannot be nested');
      return undefined;
    },
  };
  const starColumns = targets.some((t) => t.ResTarget?.val?.ColumnRef && strings(t.ResTarget.val.ColumnRef.fields).at(-1) === '*');
  if (starColumns) throw sqlError(text, locationOf(targets[0]), 'SELECT * cannot be grouped; list the GROUP BY columns and aggregates');
  const { columns, fns } = selectList(targets, scope, text, []);
  const out = build(columns, fns);
  const columnKey = (val: PgNode): string | undefined => {
    const ref = refOf(val);
    return ref === undefined || !isField(ref.at(-1)!) ? undefined : resolveField(text, from, ref.at(-1)!, ref.length > 1 ? ref[0] : undefined, locationOf(val)).key;
  };
  const primaryKey = primaryKeyOf(targets, columns, keyShapes, keyColumns, columnKey, window !== undefined, tvf !== undefined);
  const having = s.havingClause === undefined ? undefined : compileExpr(s.havingClause, scope).fn;
  const keyOf: (row: Row) => unknown =
    keyFns.length === 0 ? () => null : keyFns.length === 1 ? keyFns[0]!.fn : (row) => keyFns.map((k) => k.fn(row));
  const partsOf: (key: unknown) => unknown[] = keyFns.length === 0 ? () => [] : keyFns.length === 1 ? (key) => [key] : (key) => key as unknown[];
  const name = ctx.stageName;
  const keyed: KeyedStream<unknown, Row> = stream.keyBy(keyOf, name ? { name: `${name}-key` } : {});
  const finish = (g: Grouped): Row[] => (having === undefined || having(g) === true ? [out(g)] : []);
  if (window === undefined) {
    if (emit !== undefined) throw sqlError(text, emit.at, 'EMIT applies to a windowed GROUP BY; a GROUP BY without a window emits an update per input row');
    const rolling = keyed.aggregate(combined.init, combined.add, name ? { name } : {});
    // The running aggregate's changelog: an upsert per input row (running aggregates never delete).
    const rows = rolling.toStream().flatMap((r) => (r.value === null ? [] : finish({ k: partsOf(r.key), s: 0, e: 0, a: combined.results(r.value) })));
    return { stream: rows, columns, latenessMs: input.latenessMs, name: name ?? input.name, ...(primaryKey ? { primaryKey } : {}) };
  }
  let windowed = keyed.window(window.spec);
  const latenessMs = emit?.latenessMs ?? input.latenessMs;
  if (latenessMs > 0) windowed = windowed.allowedLateness(latenessMs);
  const results = windowed.aggregate(combined.init, combined.add, { merge: combined.merge, ...(name ? { name } : {}) });
  const rows = results.flatMap((r: WindowResult<unknown, unknown[]>) => finish({ k: partsOf(r.key), s: r.start, e: r.end, a: combined.results(r.value) }));
  // A window's result is stamped end - 1, which TUMBLE_ROWTIME (HOP_, SESSION_) selects: that column is the result's event time.
  const rowtimeAt = targets.findIndex((t) => {
    const fc = t.ResTarget?.val?.FuncCall as PgNode | undefined;
    return fc !== undefined && /^(tumble|hop|session)_rowtime$/.test(strings(fc.funcname).at(-1)!.toLowerCase());
  });
  const rowtime = rowtimeAt >= 0 ? columns[rowtimeAt]!.name : undefined;
  return { stream: rows, columns, latenessMs: 0, name: name ?? input.name, ...(primaryKey ? { primaryKey } : {}), ...(rowtime ? { rowtime } : {}) };
}

/** The output columns naming every GROUP BY key (and the window's start or end), if the select list has them all. */
function primaryKeyOf(targets: PgNode[], columns: Column[], keyShapes: string[], keyColumns: (string | undefined)[], columnKey: (val: PgNode) => string | undefined, windowed: boolean, tvf: boolean): string[] | undefined {
  const keys: (string | undefined)[] = keyShapes.map(() => undefined);
  let bound: string | undefined;
  targets.forEach((t, i) => {
    const val = t.ResTarget?.val as PgNode | undefined;
    if (val === undefined) return;
    const name = columns[i]!.name;
    const column = val.ColumnRef ? strings(val.ColumnRef.fields).at(-1) : undefined;
    const k = keyShapes.indexOf(shapeOf(val));
    const key = columnKey(val);
    const c = key === undefined ? -1 : keyColumns.indexOf(key);
    if (k >= 0) keys[k] ??= name;
    else if (c >= 0) keys[c] ??= name;
    const fn = val.FuncCall ? strings(val.FuncCall.funcname).at(-1)!.toLowerCase() : undefined;
    if ((fn !== undefined && /^(tumble|hop|session)_(start|end)$/.test(fn)) || (tvf && (column === 'window_start' || column === 'window_end'))) bound ??= name;
  });
  if (keys.some((k) => k === undefined) || (windowed && bound === undefined)) return undefined;
  return [...(keys as string[]), ...(bound === undefined ? [] : [bound])];
}
