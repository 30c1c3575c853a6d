/**
 * Two-input operators (joins, stream-table lookups) on the one-input runtime: each input is
 * tagged with its side, the tagged inputs are merged and re-keyed once, and the operator after
 * that keyBy reads `side` to tell them apart. Both sides of a key so meet in one task, the
 * exchange co-partitions inputs of any key function and partition count, and the operator's
 * watermark is the minimum of both inputs' (the stage's frontier already takes it).
 */
import { SluiceError } from '../core/index.ts';
import { checkFunction, type GraphBuilder } from './builder.ts';
import type { NodeId } from './graph.ts';

/** Which input of a two-input operator a record came from. */
export const LEFT = 0;
export const RIGHT = 1;
export type Side = typeof LEFT | typeof RIGHT;

/** A record of a two-input operator: its side and its value, as the tagging map made it. */
export interface SidedValue {
  side: Side;
  value: unknown;
}

/** One input of a two-input operator: the node producing it and the key of its values. */
export interface KeyedInput {
  node: NodeId;
  key: (value: any) => unknown;
}

/**
 * The input of a node that reads a keyed stream: its keyBy's input and key function, so the
 * two-input operator re-keys from there (the user's keyBy is then read by nothing and dropped).
 */
export function keyedInput(builder: GraphBuilder, keyed: NodeId, what: string): KeyedInput {
  const node = builder.node(keyed);
  if (node?.kind !== 'keyBy') {
    throw new SluiceError('INVALID_ARGUMENT', `${what} joins keyed streams; key it first, such as .keyBy((e) => e.adId)`);
  }
  return { node: node.input, key: node.fn };
}

/**
 * Adds the nodes that bring two inputs together, keyed: a tagging map per side, their union
 * and one keyBy, named after the operator `name` so their names are stable too. Returns the
 * keyBy node, which the two-input operator's node reads.
 */
export function connectInputs(builder: GraphBuilder, left: KeyedInput, right: KeyedInput, name: string): NodeId {
  checkFunction(left.key, `${name}: the left key`, '(e) => e.adId');
  checkFunction(right.key, `${name}: the right key`, '(e) => e.adId');
  const leftTagged = builder.add({ kind: 'map', input: left.node, fn: (value: unknown): SidedValue => ({ side: LEFT, value }) }, `${name}.left`);
  const rightTagged = builder.add({ kind: 'map', input: right.node, fn: (value: unknown): SidedValue => ({ side: RIGHT, value }) }, `${name}.right`);
  const merged = builder.add({ kind: 'union', inputs: [leftTagged, rightTagged] }, `${name}.inputs`);
  const leftKey = left.key;
  const rightKey = right.key;
  return builder.add({ kind: 'keyBy', input: merged, fn: (r: SidedValue) => (r.side === LEFT ? leftKey(r.value) : rightKey(r.value)) }, `${name}.key`);
}
