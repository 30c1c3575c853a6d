/**
 * SQL's window functions over a relation's event time: TUMBLE, HOP and SESSION as written in
 * GROUP BY or as table functions in FROM (windowOf), and a table function without GROUP BY,
 * which repeats each row for every window holding it (assignWindows).
 */
import type { Stream } from '../api/index.ts';
import { Windows } from '../time/index.ts';
import { sqlError, unsupported } from './errors.ts';
import { compileExpr } from './expr.ts';
import { type FromInput, resolveField, type TableFunction, type WindowDef } from './from.ts';
import { locationOf, type PgNode, strings } from './pg.ts';
import type { Relation } from './relation.ts';
import type { Row } from './types.ts';

function intervalArg(node: PgNode | undefined, what: string, text: string, at: number): number {
  if (node === undefined) throw sqlError(text, at, `${what} is missing; write an interval such as INTERVAL '1' MINUTE`);
  const c = compileExpr(node, { text, column: (_n, _q, a) => { throw sqlError(text, a, `${what} must be an interval literal such as INTERVAL '1' MINUTE`); } });
  if (c.type !== 'interval' || !c.constant) throw sqlError(text, locationOf(node, at), `${what} must be an interval literal such as INTERVAL '1' MINUTE`);
  const ms = c.fn({}) as number;
  if (!(ms > 0)) throw sqlError(text, locationOf(node, at), `${what} must be longer than zero`);
  return ms;
}

/** The window of TUMBLE(ts, size), HOP(ts, slide, size) or SESSION(ts, gap), over the relation's event time. */
export function windowOf(fn: WindowDef['fn'], args: PgNode[], from: FromInput, text: string, at: number): WindowDef {
  const input = from.relation;
  const ref = args[0]?.ColumnRef ? strings(args[0].ColumnRef.fields) : undefined;
  const resolve = (): string | undefined => (ref === undefined ? undefined : resolveField(text, from, ref.at(-1)!, ref.length > 1 ? ref[0] : undefined, locationOf(args[0], at)).key);
  const time = input.rowtime === undefined ? ref?.at(-1) : resolve();
  const usage: Record<WindowDef['fn'], string> = { tumble: "TUMBLE(event_time, INTERVAL '1' MINUTE)", hop: "HOP(event_time, INTERVAL '20' SECOND, INTERVAL '1' MINUTE) (slide, then size)", session: "SESSION(event_time, INTERVAL '30' SECOND)" };
  if (time === undefined) throw sqlError(text, locationOf(args[0], at), `the window's first argument is the event-time column: ${usage[fn]}`);
  if (input.rowtime === undefined) {
    throw sqlError(text, locationOf(args[0], at), from.plain ? `${input.name} has no event time; declare it in the source: WATERMARK FOR ${time} AS ${time} - INTERVAL '5' SECOND, or WITH (timestamp = '${time}')` : `the rows of this join have no event time column (an interval join's result is stamped with the later of its two rows); group its result in a view over a temporal join, or window each input before joining`);
  }
  if (time !== input.rowtime) {
    throw sqlError(text, locationOf(args[0], at), `windows group by the event time, which for ${input.name} is ${input.rowtime}; write ${fn.toUpperCase()}(${input.rowtime}, ...), or declare ${time} as the source's event time`);
  }
  const expected = fn === 'hop' ? 3 : 2;
  if (args.length !== expected) throw sqlError(text, at, `${fn.toUpperCase()} takes ${expected} arguments here: ${usage[fn]}`);
  if (fn === 'tumble') return { fn, spec: Windows.tumbling(intervalArg(args[1], 'the window size', text, at)), at };
  if (fn === 'session') return { fn, spec: Windows.session(intervalArg(args[1], 'the session gap', text, at)), at };
  const slide = intervalArg(args[1], 'the hop slide', text, at);
  const size = intervalArg(args[2], 'the hop size', text, at);
  if (slide > size) throw sqlError(text, at, `HOP's slide (${slide} ms) is longer than its size (${size} ms); HOP takes the slide first, then the size: ${usage.hop}`);
  return { fn, spec: Windows.hopping(size, slide), at };
}

/** A window table function without GROUP BY: each row once per window holding it, with window_start and window_end. */
export function assignWindows(stream: Stream<Row>, input: Relation, tvf: TableFunction, text: string): Stream<Row> {
  const spec = tvf.window.spec;
  const time = input.rowtime!;
  if (spec.kind === 'tumbling') {
    const size = spec.sizeMs;
    return stream.map((row: Row) => {
      const start = Math.floor((row[time] as number) / size) * size;
      return { ...row, window_start: start, window_end: start + size };
    });
  }
  if (spec.kind === 'hopping') {
    const { sizeMs, slideMs } = spec;
    return stream.flatMap((row: Row) => {
      const ts = row[time] as number;
      const out: Row[] = [];
      for (let start = Math.floor(ts / slideMs) * slideMs; start > ts - sizeMs; start -= slideMs) out.push({ ...row, window_start: start, window_end: start + sizeMs });
      return out.reverse();
    });
  }
  throw unsupported(text, tvf.window.at, 'SESSION as a table function needs GROUP BY window_start, window_end (a session is known when it closes)');
}
