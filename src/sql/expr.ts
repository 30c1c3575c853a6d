/**
 * Expressions: a Postgres expression node compiled once into a plain function of the row, with
 * its SQL type. NULL follows SQL: it propagates through arithmetic and comparisons, AND/OR are
 * three-valued, and WHERE keeps a row only when its condition is true.
 */
import { sqlError, unsupported } from './errors.ts';
import { callFunction } from './functions.ts';
import { intervalMs, unitOfTypmod } from './interval.ts';
import { locationOf, nodeKind, type PgNode, strings } from './pg.ts';
import { type Compiled, constant, convert, converter, isNumeric, numericType, parseTimestamp, SUPPORTED_TYPES, type SqlType, typeNamed } from './types.ts';

export type { Compiled } from './types.ts';


/** What names and calls mean where an expression is compiled. */
export interface Scope {
  readonly text: string;
  /** A column reference (`name` or `qualifier.name`). */
  column(name: string, qualifier: string | undefined, at: number): Compiled;
  /** The whole expression, when the scope gives it a meaning of its own (a GROUP BY key after aggregation). */
  replace?(node: PgNode): Compiled | undefined;
  /** A call the scope handles (aggregates, TUMBLE_START, ...); undefined when it does not. */
  call?(name: string, node: PgNode): Compiled | undefined;
}


/** Compiles `node` in `scope`. */
export function compileExpr(node: PgNode, scope: Scope): Compiled {
  const replaced = scope.replace?.(node);
  if (replaced !== undefined) return replaced;
  const [kind, n] = nodeKind(node);
  const at = locationOf(node);
  switch (kind) {
    case 'ColumnRef': {
      const names = strings(n.fields);
      if (names.includes('*')) throw sqlError(scope.text, at, '* is only allowed as a whole select item (SELECT *) or in COUNT(*)');
      if (names.length > 2) throw unsupported(scope.text, at, `${names.join('.')}: nested fields are not supported; name a top-level column`);
      return names.length === 2 ? scope.column(names[1]!, names[0], at) : scope.column(names[0]!, undefined, at);
    }
    case 'A_Const':
      return literal(n);
    case 'TypeCast':
      return typeCast(n, scope, at);
    case 'A_Expr':
      return aExpr(n, scope, at);
    case 'BoolExpr':
      return boolExpr(n, scope);
    case 'NullTest': {
      const arg = compileExpr(n.arg, scope);
      const isNull = n.nulltesttype === 'IS_NULL';
      return { fn: (row) => (arg.fn(row) == null) === isNull, type: 'boolean' };
    }
    case 'BooleanTest': {
      const arg = compileExpr(n.arg, scope);
      const test: Record<string, (v: unknown) => boolean> = {
        IS_TRUE: (v) => v === true,
        IS_NOT_TRUE: (v) => v !== true,
        IS_FALSE: (v) => v === false,
        IS_NOT_FALSE: (v) => v !== false,
        IS_UNKNOWN: (v) => v == null,
        IS_NOT_UNKNOWN: (v) => v != null,
      };
      const t = test[n.booltesttype as string]!;
      return { fn: (row) => t(arg.fn(row)), type: 'boolean' };
    }
    case 'CaseExpr':
      return caseExpr(n, scope);
    case 'CoalesceExpr': {
      const args = (n.args as PgNode[]).map((a) => compileExpr(a, scope));
      return {
        fn: (row) => {
          for (const a of args) {
            const v = a.fn(row);
            if (v != null) return v;
          }
          return null;
        },
        type: args.find((a) => a.type !== 'null')?.type ?? 'null',
      };
    }
    case 'MinMaxExpr': {
      const args = (n.args as PgNode[]).map((a) => compileExpr(a, scope));
      const greatest = n.op === 'IS_GREATEST';
      return {
        fn: (row) => {
          let best: any = null;
          for (const a of args) {
            const v = a.fn(row) as any;
            if (v != null && (best === null || (greatest ? v > best : v < best))) best = v;
          }
          return best;
        },
        type: args.find((a) => a.type !== 'null')?.type ?? 'null',
      };
    }
    case 'FuncCall':
      return funcCall(n, node, scope, at);
    case 'SubLink':
      throw unsupported(scope.text, at, 'subqueries in expressions are not supported; use a view and GROUP BY, or a subquery in FROM');
    case 'SQLValueFunction':
      throw unsupported(scope.text, at, 'CURRENT_TIMESTAMP and friends read the wall clock, which would make results depend on when they run; use the event-time column instead');
    case 'ParamRef':
      throw unsupported(scope.text, at, 'query parameters ($1) are only supported when reading views over the Postgres protocol');
    default:
      throw unsupported(scope.text, at, `this expression (${kind}) is not supported`);
  }
}

function literal(n: PgNode): Compiled {
  if (n.isnull) return constant(null, 'null');
  if (n.ival !== undefined) return constant(n.ival.ival ?? 0, 'bigint');
  if (n.fval !== undefined) return constant(Number(n.fval.fval), 'double');
  if (n.sval !== undefined) return constant(n.sval.sval ?? '', 'text');
  if (n.boolval !== undefined) return constant(n.boolval.boolval === true, 'boolean');
  return constant(null, 'null');
}

function typeOfName(typeName: PgNode, text: string, at: number): SqlType {
  const names = strings(typeName.names).filter((s) => s !== 'pg_catalog');
  const type = typeNamed(names.join(' '));
  if (type === undefined) throw unsupported(text, at, `type ${names.join(' ').toUpperCase()} is not supported; use one of ${SUPPORTED_TYPES}`);
  return type;
}

function typeCast(n: PgNode, scope: Scope, at: number): Compiled {
  const type = typeOfName(n.typeName, scope.text, at);
  const arg = compileExpr(n.arg, scope);
  if (type === 'interval') {
    if (!arg.constant || arg.type !== 'text') throw unsupported(scope.text, at, "only interval literals are supported, such as INTERVAL '5' SECOND");
    const typmod = n.typeName.typmods?.[0]?.A_Const?.ival?.ival as number | undefined;
    const ms = intervalMs(String(arg.fn({})), unitOfTypmod(typmod));
    if (typeof ms === 'string') throw sqlError(scope.text, at, ms);
    return constant(ms, 'interval');
  }
  const what = `CAST to ${type.toUpperCase()}`;
  if (arg.constant) {
    let value: unknown;
    try {
      value = convert(arg.fn({}), type, what);
    } catch (error) {
      throw sqlError(scope.text, at, (error as Error).message);
    }
    return constant(value, type);
  }
  if (type === 'timestamp' && arg.type === 'timestamp') return arg;
  // CAST(timestamp AS BIGINT) gives epoch ms; CAST(timestamp AS TEXT) its ISO form.
  if (arg.type === 'timestamp' && type === 'text') return { fn: (row) => ((v) => (v == null ? null : new Date(v as number).toISOString()))(arg.fn(row)), type };
  const cast = converter(type, what);
  const value = arg.fn;
  return { fn: (row) => cast(value(row)), type };
}

/** A text literal compared with a timestamp becomes a timestamp. */
function coerce(a: Compiled, b: Compiled, text: string, at: number): [Compiled, Compiled] {
  const toTs = (c: Compiled): Compiled => {
    const ms = parseTimestamp(c.fn({}));
    if (!Number.isFinite(ms)) throw sqlError(text, at, `'${String(c.fn({}))}' is not a timestamp; write an ISO-8601 time such as '2024-01-01 10:00:00'`);
    return constant(ms, 'timestamp');
  };
  if (a.type === 'timestamp' && b.constant && b.type === 'text') return [a, toTs(b)];
  if (b.type === 'timestamp' && a.constant && a.type === 'text') return [toTs(a), b];
  // A number written as text (a query parameter, '42') compared with a number is that number, as Postgres types an unknown literal.
  const toNumber = (c: Compiled): Compiled | undefined => {
    const v = c.fn({});
    return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? constant(Number(v), /^-?\d+$/.test(v.trim()) ? 'bigint' : 'double') : undefined;
  };
  if ((a.type === 'bigint' || a.type === 'double') && b.constant && b.type === 'text') return [a, toNumber(b) ?? b];
  if ((b.type === 'bigint' || b.type === 'double') && a.constant && a.type === 'text') return [toNumber(a) ?? a, b];
  return [a, b];
}

const COMPARE: Record<string, (a: any, b: any) => boolean> = {
  '=': (a, b) => a === b,
  '<>': (a, b) => a !== b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
};

function binary(op: string, l: Compiled, r: Compiled, text: string, at: number): Compiled {
  [l, r] = coerce(l, r, text, at);
  const strict = (f: (a: any, b: any) => unknown, type: SqlType): Compiled => {
    const left = l.fn;
    const right = r.fn;
    // A literal operand (price * 0.908, type = 'bid') is read once, here.
    const rightLiteral = r.constant === true && !l.constant;
    const literal = rightLiteral ? right({}) : undefined;
    const fn = rightLiteral
        ? (row: unknown) => {
            const a = left(row);
            return a == null || literal == null ? null : f(a, literal);
          }
        : (row: unknown) => {
            const a = left(row);
            if (a == null) return null;
            const b = right(row);
            return b == null ? null : f(a, b);
          };
    return l.constant && r.constant ? constant(fn({}), type) : { fn, type };
  };
  const compare = COMPARE[op];
  if (compare !== undefined) return strict(compare, 'boolean');
  if (op === '||') return strict((a, b) => `${typeof a === 'object' ? JSON.stringify(a) : a}${typeof b === 'object' ? JSON.stringify(b) : b}`, 'text');
  const times = new Set<SqlType>(['timestamp', 'interval']);
  if (times.has(l.type) || times.has(r.type)) {
    if (op === '+' && ((l.type === 'timestamp' && r.type === 'interval') || (l.type === 'interval' && r.type === 'timestamp'))) return strict((a, b) => a + b, 'timestamp');
    if (op === '-' && l.type === 'timestamp' && r.type === 'interval') return strict((a, b) => a - b, 'timestamp');
    if (op === '-' && l.type === 'timestamp' && r.type === 'timestamp') return strict((a, b) => a - b, 'interval');
    if ((op === '+' || op === '-') && l.type === 'interval' && r.type === 'interval') return strict(op === '+' ? (a, b) => a + b : (a, b) => a - b, 'interval');
    if ((op === '*' || op === '/') && l.type === 'interval' && isNumeric(r.type)) return strict(op === '*' ? (a, b) => a * b : (a, b) => a / b, 'interval');
    throw sqlError(text, at, `${l.type.toUpperCase()} ${op} ${r.type.toUpperCase()} is not defined; timestamps take + and - with an INTERVAL, and - with another timestamp`);
  }
  if (!isNumeric(l.type) || !isNumeric(r.type)) {
    throw sqlError(text, at, `operator ${op} needs numbers, got ${l.type.toUpperCase()} and ${r.type.toUpperCase()}; CAST(x AS DOUBLE) converts text to a number${op === '+' ? ', and || joins text' : ''}`);
  }
  const type = numericType(l.type, r.type);
  switch (op) {
    case '+':
      return strict((a, b) => a + b, type);
    case '-':
      return strict((a, b) => a - b, type);
    case '*':
      return strict((a, b) => a * b, type);
    case '/':
      // Integer division truncates, as in Postgres; a division by zero is NULL rather than a failed record.
      return strict(type === 'bigint' ? (a, b) => (b === 0 ? null : Math.trunc(a / b)) : (a, b) => (b === 0 ? null : a / b), type);
    case '%':
      return strict((a, b) => (b === 0 ? null : a % b), type);
    default:
      throw unsupported(text, at, `operator ${op} is not supported`);
  }
}

function likeRegex(pattern: string, insensitive: boolean): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) source += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, insensitive ? 'i' : '');
}

function aExpr(n: PgNode, scope: Scope, at: number): Compiled {
  const op = strings(n.name)[0] ?? '';
  const text = scope.text;
  switch (n.kind as string) {
    case 'AEXPR_OP': {
      if (n.lexpr === undefined) {
        const r = compileExpr(n.rexpr, scope);
        if (op === '-') return binary('-', constant(0, r.type === 'interval' ? 'interval' : 'bigint'), r, text, at);
        if (op === '+') return r;
        throw unsupported(text, at, `prefix operator ${op} is not supported`);
      }
      return binary(op, compileExpr(n.lexpr, scope), compileExpr(n.rexpr, scope), text, at);
    }
    case 'AEXPR_IN': {
      const l = compileExpr(n.lexpr, scope);
      const items = listItems(n.rexpr).map((x) => coerce(l, compileExpr(x, scope), text, at)[1]);
      const negate = op === '<>';
      return {
        fn: (row) => {
          const v = l.fn(row);
          if (v == null) return null;
          let sawNull = false;
          for (const item of items) {
            const w = item.fn(row);
            if (w === v) return !negate;
            if (w == null) sawNull = true;
          }
          return sawNull ? null : negate;
        },
        type: 'boolean',
      };
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN': {
      const [lo, hi] = listItems(n.rexpr);
      const v = compileExpr(n.lexpr, scope);
      const ge = binary('>=', v, compileExpr(lo!, scope), text, at);
      const le = binary('<=', v, compileExpr(hi!, scope), text, at);
      const negate = n.kind === 'AEXPR_NOT_BETWEEN';
      return {
        fn: (row) => {
          const a = ge.fn(row);
          const b = le.fn(row);
          const both = a === false || b === false ? false : a == null || b == null ? null : true;
          return both == null ? null : negate ? !both : both;
        },
        type: 'boolean',
      };
    }
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE': {
      const l = compileExpr(n.lexpr, scope);
      const pattern = compileExpr(n.rexpr, scope);
      const negate = op.startsWith('!');
      const insensitive = n.kind === 'AEXPR_ILIKE';
      const fixed = pattern.constant ? likeRegex(String(pattern.fn({})), insensitive) : undefined;
      return {
        fn: (row) => {
          const v = l.fn(row);
          const p = pattern.fn(row);
          if (v == null || p == null) return null;
          const matched = (fixed ?? likeRegex(String(p), insensitive)).test(String(v));
          return negate ? !matched : matched;
        },
        type: 'boolean',
      };
    }
    case 'AEXPR_NULLIF': {
      const l = compileExpr(n.lexpr, scope);
      const r = compileExpr(n.rexpr, scope);
      return { fn: (row) => ((v) => (v === r.fn(row) ? null : v))(l.fn(row)), type: l.type };
    }
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT': {
      const [l, r] = coerce(compileExpr(n.lexpr, scope), compileExpr(n.rexpr, scope), text, at);
      const distinct = n.kind === 'AEXPR_DISTINCT';
      return { fn: (row) => ((a, b) => ((a ?? null) !== (b ?? null)) === distinct)(l.fn(row), r.fn(row)), type: 'boolean' };
    }
    default:
      throw unsupported(text, at, `this operator (${String(n.kind)}) is not supported`);
  }
}

/** The items of a `{ List: { items } }` node (IN lists, BETWEEN bounds), or of a plain array. */
function listItems(node: PgNode): PgNode[] {
  return Array.isArray(node) ? node : ((node.List?.items ?? []) as PgNode[]);
}

function boolExpr(n: PgNode, scope: Scope): Compiled {
  const args = (n.args as PgNode[]).map((a) => compileExpr(a, scope));
  switch (n.boolop as string) {
    case 'NOT_EXPR': {
      const a = args[0]!;
      return { fn: (row) => ((v) => (v == null ? null : !v))(a.fn(row)), type: 'boolean' };
    }
    case 'AND_EXPR':
      return {
        fn: (row) => {
          let unknown = false;
          for (const a of args) {
            const v = a.fn(row);
            if (v === false) return false;
            if (v == null) unknown = true;
          }
          return unknown ? null : true;
        },
        type: 'boolean',
      };
    default:
      return {
        fn: (row) => {
          let unknown = false;
          for (const a of args) {
            const v = a.fn(row);
            if (v === true) return true;
            if (v == null) unknown = true;
          }
          return unknown ? null : false;
        },
        type: 'boolean',
      };
  }
}

function caseExpr(n: PgNode, scope: Scope): Compiled {
  const subject = n.arg === undefined ? undefined : compileExpr(n.arg, scope);
  const whens = (n.args as PgNode[]).map((w) => {
    const cw = w.CaseWhen as PgNode;
    const at = locationOf(cw);
    const cond = subject === undefined ? compileExpr(cw.expr, scope) : binary('=', subject, compileExpr(cw.expr, scope), scope.text, at);
    return { cond, result: compileExpr(cw.result, scope) };
  });
  const otherwise = n.defresult === undefined ? constant(null, 'null') : compileExpr(n.defresult, scope);
  const types: SqlType[] = [...whens.map((w) => w.result.type), otherwise.type].filter((t) => t !== 'null');
  const type: SqlType = types.length === 0 ? 'null' : types.every((t) => isNumeric(t)) ? types.reduce(numericType) : types[0]!;
  return {
    fn: (row) => {
      for (const w of whens) if (w.cond.fn(row) === true) return w.result.fn(row);
      return otherwise.fn(row);
    },
    type,
  };
}

function funcCall(n: PgNode, node: PgNode, scope: Scope, at: number): Compiled {
  const names = strings(n.funcname).filter((s) => s !== 'pg_catalog');
  const name = names.join('.').toLowerCase();
  const handled = scope.call?.(name, node);
  if (handled !== undefined) return handled;
  if (n.over !== undefined) throw unsupported(scope.text, at, `${name}(...) OVER (...) is not supported; use GROUP BY with a window such as TUMBLE(ts, INTERVAL '1' MINUTE)`);
  if (['count', 'sum', 'avg', 'min', 'max'].includes(name)) return callFunction(name, [], scope.text, at);
  if (n.agg_distinct || n.agg_star || n.agg_filter || n.agg_order) throw sqlError(scope.text, at, `${name}(...) is not an aggregate Sluice knows; aggregates are COUNT, SUM, AVG, MIN and MAX`);
  const args = ((n.args ?? []) as PgNode[]).map((a) => compileExpr(a, scope));
  return callFunction(name, args, scope.text, at);
}
