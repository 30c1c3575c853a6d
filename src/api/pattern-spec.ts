/**
 * A pattern as data, as the logical graph carries it: steps with their conditions and
 * quantifiers, the within bound, the after-match skip strategy. `Pattern` (pattern.ts) builds it.
 */
import type { Duration } from '../core/index.ts';

/** What a condition sees besides the event: the events the partial match took so far, per step. */
export interface PatternContext<T> {
  /** The events taken so far for step `name`, in order (empty when none). */
  events(name: string): T[];
}

/** A condition of a step: `(event, ctx)`; `ctx.events(name)` makes it iterative. */
export type PatternCondition<T> = (event: T, ctx: PatternContext<T>) => boolean;

/** How a step relates to the events before it. */
export type StepKind = 'begin' | 'next' | 'followedBy' | 'followedByAny' | 'notNext' | 'notFollowedBy';

/** One step as data (the graph carries it; the operator compiles it). */
export interface PatternStepSpec {
  name: string;
  kind: StepKind;
  /** Folded left to right: `where` ANDs, `or` ORs; none means every event qualifies. */
  conditions: { op: 'and' | 'or'; fn: PatternCondition<any> }[];
  /** Stop condition of a loop: once an event satisfies it, the loop takes no more events. */
  until?: PatternCondition<any>;
  /** How many events the step takes: `min..max` (max Infinity for `oneOrMore`). */
  min: number;
  max: number;
  optional: boolean;
  greedy: boolean;
  /** Loop elements strictly one after another (default: skip events that do not match). */
  consecutive: boolean;
}

/** A pattern as data: its steps in order and the `within` bound (ms; absent: none). */
export interface PatternSpec {
  steps: PatternStepSpec[];
  withinMs?: number;
}

/** After a match, which partial matches to drop (FlinkCEP's AfterMatchSkipStrategy). */
export type SkipStrategy = 'noSkip' | 'skipToNext' | 'skipPastLastEvent' | { skipToFirst: string } | { skipToLast: string };

/** The skip strategy as the graph carries it. */
export type SkipSpec = { kind: 'noSkip' | 'skipToNext' | 'skipPastLastEvent' } | { kind: 'skipToFirst' | 'skipToLast'; step: string };


/** A match: each step's name mapped to the events it took, in order. */
export type PatternMatch<T> = Record<string, T[]>;

/** The side-output tag of timed-out partial matches (not a valid topic name, so never a late-data topic). */
export const PATTERN_TIMED_OUT = 'pattern timed out';

/** Options of `keyed.pattern(p, options)`. */
export interface PatternOptions {
  /** Stable name of the pattern operator (state, metrics, savepoints). */
  name?: string;
  /**
   * After a match, which partial matches to drop: `'noSkip'` (default), `'skipToNext'`,
   * `'skipPastLastEvent'`, `{ skipToFirst: 'step' }`, `{ skipToLast: 'step' }` (or
   * `'skipToFirst'`/`'skipToLast'` with `skipTo: 'step'`).
   */
  skip?: SkipStrategy | 'skipToFirst' | 'skipToLast';
  /** The step `skipToFirst`/`skipToLast` skip to, when `skip` names the strategy as a string. */
  skipTo?: string;
  /** `'event'` (default): match in event-time order; `'processing'`: in arrival order, by the clock. */
  time?: 'event' | 'processing';
  /** For a pattern without within: drop partial matches older than this (event time since their first event). */
  ttl?: Duration;
}
