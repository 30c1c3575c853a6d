/**
 * SELECT over a materialized view's current rows, as Postgres clients send it: `*` or
 * expressions, WHERE (a point lookup when it fixes the whole primary key), ORDER BY, LIMIT and
 * OFFSET, with `$1` parameters. This reads state; continuous queries are compiled onto the
 * DSL graph (query.ts), never here.
 */
import { sqlError, unsupported } from '../errors.ts';
import { compileExpr, type Scope } from '../expr.ts';
import { locationOf, type PgNode, strings } from '../pg.ts';
import { type Compiled, constant, parseTimestamp, type Row, type SqlType } from '../types.ts';
import type { WireColumn } from './messages.ts';
import type { ViewTable } from './tables.ts';

export interface ReadResult {
  columns: WireColumn[];
  rows: unknown[][];
}

const SERVER_FUNCTIONS: Record<string, Compiled> = {
  version: constant('PostgreSQL 16.0 (Sluice streaming SQL)', 'text'),
  current_schema: constant('public', 'text'),
  current_database: constant('sluice', 'text'),
  current_user: constant('sluice', 'text'),
};

/** Runs `select` (a SelectStmt's fields) against the views; `params` are the `$n` values as text. */
export function readQuery(text: string, select: PgNode, table: (name: string, at: number) => ViewTable, params: readonly (string | null)[]): ReadResult {
  const at = locationOf(select);
  if (select.op !== undefined && select.op !== 'SETOP_NONE') throw unsupported(text, at, 'UNION in a query over views is not supported; run two queries');
  if (select.groupClause !== undefined || select.havingClause !== undefined) throw unsupported(text, at, 'GROUP BY over a view is not supported; group in the view itself (CREATE MATERIALIZED VIEW ... GROUP BY ...)');
  if (select.distinctClause !== undefined) throw unsupported(text, at, 'SELECT DISTINCT over a view is not supported');
  if (select.withClause !== undefined) throw unsupported(text, at, 'WITH is not supported here');
  const from = (select.fromClause ?? []) as PgNode[];
  const param = (node: PgNode): Compiled | undefined => {
    if (node.ParamRef === undefined) return undefined;
    const n = node.ParamRef.number as number;
    if (n < 1 || n > params.length) throw sqlError(text, locationOf(node), `there is no parameter $${n} (${params.length} given)`);
    return constant(params[n - 1], 'text');
  };
  if (from.length === 0) {
    const scope: Scope = { text, replace: param, column: (name, _q, a) => { throw sqlError(text, a, `column ${name} needs FROM a view`); }, call: (name) => SERVER_FUNCTIONS[name] };
    const targets = (select.targetList ?? []) as PgNode[];
    const compiled = targets.map((t) => compileExpr(t.ResTarget.val, scope));
    return { columns: targets.map((t, i) => ({ name: (t.ResTarget.name as string | undefined) ?? outputName(t.ResTarget.val), type: compiled[i]!.type })), rows: [compiled.map((c) => c.fn({}))] };
  }
  if (from.length > 1 || from[0]!.RangeVar === undefined) throw unsupported(text, locationOf(from[0], at), 'a query over views reads one view by name: SELECT ... FROM view');
  const range = from[0]!.RangeVar as PgNode;
  const schema = range.schemaname as string | undefined;
  if (schema === 'pg_catalog' || schema === 'information_schema' || String(range.relname).startsWith('pg_')) {
    throw unsupported(text, locationOf(from[0]), `the ${schema ?? 'pg_catalog'} tables are not served; list views with SHOW VIEWS and columns with DESCRIBE view`);
  }
  const view = table(range.relname as string, locationOf(from[0]));
  const alias = (range.alias?.aliasname as string | undefined) ?? (range.relname as string);
  const types = new Map(view.def.columns.map((c) => [c.name, c.type]));
  const scope: Scope = {
    text,
    replace: param,
    column(name, qualifier, a) {
      if (qualifier !== undefined && qualifier !== alias) throw sqlError(text, a, `there is no relation ${qualifier} here; write ${alias}.${name}`);
      const type = types.get(name);
      if (type === undefined) throw sqlError(text, a, `column ${name} does not exist in view ${view.def.name}; its columns are ${view.def.columns.map((c) => c.name).join(', ')}`);
      return { fn: (row: Row) => row[name], type };
    },
  };
  // Rows: a point lookup when WHERE fixes every primary-key column to a value, else a scan.
  const where = select.whereClause === undefined ? undefined : compileExpr(select.whereClause, scope).fn;
  const fixed = select.whereClause === undefined ? new Map<string, unknown>() : equalities(select.whereClause, scope);
  const pk = view.def.primaryKey;
  let rows: Row[];
  if (pk?.every((k) => fixed.has(k))) {
    const row = view.lookup(pk.map((k) => coerceTo(fixed.get(k), types.get(k)!)));
    rows = row === undefined ? [] : [row];
  } else rows = view.rows();
  if (where !== undefined) rows = rows.filter((r) => where(r) === true);
  // The select list.
  const columns: WireColumn[] = [];
  const fns: ((row: Row) => unknown)[] = [];
  for (const t of (select.targetList ?? []) as PgNode[]) {
    const val = t.ResTarget.val as PgNode;
    if (val.ColumnRef && strings(val.ColumnRef.fields).at(-1) === '*') {
      for (const c of view.def.columns) {
        columns.push({ name: c.name, type: c.type });
        fns.push((row) => row[c.name]);
      }
      continue;
    }
    const c = compileExpr(val, scope);
    columns.push({ name: (t.ResTarget.name as string | undefined) ?? outputName(val), type: c.type });
    fns.push(c.fn);
  }
  let out = rows.map((r) => ({ row: r, values: fns.map((f) => f(r)) }));
  // ORDER BY: an output column's name, or an expression over the view's columns.
  const sorts = ((select.sortClause ?? []) as PgNode[]).map((s) => {
    const sortBy = s.SortBy as PgNode;
    const name = sortBy.node.ColumnRef ? strings(sortBy.node.ColumnRef.fields).at(-1) : undefined;
    const index = name === undefined ? -1 : columns.findIndex((c) => c.name === name);
    const key: (o: { row: Row; values: unknown[] }) => unknown = index >= 0 ? (o) => o.values[index] : ((fn) => (o: { row: Row }) => fn(o.row))(compileExpr(sortBy.node, scope).fn);
    const desc = sortBy.sortby_dir === 'SORTBY_DESC';
    const nullsFirst = sortBy.sortby_nulls === 'SORTBY_NULLS_FIRST' || (sortBy.sortby_nulls !== 'SORTBY_NULLS_LAST' && desc);
    return { key, desc, nullsFirst };
  });
  if (sorts.length > 0) {
    out = out.slice().sort((a, b) => {
      for (const s of sorts) {
        const x = s.key(a) as any;
        const y = s.key(b) as any;
        if (x === y) continue;
        if (x == null) return s.nullsFirst ? -1 : 1;
        if (y == null) return s.nullsFirst ? 1 : -1;
        const order = x < y ? -1 : x > y ? 1 : 0;
        if (order !== 0) return s.desc ? -order : order;
      }
      return 0;
    });
  }
  const offset = select.limitOffset === undefined ? 0 : count(select.limitOffset, scope, 'OFFSET');
  const limit = select.limitCount === undefined ? Number.POSITIVE_INFINITY : count(select.limitCount, scope, 'LIMIT');
  return { columns, rows: out.slice(offset, offset + limit).map((o) => o.values) };
}

function count(node: PgNode, scope: Scope, what: string): number {
  if (node.A_Const?.isnull) return Number.POSITIVE_INFINITY;
  const c = compileExpr(node, scope);
  const n = Number(c.fn({}));
  if (!Number.isInteger(n) || n < 0) throw sqlError(scope.text, locationOf(node), `${what} must be a whole number >= 0`);
  return n;
}

/** `col = value` conditions joined by AND: the values each column is fixed to. */
function equalities(node: PgNode, scope: Scope): Map<string, unknown> {
  const found = new Map<string, unknown>();
  const walk = (n: PgNode): void => {
    if (n.BoolExpr?.boolop === 'AND_EXPR') {
      for (const a of n.BoolExpr.args as PgNode[]) walk(a);
      return;
    }
    const e = n.A_Expr as PgNode | undefined;
    if (e === undefined || e.kind !== 'AEXPR_OP' || strings(e.name)[0] !== '=') return;
    for (const [col, val] of [
      [e.lexpr, e.rexpr],
      [e.rexpr, e.lexpr],
    ] as PgNode[][]) {
      if (col!.ColumnRef === undefined) continue;
      const name = strings(col!.ColumnRef.fields).at(-1)!;
      let value: Compiled;
      try {
        value = compileExpr(val!, { ...scope, column: () => { throw new Error('not a constant'); } });
      } catch {
        continue;
      }
      if (value.constant) found.set(name, value.fn({}));
    }
  };
  walk(node);
  return found;
}

/** A literal or parameter compared with a column of `type` (parameters arrive as text). */
function coerceTo(value: unknown, type: SqlType): unknown {
  if (value === null || value === undefined) return null;
  if ((type === 'bigint' || type === 'double') && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (type === 'boolean' && typeof value === 'string') return value === 't' || value === 'true';
  if (type === 'timestamp' && typeof value === 'string') return parseTimestamp(value);
  return value;
}

function outputName(val: PgNode): string {
  if (val.ColumnRef) return strings(val.ColumnRef.fields).at(-1)!;
  if (val.FuncCall) return strings(val.FuncCall.funcname).at(-1)!.toLowerCase();
  if (val.TypeCast) return outputName(val.TypeCast.arg);
  return '?column?';
}
