/**
 * The aggregate functions a keyed stage (a running aggregate) and a windowed one (per window)
 * both take, checked where they are written and recorded as AggregateSpecs.
 */
import { SluiceError } from '../core/index.ts';
import { checkFunction } from './builder.ts';
import type { AggregateSpec } from './graph.ts';

export function numeric(kind: 'sum' | 'min' | 'max' | 'avg', of: (value: any) => number): AggregateSpec {
  checkFunction(of, `${kind}()`, `.${kind}((e) => e.amount)`);
  return { kind, of };
}

export function reduceSpec(fn: (a: any, b: any) => any): AggregateSpec {
  checkFunction(fn, 'reduce()', '.reduce((a, b) => (a.amount > b.amount ? a : b))');
  return { kind: 'reduce', fn };
}

export function aggregateSpec(
  init: () => unknown,
  add: (key: any, value: any, acc: any) => unknown,
  options: { merge?: unknown } = {},
): AggregateSpec & { kind: 'aggregate' } {
  checkFunction(init, 'aggregate() init', '.aggregate(() => 0, (key, order, total) => total + order.total)');
  checkFunction(add, 'aggregate() add', '.aggregate(() => 0, (key, order, total) => total + order.total)');
  if (options === null || typeof options !== 'object') {
    throw new SluiceError('INVALID_ARGUMENT', `aggregate() options must be an object, got ${String(options)}; write for example .aggregate(init, add, { name: 'hourly-order-totals' })`);
  }
  const { merge } = options;
  if (merge === undefined) return { kind: 'aggregate', init, add };
  checkFunction(merge, 'aggregate() merge', '.aggregate(() => 0, (key, order, total) => total + order.total, { merge: (a, b) => a + b })');
  return { kind: 'aggregate', init, add, merge: merge as (a: any, b: any) => unknown };
}
