/**
 * SQL joins compiled onto the DSL's joins, chosen by what each side is:
 *
 * - two streams: an interval join (`keyBy(...).intervalJoin(...).between(lower, upper)`), the
 *   bounds read from ON (`b.ts BETWEEN a.ts - INTERVAL '10' MINUTE AND a.ts + INTERVAL '10' MINUTE`,
 *   or comparisons of the two event times), INNER, LEFT, RIGHT or FULL;
 * - a stream and a table `FOR SYSTEM_TIME AS OF s.ts`: a temporal join (the stream-table join on
 *   the table's versions, the row valid at the event's time), or `AS OF PROCTIME()` (the latest
 *   row when the event is processed), INNER or LEFT;
 * - two tables: on both primary keys a table-table join (INNER, LEFT, RIGHT, FULL), on the right
 *   table's primary key alone a foreign-key join (INNER, LEFT); the result is a table.
 *
 * A joined row holds each side's columns as `alias.column`, so same-named columns stay apart.
 * Anything else is refused by name, at its line and column.
 */
import type { Stream, Table } from '../api/index.ts';
import { sqlError, unsupported } from './errors.ts';
import { compileExpr, type Scope } from './expr.ts';
import { type Field, type FieldSet, type FromInput, resolveField, rowScope } from './from.ts';
import { forEachColumnRef, locationOf, type PgNode, strings } from './pg.ts';
import type { QueryContext } from './query-context.ts';
import { type Relation, type StreamRelation, type TableRelation, tableKey } from './relation.ts';
import type { TemporalClause } from './statements.ts';
import { isNumeric, type Row, type SqlType } from './types.ts';

type Side = 'left' | 'right';
type FromItem = (item: PgNode, ctx: QueryContext) => FromInput;
type JoinKind = 'inner' | 'left' | 'right' | 'full';

const JOIN_KINDS: Record<string, JoinKind> = { JOIN_INNER: 'inner', JOIN_LEFT: 'left', JOIN_RIGHT: 'right', JOIN_FULL: 'full' };

/** An equality of the ON clause between an expression of each side. */
export interface KeyPair {
  left: PgNode;
  right: PgNode;
  at: number;
}

/** A bound on `right.ts - left.ts` from the ON clause: `>= ms` (lower) or `<= ms` (upper), exclusive ones narrowed by 1 ms. */
export interface TimeBound {
  lowerMs?: number;
  upperMs?: number;
}

export interface JoinParts {
  text: string;
  kind: JoinKind;
  left: FromInput;
  right: FromInput;
  keys: KeyPair[];
  bounds: TimeBound[];
  residual: PgNode[];
  at: number;
  /** Stage name of the join's state: the view's name and the right side's alias. */
  name?: string;
}

/** Compiles `a JOIN b ON ...` (a JoinExpr) into the FROM input of its joined rows. */
export function compileJoin(n: PgNode, ctx: QueryContext, fromItem: FromItem): FromInput {
  const text = ctx.text;
  const at = locationOf(n.rarg, locationOf(n));
  if (n.isNatural) throw unsupported(text, at, 'NATURAL JOIN is not supported; write JOIN ... ON a.k = b.k');
  if (n.usingClause !== undefined) throw unsupported(text, at, 'JOIN ... USING (...) is not supported; write JOIN ... ON a.k = b.k');
  const kind = JOIN_KINDS[n.jointype as string];
  if (kind === undefined) throw unsupported(text, at, `${String(n.jointype).replace('JOIN_', '')} joins are not supported; write JOIN, LEFT JOIN, RIGHT JOIN or FULL JOIN ... ON ...`);
  if (n.quals === undefined) throw unsupported(text, at, "a join without ON (CROSS JOIN) is not supported on streams; write JOIN ... ON a.k = b.k");
  const temporal = temporalOf(n.rarg, ctx.temporal);
  if (temporalOf(n.larg, ctx.temporal) !== undefined) throw unsupported(text, locationOf(n.larg), 'FOR SYSTEM_TIME AS OF goes on the table on the right of the join: stream JOIN table FOR SYSTEM_TIME AS OF stream.ts ON ...');
  const left = fromItem(n.larg, ctx);
  const right = fromItem(n.rarg, ctx);
  for (const side of [left, right]) {
    if (side.tvf !== undefined) throw unsupported(text, locationOf(side === left ? n.larg : n.rarg), 'window table functions in a join (window joins) are not supported yet; join the streams with an interval join, then group the result');
  }
  const clash = left.fields.find((f) => right.fields.some((g) => g.qualifiers[0] === f.qualifiers[0]));
  if (clash !== undefined) throw sqlError(text, at, `both sides of the join are named ${clash.qualifiers[0]}; give one an alias, such as ${clash.qualifiers[0]} AS other`);
  const parts: JoinParts = { text, kind, left, right, keys: [], bounds: [], residual: [], at, ...(ctx.stageName ? { name: `${ctx.stageName}-join-${right.label}` } : {}) };
  classify(parts, n.quals);
  const l = left.relation;
  const r = right.relation;
  if (temporal !== undefined) {
    if (r.table === undefined) throw unsupported(text, temporal.at, `FOR SYSTEM_TIME AS OF reads a table's versions, and ${right.label} is a stream; declare it with CREATE TABLE ... PRIMARY KEY (...), or join two streams with a time bound`);
    if (l.table !== undefined) throw unsupported(text, temporal.at, `a temporal join joins a stream with a table, and ${left.label} is a table too; join two tables with ON on their keys, without FOR SYSTEM_TIME`);
    return temporalJoin(parts, l, r, temporal);
  }
  if (l.table === undefined && r.table === undefined) return intervalJoin(parts, l, r);
  if (l.table !== undefined && r.table !== undefined) return tableJoin(parts, l, r);
  if (l.table === undefined) {
    throw unsupported(text, at, `a regular join of a stream with a table (${right.label}) is not supported (each table change would revise joined rows already emitted); write JOIN ${right.label} FOR SYSTEM_TIME AS OF ${left.label}.${l.rowtime === undefined ? 'event_time' : nameOf(left, l.rowtime)} ON ... (the row valid at the event's time), or FOR SYSTEM_TIME AS OF PROCTIME() (its latest row)`);
  }
  throw unsupported(text, at, `a table (${left.label}) joined with a stream (${right.label}) is not supported; put the stream first: stream JOIN table FOR SYSTEM_TIME AS OF stream.ts ON ...`);
}

export function temporalOf(item: PgNode, clauses: readonly TemporalClause[] | undefined): TemporalClause | undefined {
  if (item?.RangeVar === undefined || clauses === undefined) return undefined;
  return clauses.find((c) => c.at === item.RangeVar.location);
}

/** The bare column name of a field key, for messages. */
function nameOf(from: FromInput, key: string): string {
  return from.fields.find((f) => f.key === key)?.name ?? key;
}

/** The conjuncts of ON: key equalities, bounds on the two event times, and the rest. */
export function classify(parts: JoinParts, quals: PgNode): void {
  const conjuncts: PgNode[] = [];
  const flatten = (node: PgNode): void => {
    if (node.BoolExpr?.boolop === 'AND_EXPR') for (const a of node.BoolExpr.args as PgNode[]) flatten(a);
    else conjuncts.push(node);
  };
  flatten(quals);
  for (const c of conjuncts) {
    const bound = timeBound(parts, c);
    if (bound !== undefined) {
      parts.bounds.push(bound);
      continue;
    }
    const e = c.A_Expr as PgNode | undefined;
    if (e?.kind === 'AEXPR_OP' && strings(e.name).join() === '=') {
      const ls = sideOf(parts, e.lexpr);
      const rs = sideOf(parts, e.rexpr);
      if (ls === 'left' && rs === 'right') {
        parts.keys.push({ left: e.lexpr, right: e.rexpr, at: locationOf(c) });
        continue;
      }
      if (ls === 'right' && rs === 'left') {
        parts.keys.push({ left: e.rexpr, right: e.lexpr, at: locationOf(c) });
        continue;
      }
    }
    parts.residual.push(c);
  }
}

/** Which side's columns an expression reads: one side, both, or none. */
function sideOf(parts: JoinParts, node: unknown): Side | 'both' | 'none' {
  const found = new Set<Side>();
  forEachColumnRef(node, (names, ref) => {
    const name = names.at(-1)!;
    const qualifier = names.length > 1 ? names[0] : undefined;
    const inLeft = parts.left.fields.some((f) => f.name === name && (qualifier === undefined || f.qualifiers.includes(qualifier)));
    const inRight = parts.right.fields.some((f) => f.name === name && (qualifier === undefined || f.qualifiers.includes(qualifier)));
    if (inLeft && inRight) throw sqlError(parts.text, locationOf(ref), `column ${name} is on both sides of the join; write ${parts.left.label}.${name} or ${parts.right.label}.${name}`);
    if (inLeft) found.add('left');
    else if (inRight) found.add('right');
    else resolveField(parts.text, joinedFields(parts), name, qualifier, locationOf(ref));
  });
  return found.size === 2 ? 'both' : found.size === 0 ? 'none' : [...found][0]!;
}

/** `side.ts + ms` in a bound: an event-time column of one side, plus or minus a constant interval. */
function timeTerm(parts: JoinParts, node: PgNode): { side: Side; ms: number } | undefined {
  if (node.ColumnRef !== undefined) {
    const names = strings(node.ColumnRef.fields);
    for (const side of ['left', 'right'] as const) {
      const from = parts[side];
      const rowtime = from.relation.rowtime;
      const f = from.fields.find((x) => x.name === names.at(-1) && (names.length === 1 || x.qualifiers.includes(names[0]!)));
      if (f !== undefined && rowtime !== undefined && f.key === rowtime) return { side, ms: 0 };
    }
    return undefined;
  }
  const e = node.A_Expr as PgNode | undefined;
  const op = e?.kind === 'AEXPR_OP' ? strings(e.name).join() : undefined;
  if (op !== '+' && op !== '-') return undefined;
  const base = timeTerm(parts, e!.lexpr);
  if (base === undefined) return undefined;
  const noColumns: Scope = { text: parts.text, column: (_n, _q, a) => { throw sqlError(parts.text, a, "a join's time bound adds a constant interval to an event time, such as a.ts + INTERVAL '10' MINUTE"); } };
  const c = compileExpr(e!.rexpr, noColumns);
  if (c.type !== 'interval' || !c.constant) throw sqlError(parts.text, locationOf(e!.rexpr), "a join's time bound adds an interval literal, such as a.ts - INTERVAL '10' MINUTE");
  const ms = c.fn({}) as number;
  return { side: base.side, ms: base.ms + (op === '+' ? ms : -ms) };
}

/** A conjunct bounding `right.ts - left.ts`, if it is one: a comparison or BETWEEN of the two event times. */
function timeBound(parts: JoinParts, c: PgNode): TimeBound | undefined {
  const e = c.A_Expr as PgNode | undefined;
  if (e === undefined) return undefined;
  if (e.kind === 'AEXPR_BETWEEN') {
    const [low, high] = (e.rexpr?.List?.items ?? []) as PgNode[];
    if (low === undefined || high === undefined) return undefined;
    const a = compare(parts, e.lexpr, '>=', low);
    const b = compare(parts, e.lexpr, '<=', high);
    return a === undefined || b === undefined ? undefined : { ...a, ...b };
  }
  if (e.kind !== 'AEXPR_OP') return undefined;
  const op = strings(e.name).join();
  if (!['<', '<=', '>', '>=', '='].includes(op)) return undefined;
  return compare(parts, e.lexpr, op, e.rexpr);
}

/** `x op y` with x and y event times of different sides (plus constants), as a bound on right.ts - left.ts. */
function compare(parts: JoinParts, x: PgNode, op: string, y: PgNode): TimeBound | undefined {
  const tx = timeTerm(parts, x);
  const ty = timeTerm(parts, y);
  if (tx === undefined || ty === undefined || tx.side === ty.side) return undefined;
  // right + cr op left + cl  =>  right - left op cl - cr; with the sides the other way round the operator flips.
  const flip: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };
  const rightFirst = tx.side === 'right';
  const d = rightFirst ? ty.ms - tx.ms : tx.ms - ty.ms;
  const o = rightFirst ? op : flip[op]!;
  if (o === '=') return { lowerMs: d, upperMs: d };
  if (o === '>=') return { lowerMs: d };
  if (o === '>') return { lowerMs: d + 1 };
  if (o === '<=') return { upperMs: d };
  return { upperMs: d - 1 };
}

/** The joined rows' fields: each side's as `alias.column`, left then right. */
export function joinedFields(parts: JoinParts): FieldSet {
  return { fields: [...qualified(parts.left).fields, ...qualified(parts.right).fields], label: `${parts.left.label} JOIN ${parts.right.label}`, plain: false };
}

/** The FROM input of the joined rows. */
export function joinedInput(fields: FieldSet, relation: Omit<StreamRelation, 'columns' | 'name'> | Omit<TableRelation, 'columns' | 'name'>): FromInput {
  const columns = fields.fields.map((f) => ({ name: f.key, type: f.type }));
  return { relation: { ...relation, columns, name: fields.label } as Relation, fields: fields.fields, label: fields.label, plain: false };
}

/** A side's fields under `alias.column` (a join's already are), and a copier of its row into a joined row. */
export function qualified(from: FromInput): { fields: Field[]; copy: (row: Row | null, out: Row) => void } {
  const fields = from.fields.map((f) => (from.plain ? { ...f, key: `${f.qualifiers[0]}.${f.name}` } : f));
  const from_ = from.fields.map((f) => f.key);
  const to = fields.map((f) => f.key);
  return {
    fields,
    copy: (row, out) => {
      for (let i = 0; i < to.length; i++) out[to[i]!] = row === null ? null : (row[from_[i]!] ?? null);
    },
  };
}

/** The key of one side's row for a stream join: its key expressions' values; null when one is null (SQL's NULL equals nothing). */
function streamKey(parts: JoinParts, side: Side): (row: Row) => unknown {
  const scope = rowScope(parts.text, parts[side]);
  const fns = parts.keys.map((k) => compileExpr(k[side], scope).fn);
  if (fns.length === 1) {
    const f = fns[0]!;
    return (row) => f(row) ?? null;
  }
  return (row) => {
    const values = fns.map((f) => f(row));
    return values.some((v) => v == null) ? null : values;
  };
}

/**
 * One side of a stream join split by its key: the rows with a key go to the join; those with a
 * null key match nothing, so they are dropped, or on a side an outer join keeps, emitted at once
 * with nulls for the other side.
 */
function splitNullKeys(stream: Stream<Row>, key: (row: Row) => unknown, keep: ((row: Row) => Row | undefined) | undefined): { keyed: Stream<Row>; unmatched?: Stream<Row> } {
  const keyed = stream.filter((row) => key(row) !== null);
  if (keep === undefined) return { keyed };
  return { keyed, unmatched: stream.filter((row) => key(row) === null).flatMap((row) => { const out = keep(row); return out === undefined ? [] : [out]; }) };
}

function checkKeyTypes(parts: JoinParts): void {
  const ls = rowScope(parts.text, parts.left);
  const rs = rowScope(parts.text, parts.right);
  for (const k of parts.keys) {
    const a: SqlType = compileExpr(k.left, ls).type;
    const b: SqlType = compileExpr(k.right, rs).type;
    if (a !== b && a !== 'null' && b !== 'null' && !(isNumeric(a) && isNumeric(b))) throw sqlError(parts.text, k.at, `the join compares ${a.toUpperCase()} with ${b.toUpperCase()}; CAST one side`);
  }
}

/** The residual conditions of ON, compiled over the joined row (all must be true). */
function residualOf(parts: JoinParts, joined: FieldSet): ((row: Row) => boolean) | undefined {
  if (parts.residual.length === 0) return undefined;
  const scope = rowScope(parts.text, joined);
  const fns = parts.residual.map((c) => compileExpr(c, scope).fn);
  return (row) => fns.every((f) => f(row) === true);
}

function needKeys(parts: JoinParts, example: string): void {
  if (parts.keys.length === 0) throw unsupported(parts.text, parts.at, `a join needs an equality of a column of each side in ON (the key both sides are partitioned by); write ${example}`);
}

function intervalJoin(parts: JoinParts, l: StreamRelation, r: StreamRelation): FromInput {
  const { text } = parts;
  const example = `ON ${parts.left.label}.k = ${parts.right.label}.k AND ${parts.right.label}.ts BETWEEN ${parts.left.label}.ts - INTERVAL '10' MINUTE AND ${parts.left.label}.ts + INTERVAL '10' MINUTE`;
  needKeys(parts, example);
  for (const [from, rel] of [[parts.left, l], [parts.right, r]] as const) {
    if (rel.rowtime === undefined) throw unsupported(text, parts.at, `an interval join pairs rows by event time, and ${from.label} has none; declare it in its source (WATERMARK FOR ts AS ts - INTERVAL '5' SECOND), or join a table FOR SYSTEM_TIME AS OF`);
  }
  let lower = Number.NEGATIVE_INFINITY;
  let upper = Number.POSITIVE_INFINITY;
  for (const b of parts.bounds) {
    if (b.lowerMs !== undefined) lower = Math.max(lower, b.lowerMs);
    if (b.upperMs !== undefined) upper = Math.min(upper, b.upperMs);
  }
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) {
    throw unsupported(text, parts.at, `a join of two streams needs both a lower and an upper bound on their event times (a regular join would keep every row forever); write ${example}`);
  }
  if (lower > upper) throw sqlError(text, parts.at, `the join's time bounds leave no time (${parts.right.label}'s event time from ${lower} ms to ${upper} ms after ${parts.left.label}'s), so nothing could match`);
  checkKeyTypes(parts);
  const joined = joinedFields(parts);
  const residual = residualOf(parts, joined);
  if (residual !== undefined && parts.kind !== 'inner') {
    throw unsupported(text, locationOf(parts.residual[0]), `conditions in ON other than key equalities and time bounds are not supported in ${parts.kind.toUpperCase()} interval joins; move them to WHERE, or use an inner JOIN`);
  }
  const lq = qualified(parts.left).copy;
  const rq = qualified(parts.right).copy;
  const type = parts.kind === 'inner' ? 'inner' : parts.kind === 'full' ? 'outer' : 'left';
  const swap = parts.kind === 'right';
  // The DSL's left side keeps unmatched rows in a left join: for RIGHT JOIN that is SQL's right side.
  const [dslLeft, dslRight] = swap ? [r, l] : [l, r];
  const [keyL, keyR] = swap ? [streamKey(parts, 'right'), streamKey(parts, 'left')] : [streamKey(parts, 'left'), streamKey(parts, 'right')];
  const [lowerMs, upperMs] = swap ? [-upper, -lower] : [lower, upper];
  const fn = (a: Row | null, b: Row | null): Row | undefined => {
    const out: Row = {};
    lq(swap ? b : a, out);
    rq(swap ? a : b, out);
    return residual === undefined || residual(out) ? out : undefined;
  };
  const a = splitNullKeys(dslLeft.stream, keyL, type === 'inner' ? undefined : (row) => fn(row, null));
  const b = splitNullKeys(dslRight.stream, keyR, type === 'outer' ? (row) => fn(null, row) : undefined);
  let stream = a.keyed
    .keyBy(keyL)
    .intervalJoin(b.keyed.keyBy(keyR), { type })
    .between(lowerMs, upperMs)
    .process(fn, parts.name ? { name: parts.name } : {})
    .filter((row): row is Row => row !== undefined);
  for (const unmatched of [a.unmatched, b.unmatched]) if (unmatched !== undefined) stream = stream.union(unmatched);
  // The result is stamped with the later row's time, which is neither side's column: no event-time column.
  return joinedInput(joined, { stream, latenessMs: 0 });
}

function temporalJoin(parts: JoinParts, l: StreamRelation, r: TableRelation, clause: TemporalClause): FromInput {
  const { text } = parts;
  if (parts.kind !== 'inner' && parts.kind !== 'left') throw unsupported(text, parts.at, `${parts.kind.toUpperCase()} JOIN is not supported in a temporal join (only stream rows emit); write JOIN or LEFT JOIN`);
  const pk = r.primaryKey ?? [];
  const keyExample = `ON ${parts.left.label}.k = ${parts.right.label}.${pk[0] ?? 'id'}`;
  needKeys(parts, keyExample);
  // The right expressions must be the table's primary key columns, each once.
  const byPk = new Map<string, KeyPair>();
  const rScope = rowScope(text, parts.right);
  for (const k of parts.keys) {
    const ref = k.right.ColumnRef ? strings(k.right.ColumnRef.fields) : undefined;
    const key = ref === undefined ? undefined : resolveField(text, parts.right, ref.at(-1)!, ref.length > 1 ? ref[0] : undefined, k.at).key;
    if (key === undefined || !pk.includes(key)) {
      throw unsupported(text, k.at, `a temporal join looks rows up by the table's primary key (${pk.join(', ')}); compare ${parts.right.label}'s key columns with the stream's, and put other conditions in WHERE`);
    }
    byPk.set(key, k);
  }
  compileExpr(parts.keys[0]!.right, rScope);
  const missing = pk.filter((k) => !byPk.has(k));
  if (missing.length > 0) throw unsupported(text, parts.at, `a temporal join looks rows up by the whole primary key of ${parts.right.label}; add ${missing.map((m) => `AND ${parts.left.label}.${m} = ${parts.right.label}.${m}`).join(' ')}`);
  if (parts.bounds.length > 0) throw unsupported(text, parts.at, 'a temporal join takes its time from FOR SYSTEM_TIME AS OF; drop the time bounds from ON');
  parts.keys = pk.map((k) => byPk.get(k)!);
  checkKeyTypes(parts);
  const versioned = r.table.versioned;
  if (clause.time === 'proctime') {
    if (versioned) throw unsupported(text, clause.timeAt, `${parts.right.label} keeps versions by event time, so a join reads it AS OF the stream's event time: write FOR SYSTEM_TIME AS OF ${parts.left.label}.${l.rowtime === undefined ? 'event_time' : nameOf(parts.left, l.rowtime)}`);
  } else {
    const f = resolveField(text, parts.left, clause.time.column, clause.time.qualifier, clause.timeAt);
    if (l.rowtime === undefined || f.key !== l.rowtime) {
      throw unsupported(text, clause.timeAt, l.rowtime === undefined ? `AS OF reads the stream's event time, and ${parts.left.label} has none; declare it in its source, or write FOR SYSTEM_TIME AS OF PROCTIME()` : `AS OF takes the stream's event time, which for ${parts.left.label} is ${nameOf(parts.left, l.rowtime)}`);
    }
    if (!versioned) throw unsupported(text, clause.timeAt, `${parts.right.label} keeps no versions (it has no event time), so it has no row as of an event's time; declare its event time (WATERMARK FOR updated_at AS updated_at) or write FOR SYSTEM_TIME AS OF PROCTIME()`);
  }
  const joined = joinedFields(parts);
  const residual = residualOf(parts, joined);
  const lq = qualified(parts.left).copy;
  const rq = qualified(parts.right).copy;
  const keyFns = parts.keys.map((k) => compileExpr(k.left, rowScope(text, parts.left)).fn);
  const key = (row: Row): string | null => tableKey(keyFns.map((f) => f(row)));
  const inner = parts.kind === 'inner';
  // With a condition besides the key, a row it rejects is no match: an inner join drops the event, a left join keeps it with nulls.
  const fn = (event: Row, row: Row | null): Row | null => {
    const out: Row = {};
    lq(event, out);
    rq(row, out);
    if (row === null || residual === undefined || residual(out)) return out;
    if (inner) return null;
    rq(null, out);
    return out;
  };
  const keyed = l.stream.keyBy(key);
  const options = parts.name ? { name: parts.name } : {};
  const table = r.table as Table<string | null, Row>;
  const rows = (inner ? keyed.join(table, fn, options) : keyed.leftJoin(table, fn, options)).filter((row): row is Row => row !== null);
  // The result is stamped with the stream row's time: the stream's event-time column stays the event time.
  const rowtime = qualified(parts.left).fields.find((_f, i) => parts.left.fields[i]!.key === l.rowtime)?.key;
  return joinedInput(joined, { stream: rows, latenessMs: l.latenessMs, ...(rowtime ? { rowtime } : {}) });
}

function tableJoin(parts: JoinParts, l: TableRelation, r: TableRelation): FromInput {
  const { text } = parts;
  const lpk = l.primaryKey;
  const rpk = r.primaryKey;
  if (lpk === undefined || rpk === undefined) throw unsupported(text, parts.at, `a join of tables matches rows by their primary keys, and ${(lpk === undefined ? parts.left : parts.right).label} has none among its columns; select its key columns`);
  needKeys(parts, `ON ${parts.left.label}.${lpk[0]} = ${parts.right.label}.${rpk[0]}`);
  if (parts.bounds.length > 0) throw unsupported(text, parts.at, 'a join of tables has no time bounds; drop them from ON');
  checkKeyTypes(parts);
  const columnKey = (from: FromInput, node: PgNode, at: number): string | undefined => {
    const ref = node.ColumnRef ? strings(node.ColumnRef.fields) : undefined;
    return ref === undefined ? undefined : resolveField(text, from, ref.at(-1)!, ref.length > 1 ? ref[0] : undefined, at).key;
  };
  const rightKeys = parts.keys.map((k) => columnKey(parts.right, k.right, k.at));
  const leftKeys = parts.keys.map((k) => columnKey(parts.left, k.left, k.at));
  const covers = (keys: (string | undefined)[], pk: string[]): boolean => keys.length === pk.length && pk.every((c) => keys.includes(c));
  if (!covers(rightKeys, rpk)) {
    throw unsupported(text, parts.at, `a join of tables matches the right table's whole primary key (${rpk.join(', ')}) with columns of the left one (a foreign key), or both primary keys; write ON ${parts.left.label}.fk = ${parts.right.label}.${rpk[0]}`);
  }
  const joined = joinedFields(parts);
  const residual = residualOf(parts, joined);
  if (residual !== undefined && parts.kind !== 'inner') throw unsupported(text, locationOf(parts.residual[0]), `conditions in ON besides the keys are not supported in ${parts.kind.toUpperCase()} joins of tables; move them to WHERE`);
  const lq = qualified(parts.left).copy;
  const rq = qualified(parts.right).copy;
  const build = (a: Row | null, b: Row | null): Row => {
    const out: Row = {};
    lq(a, out);
    rq(b, out);
    return out;
  };
  const options = parts.name ? { name: parts.name } : {};
  // The pairs in the right primary key's order: the key the left row names.
  const order = rpk.map((c) => rightKeys.indexOf(c));
  const onBothKeys = covers(leftKeys, lpk) && order.every((i, j) => leftKeys[i] === lpk[j]);
  let table: TableRelation['table'];
  let primaryKey: string[];
  const lfields = qualified(parts.left).fields;
  const rfields = qualified(parts.right).fields;
  const qualifiedKey = (from: FromInput, fields: Field[], key: string): string => fields[from.fields.findIndex((f) => f.key === key)]!.key;
  if (onBothKeys) {
    // RIGHT JOIN: the right table's rows are the ones kept; both are keyed the same, so the result is too.
    if (parts.kind === 'right') table = r.table.leftJoin(l.table, (b, a) => build(a, b), options);
    else if (parts.kind === 'left') table = l.table.leftJoin(r.table, build, options);
    else if (parts.kind === 'full') table = l.table.outerJoin(r.table, build, options);
    else table = l.table.join(r.table, build, options);
    primaryKey = (parts.kind === 'right' ? rpk.map((k) => qualifiedKey(parts.right, rfields, k)) : lpk.map((k) => qualifiedKey(parts.left, lfields, k)));
  } else {
    if (parts.kind !== 'inner' && parts.kind !== 'left') throw unsupported(text, parts.at, `${parts.kind.toUpperCase()} JOIN on a foreign key is not supported; write JOIN or LEFT JOIN (each row of ${parts.left.label} with the row of ${parts.right.label} it names)`);
    const fks = order.map((i) => compileExpr(parts.keys[i]!.left, rowScope(text, parts.left)).fn);
    const fk = (row: Row): string | null => tableKey(fks.map((f) => f(row)));
    table = parts.kind === 'inner' ? l.table.join(r.table, fk, build, options) : l.table.leftJoin(r.table, fk, build, options);
    primaryKey = lpk.map((k) => qualifiedKey(parts.left, lfields, k));
  }
  if (residual !== undefined) table = table.filter((row) => residual(row));
  return joinedInput(joined, { table, latenessMs: 0, primaryKey });
}
