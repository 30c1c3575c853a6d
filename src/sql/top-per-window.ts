/**
 * A planner rewrite of "the rows holding their window's maximum" (Nexmark q7's highest bid):
 *
 *   bids b JOIN maxes m ON b.price = m.maxprice AND b.ts BETWEEN m.rt - INTERVAL '9999' MILLISECOND AND m.rt
 *
 * where `maxes` is a view `SELECT MAX(price) AS maxprice, TUMBLE_ROWTIME(ts, size) AS rt FROM bids
 * GROUP BY TUMBLE(ts, size)` over the same relation (any GROUP BY keys joined on too), and the
 * time bound is exactly the window (rt - (size - 1 ms) .. rt). The general plan, an interval join,
 * holds every row of a window in its state (and checkpoints them all) until the maximum arrives
 * at the window's end. This plan keeps per window and key the current maximum and the rows that
 * have it (every tie, as the join emits each), drops a row below it at once, and emits the rows
 * when the window closes, with m's columns filled from the window: the joined rows of the join.
 *
 * Anything else (another relation, window or bound, conditions besides these, an outer join,
 * allowed lateness, whose re-fired maxima the join would pair again) keeps the general plan.
 */
import type { Stream, WindowResult } from '../api/index.ts';
import { Windows } from '../time/index.ts';
import { compileExpr, type Scope } from './expr.ts';
import type { Field, FromInput } from './from.ts';
import { classify, type JoinParts, joinedFields, joinedInput, qualified, temporalOf } from './join.ts';
import { locationOf, nodeKind, type PgNode, shapeOf, strings } from './pg.ts';
import type { QueryContext, ViewQuery } from './query-context.ts';
import type { StreamRelation } from './relation.ts';
import type { Row } from './types.ts';

type FromItem = (item: PgNode, ctx: QueryContext) => FromInput;

/** What each column of the MAX view holds. */
type ViewColumn = { kind: 'max' } | { kind: 'rowtime' | 'start' | 'end' } | { kind: 'key'; column: string };

/** A view `SELECT MAX(c), TUMBLE_ROWTIME(ts, size), ... FROM base GROUP BY keys, TUMBLE(ts, size)`, read from its parse tree. */
interface MaxView {
  base: string;
  sizeMs: number;
  time: string;
  maxOf: string;
  keys: string[];
  columns: ViewColumn[];
  latenessMs?: number;
}

/** The rows of a window (and key) holding its maximum so far; `rows` is empty before the first. */
interface Top {
  max: unknown;
  rows: Row[];
}

/** The top-per-window plan of a JoinExpr, or undefined when the join is not that pattern exactly. */
export function topPerWindowJoin(n: PgNode, ctx: QueryContext, fromItem: FromItem): FromInput | undefined {
  if (ctx.topPerWindow === false || ctx.view === undefined) return undefined;
  if (n.jointype !== 'JOIN_INNER' || n.isNatural || n.usingClause !== undefined || n.quals === undefined) return undefined;
  if (temporalOf(n.larg, ctx.temporal) !== undefined || temporalOf(n.rarg, ctx.temporal) !== undefined) return undefined;
  const left = rangeVar(n.larg);
  const right = rangeVar(n.rarg);
  if (left === undefined || right === undefined) return undefined;
  for (const maxSide of ['right', 'left'] as const) {
    const [m, b] = maxSide === 'right' ? [right, left] : [left, right];
    const view = ctx.view(m.name);
    const max = view === undefined ? undefined : maxView(view);
    if (view === undefined || max === undefined || max.base !== b.name) continue;
    return plan(n, ctx, fromItem, maxSide, view, max);
  }
  return undefined;
}

function rangeVar(item: PgNode): { name: string; alias: string } | undefined {
  const r = item?.RangeVar as PgNode | undefined;
  if (r === undefined || r.schemaname !== undefined) return undefined;
  return { name: r.relname, alias: r.alias?.aliasname ?? r.relname };
}

/** The view as a per-window MAX, if it is exactly one. */
function maxView(view: ViewQuery): MaxView | undefined {
  const [kind, s] = nodeKind(view.query);
  if (kind !== 'SelectStmt' || (s.op !== undefined && s.op !== 'SETOP_NONE')) return undefined;
  for (const clause of ['whereClause', 'havingClause', 'distinctClause', 'sortClause', 'limitCount', 'limitOffset', 'withClause', 'windowClause', 'valuesLists', 'intoClause']) {
    if (s[clause] !== undefined) return undefined;
  }
  const from = (s.fromClause ?? []) as PgNode[];
  const base = from.length === 1 ? rangeVar(from[0]!) : undefined;
  if (base === undefined) return undefined;
  const column = (node: PgNode | undefined): string | undefined => {
    const names = node?.ColumnRef ? strings(node.ColumnRef.fields) : undefined;
    if (names === undefined || names.length === 0 || names.length > 2) return undefined;
    if (names.length === 2 && names[0] !== base.alias && names[0] !== base.name) return undefined;
    return names.at(-1);
  };
  let window: { args: string; time: string; sizeMs: number } | undefined;
  const keys: string[] = [];
  for (const g of (s.groupClause ?? []) as PgNode[]) {
    const fc = g.FuncCall as PgNode | undefined;
    if (fc !== undefined && strings(fc.funcname).at(-1)?.toLowerCase() === 'tumble' && window === undefined) {
      const args = (fc.args ?? []) as PgNode[];
      const time = column(args[0]);
      const sizeMs = args.length === 2 ? intervalMs(args[1]!, view.text) : undefined;
      if (time === undefined || sizeMs === undefined) return undefined;
      window = { args: shapeOf(args), time, sizeMs };
      continue;
    }
    const key = column(g);
    if (key === undefined) return undefined;
    keys.push(key);
  }
  if (window === undefined) return undefined;
  let maxOf: string | undefined;
  const columns: ViewColumn[] = [];
  for (const t of (s.targetList ?? []) as PgNode[]) {
    const val = t.ResTarget?.val as PgNode | undefined;
    const fc = val?.FuncCall as PgNode | undefined;
    const name = fc === undefined ? undefined : strings(fc.funcname).at(-1)?.toLowerCase();
    const args = (fc?.args ?? []) as PgNode[];
    if (name === 'max' && maxOf === undefined && args.length === 1 && !fc!.agg_star && !fc!.agg_distinct && fc!.agg_filter === undefined && fc!.agg_order === undefined && fc!.over === undefined) {
      maxOf = column(args[0]);
      if (maxOf === undefined) return undefined;
      columns.push({ kind: 'max' });
    } else if ((name === 'tumble_rowtime' || name === 'tumble_start' || name === 'tumble_end') && shapeOf(args) === window.args) {
      columns.push({ kind: name === 'tumble_rowtime' ? 'rowtime' : name === 'tumble_start' ? 'start' : 'end' });
    } else {
      const key = fc === undefined ? column(val) : undefined;
      if (key === undefined || !keys.includes(key)) return undefined;
      columns.push({ kind: 'key', column: key });
    }
  }
  if (maxOf === undefined || !columns.some((c) => c.kind === 'rowtime') || columns.length !== view.columns.length) return undefined;
  return { base: base.name, sizeMs: window.sizeMs, time: window.time, maxOf, keys, columns, ...(view.emit?.latenessMs === undefined ? {} : { latenessMs: view.emit.latenessMs }) };
}

function intervalMs(node: PgNode, text: string): number | undefined {
  const constantsOnly: Scope = {
    text,
    column: () => {
      throw new Error('not a constant');
    },
  };
  try {
    const c = compileExpr(node, constantsOnly);
    const ms = c.type === 'interval' && c.constant ? (c.fn({}) as number) : undefined;
    return ms !== undefined && ms > 0 && Number.isInteger(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

function plan(n: PgNode, ctx: QueryContext, fromItem: FromItem, maxSide: 'left' | 'right', view: ViewQuery, max: MaxView): FromInput | undefined {
  const text = ctx.text;
  const b = fromItem(maxSide === 'right' ? n.larg : n.rarg, ctx);
  const rel = b.relation;
  if (rel.table !== undefined || !b.plain || b.tvf !== undefined || rel.rowtime !== max.time) return undefined;
  if ((max.latenessMs ?? rel.latenessMs) > 0) return undefined;
  if (![max.maxOf, ...max.keys].every((c) => rel.columns.some((col) => col.name === c))) return undefined;
  const m = viewInput(view, maxSide === 'right' ? n.rarg : n.larg, max, ctx);
  if (m.fields[0]?.qualifiers[0] === b.fields[0]?.qualifiers[0]) return undefined;
  const [l, r] = maxSide === 'right' ? [b, m] : [m, b];
  const at = locationOf(n.rarg, locationOf(n));
  const parts: JoinParts = { text, kind: 'inner', left: l, right: r, keys: [], bounds: [], residual: [], at };
  try {
    classify(parts, n.quals);
  } catch {
    return undefined; // the general plan reports what is wrong with ON
  }
  if (parts.residual.length > 0 || !coversTheWindow(parts, maxSide, max.sizeMs) || !joinsOnMaxAndKeys(parts, maxSide, b, m, max)) return undefined;
  const name = ctx.stageName === undefined ? undefined : `${ctx.stageName}-top-${m.label}`;
  // Keyed as the join's results are (a sink writes the key): by the values of ON's equalities, in their order.
  const rowKeys = qualified(b).fields;
  const keyFields = parts.keys.map((pair) => rowKeys[b.fields.findIndex((f) => f.key === columnKey(b, maxSide === 'right' ? pair.left : pair.right))]!.key);
  const joinKey: (row: Row) => unknown = keyFields.length === 1 ? (row) => row[keyFields[0]!] : (row) => keyFields.map((k) => row[k]);
  const stream = topRows(inputOf(rel, max, name), l, r, maxSide, max, name).keyBy(joinKey, name ? { name: `${name}-join-key` } : {});
  return joinedInput(joinedFields(parts), { stream, latenessMs: 0 });
}

/** The view as a FROM input under its alias; its rows (never read by this plan) are the compiled view's. */
function viewInput(view: ViewQuery, item: PgNode, max: MaxView, ctx: QueryContext): FromInput {
  const { name, alias } = rangeVar(item)!;
  const qualifiers = alias === name ? [name] : [alias, name];
  const fields: Field[] = view.columns.map((c) => ({ name: c.name, qualifiers, key: c.name, type: c.type }));
  const rowtime = view.columns[max.columns.findIndex((c) => c.kind === 'rowtime')]!.name;
  const at = locationOf(item);
  const relation: StreamRelation = {
    get stream(): Stream<Row> {
      return (ctx.relation(name, at) as StreamRelation).stream;
    },
    columns: [...view.columns],
    latenessMs: 0,
    name,
    rowtime,
  };
  return { relation, fields, label: alias, plain: true };
}

/** Whether the time bounds of ON are exactly the window: the row's time from rt - (size - 1 ms) to rt. */
function coversTheWindow(parts: JoinParts, maxSide: 'left' | 'right', sizeMs: number): boolean {
  let lower = Number.NEGATIVE_INFINITY;
  let upper = Number.POSITIVE_INFINITY;
  for (const bound of parts.bounds) {
    if (bound.lowerMs !== undefined) lower = Math.max(lower, bound.lowerMs);
    if (bound.upperMs !== undefined) upper = Math.min(upper, bound.upperMs);
  }
  // The bounds are on right.ts - left.ts: rt - ts in [0, size - 1] with the maxima on the right.
  return maxSide === 'right' ? lower === 0 && upper === sizeMs - 1 : lower === -(sizeMs - 1) && upper === 0;
}

/** Whether the equalities of ON are the row's column = the maximum, and each GROUP BY key with itself, and nothing else. */
/** The field a bare column reference of ON names in `from`, if exactly one. */
function columnKey(from: FromInput, node: PgNode): string | undefined {
  const names = node.ColumnRef ? strings(node.ColumnRef.fields) : undefined;
  if (names === undefined) return undefined;
  const found = from.fields.filter((f) => f.name === names.at(-1) && (names.length === 1 || f.qualifiers.includes(names[0]!)));
  return found.length === 1 ? found[0]!.key : undefined;
}

function joinsOnMaxAndKeys(parts: JoinParts, maxSide: 'left' | 'right', b: FromInput, m: FromInput, max: MaxView): boolean {
  let onMax = false;
  const keys = new Set<string>();
  for (const pair of parts.keys) {
    const [rowNode, maxNode] = maxSide === 'right' ? [pair.left, pair.right] : [pair.right, pair.left];
    const column = columnKey(b, rowNode);
    const viewColumn = columnKey(m, maxNode);
    const what = viewColumn === undefined ? undefined : max.columns[m.fields.findIndex((f) => f.key === viewColumn)];
    if (column === undefined || what === undefined) return false;
    if (what.kind === 'max' && column === max.maxOf) onMax = true;
    else if (what.kind === 'key' && what.column === column) keys.add(column);
    else return false;
  }
  return onMax && max.keys.every((k) => keys.has(k));
}

/** What the aggregate reads: rows, or a view's source records (rows are built only for those that lead). */
interface TopInput {
  stream: Stream<any>;
  /** The values of `columns` of an element, written into a scratch row. */
  read(element: unknown, columns: readonly string[]): Row;
  row(element: unknown): Row;
}

function inputOf(rel: StreamRelation, max: MaxView, name: string | undefined): TopInput {
  const records = rel.records;
  if (records === undefined) return { stream: rel.stream, read: (row) => row as Row, row: (row) => row as Row };
  const { filler, checked } = records;
  const check: Row = {};
  const scratch: Row = {};
  // Every record is converted in the view's columns first, as building its row would: one that does not fit goes to the dead-letter topic.
  const { maxOf, keys } = max;
  const checkAll = filler(checked);
  const stream = records.stream.filter((v) => {
    checkAll(v, check);
    return check[maxOf] != null && keys.every((k) => check[k] != null);
  }, name ? { name: `${name}-columns` } : {});
  // Fillers of the column lists the aggregate reads (the maximum's column, the keys), made once.
  const fillers = new Map<readonly string[], (value: Record<string, unknown>, row: Row) => Row>();
  const rowOf = filler(rel.columns.map((c) => c.name));
  return {
    stream,
    read: (v, cols) => {
      let fill = fillers.get(cols);
      if (fill === undefined) fillers.set(cols, (fill = filler(cols)));
      return fill(v as Record<string, unknown>, scratch);
    },
    row: (v) => rowOf(v as Record<string, unknown>, {}),
  };
}

/** The joined rows: per window and key the rows holding the maximum, with the view's columns from the window. */
function topRows(input: TopInput, l: FromInput, r: FromInput, maxSide: 'left' | 'right', max: MaxView, name: string | undefined): Stream<Row> {
  const { maxOf, keys } = max;
  const [rowSide, maxInput] = maxSide === 'right' ? [qualified(l), r] : [qualified(r), l];
  const maxFields = qualified(maxInput).fields.map((f) => f.key);
  const { read } = input;
  const maxColumn = [maxOf];
  const keyOf: (element: unknown) => unknown =
    keys.length === 0 ? () => null : keys.length === 1 ? (e) => read(e, keys)[keys[0]!] : (e) => { const row = read(e, keys); return keys.map((k) => row[k]); };
  const add = (_key: unknown, element: unknown, top: Top): Top => {
    const v = read(element, maxColumn)[maxOf] as number;
    // A row with a null maximum column or key joins nothing (SQL's NULL equals nothing; MAX skips
    // it too): skipped here rather than by a filter stage, so a null key's window emits no row.
    if (v == null || (keys.length > 0 && keys.some((k) => read(element, keys)[k] == null))) return top;
    if (top.rows.length === 0 || v > (top.max as number)) return { max: v, rows: [input.row(element)] };
    // A new state for a tie too: the operator's state is never changed in place.
    if (v === top.max) return { max: top.max, rows: [...top.rows, input.row(element)] };
    return top;
  };
  const windows = input.stream
    .keyBy(keyOf, name ? { name: `${name}-key` } : {})
    .window(Windows.tumbling(max.sizeMs))
    .aggregate<Top>(() => ({ max: null, rows: [] }), add, name ? { name } : {});
  return windows.flatMap((w: WindowResult<unknown, Top>) =>
    w.value.rows.map((row) => {
      const out: Row = {};
      const fillMax = (): void => {
        max.columns.forEach((c, i) => {
          out[maxFields[i]!] = viewValue(c, w, row);
        });
      };
      if (maxSide === 'left') fillMax();
      rowSide.copy(row, out);
      if (maxSide === 'right') fillMax();
      return out;
    }),
  );
}

/** A column of the MAX view for a row holding the maximum of window `w`: what the view's row has. */
function viewValue(c: ViewColumn, w: WindowResult<unknown, Top>, row: Row): unknown {
  if (c.kind === 'key') return row[c.column];
  if (c.kind === 'max') return w.value.max;
  // TUMBLE_ROWTIME is the window's last millisecond, as the view's rows are stamped.
  return c.kind === 'rowtime' ? w.end - 1 : c.kind === 'start' ? w.start : w.end;
}
