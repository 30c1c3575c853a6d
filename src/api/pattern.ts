/**
 * Pattern detection (CEP): the builder users write, FlinkCEP's Pattern API. It only records the
 * steps as data (`PatternSpec`); `KeyedStream.pattern(p)` puts them in the graph and the pattern
 * operator compiles them to an NFA. Every method checks its arguments at once and says what to
 * write instead; what can only be judged on the whole pattern (how it ends, greedy loops,
 * negations before optional steps) is checked when `.pattern(p)` takes it.
 * @example
 * const foreignPurchase = Pattern.begin<Ev>('login').where((e) => e.type === 'login')
 *   .followedBy('buy').where((e, ctx) => e.type === 'purchase' && e.country !== ctx.events('login')[0].country)
 *   .within('5m');
 */
import { type Duration, SluiceError, toMillis } from '../core/index.ts';
import { checkFunction, checkName } from './builder.ts';
import type { PatternCondition, PatternSpec, PatternStepSpec, SkipSpec, StepKind } from './pattern-spec.ts';

export type { PatternCondition, PatternContext, PatternMatch, PatternOptions, PatternSpec, PatternStepSpec, SkipSpec, SkipStrategy, StepKind } from './pattern-spec.ts';

/** Steps a pattern may have (partial matches keep their live continuations in a 32-bit mask). */
export const MAX_PATTERN_STEPS = 30;

const EXAMPLE = "Pattern.begin('login').where((e) => e.type === 'login').followedBy('buy').where((e) => e.type === 'purchase').within('5m')";

function invalid(message: string): SluiceError {
  return new SluiceError('INVALID_ARGUMENT', message);
}

/**
 * A sequence of steps to find in each key's events, in event-time order. Immutable: each
 * method returns a new pattern.
 * @example
 * Pattern.begin<Tx>('tx').where((t) => t.type === 'tx').times(4).within('1m')
 */
export class Pattern<T> {
  /** @internal */
  readonly spec: PatternSpec;

  private constructor(spec: PatternSpec) {
    this.spec = spec;
  }

  /** The first step, named `name` (match results and `ctx.events(name)` use the name). */
  static begin<T>(name: string): Pattern<T> {
    checkStepName(name, 'begin()');
    return new Pattern<T>({ steps: [newStep(name, 'begin')] });
  }

  /** Next step, strictly contiguous: the very next event of the key must match it. */
  next(name: string): Pattern<T> {
    return this.#step(name, 'next');
  }
  /** Next step, relaxed: events that do not match are skipped; the first that matches is taken. */
  followedBy(name: string): Pattern<T> {
    return this.#step(name, 'followedBy');
  }
  /** Next step, non-deterministic relaxed: every later matching event starts its own continuation. */
  followedByAny(name: string): Pattern<T> {
    return this.#step(name, 'followedByAny');
  }
  /** The event right after the previous step must not match this step's condition. */
  notNext(name: string): Pattern<T> {
    return this.#step(name, 'notNext');
  }
  /**
   * No event matching this step's condition may come between the previous step and the next
   * one; at the end of a pattern (with `within`): none until the match's time runs out.
   */
  notFollowedBy(name: string): Pattern<T> {
    return this.#step(name, 'notFollowedBy');
  }

  /** A condition of the current step, ANDed with its earlier ones. */
  where(condition: PatternCondition<T>): Pattern<T> {
    checkFunction(condition, 'where()', '.where((e) => e.type === "login")');
    return this.#last((s) => ({ ...s, conditions: [...s.conditions, { op: 'and', fn: condition }] }));
  }

  /** An alternative condition: the step matches if its earlier conditions or this one hold. */
  or(condition: PatternCondition<T>): Pattern<T> {
    checkFunction(condition, 'or()', '.where((e) => e.type === "login").or((e) => e.type === "signup")');
    const step = this.#current;
    if (step.conditions.length === 0) {
      throw invalid(`or() on step '${step.name}' has no where() to be an alternative to; write .where((e) => ...).or((e) => ...)`);
    }
    return this.#last((s) => ({ ...s, conditions: [...s.conditions, { op: 'or', fn: condition }] }));
  }

  /** Stops a loop: once an event satisfies `condition`, the loop takes no more events. */
  until(condition: PatternCondition<T>): Pattern<T> {
    checkFunction(condition, 'until()', '.oneOrMore().until((e) => e.type === "logout")');
    const step = this.#current;
    if (step.max <= 1) throw invalid(`until() on step '${step.name}' stops a loop, and the step takes one event; write .oneOrMore().until(...) or .timesOrMore(2).until(...)`);
    if (step.until !== undefined) throw invalid(`step '${step.name}' already has an until() condition; combine both in one function`);
    return this.#last((s) => ({ ...s, until: condition }));
  }

  /** Exactly `n` events, or between `min` and `max` events (both inclusive). */
  times(n: number): Pattern<T>;
  times(min: number, max: number): Pattern<T>;
  times(min: number, max?: number): Pattern<T> {
    const upper = max ?? min;
    if (!Number.isInteger(min) || min < 1) throw invalid(`times(${String(min)}${max === undefined ? '' : `, ${String(max)}`}): counts are whole numbers >= 1; write .times(4), or .times(1, 3).optional() to allow none`);
    if (!Number.isInteger(upper) || upper < min) throw invalid(`times(${min}, ${String(max)}): the maximum must be a whole number >= the minimum; write for example .times(2, 4)`);
    return this.#quantify('times()', min, upper);
  }
  /** At least `n` events. */
  timesOrMore(n: number): Pattern<T> {
    if (!Number.isInteger(n) || n < 1) throw invalid(`timesOrMore(${String(n)}): the count is a whole number >= 1; write for example .timesOrMore(2)`);
    return this.#quantify('timesOrMore()', n, Number.POSITIVE_INFINITY);
  }
  /** One event or more. */
  oneOrMore(): Pattern<T> {
    return this.#quantify('oneOrMore()', 1, Number.POSITIVE_INFINITY);
  }

  /** The step may take no event at all. */
  optional(): Pattern<T> {
    const step = this.#current;
    if (isNegation(step.kind)) throw invalid(`optional() on '${step.name}': ${step.kind}() takes no event to make optional; drop optional()`);
    if (step.optional) throw invalid(`step '${step.name}' is already optional()`);
    return this.#last((s) => ({ ...s, optional: true }));
  }

  /** A loop takes every event it can before the pattern moves on (it does not stop at an event it could take). */
  greedy(): Pattern<T> {
    const step = this.#current;
    if (step.max <= 1) throw invalid(`greedy() on step '${step.name}' applies to loops; write .oneOrMore().greedy() or .times(2, 4).greedy()`);
    return this.#last((s) => ({ ...s, greedy: true }));
  }

  /** A loop's events strictly one after another (by default a loop skips events that do not match). */
  consecutive(): Pattern<T> {
    const step = this.#current;
    if (step.max <= 1) throw invalid(`consecutive() on step '${step.name}' applies to loops; write .times(3).consecutive() or .oneOrMore().consecutive()`);
    return this.#last((s) => ({ ...s, consecutive: true }));
  }

  /** A match's last event is less than `duration` after its first; partial matches older than that time out. */
  within(duration: Duration): Pattern<T> {
    const ms = toMillis(duration, 'within()');
    if (!(ms > 0)) throw invalid(`within(${JSON.stringify(duration)}): a match needs a positive time bound; write .within('5m')`);
    return new Pattern<T>({ ...this.spec, withinMs: ms });
  }

  /** The names of the steps, in order. */
  get stepNames(): string[] {
    return this.spec.steps.map((s) => s.name);
  }

  get #current(): PatternStepSpec {
    return this.spec.steps[this.spec.steps.length - 1];
  }

  #last(change: (step: PatternStepSpec) => PatternStepSpec): Pattern<T> {
    const steps = [...this.spec.steps];
    steps[steps.length - 1] = change(steps[steps.length - 1]);
    return new Pattern<T>({ ...this.spec, steps });
  }

  #step(name: string, kind: StepKind): Pattern<T> {
    checkStepName(name, `${kind}()`);
    const steps = this.spec.steps;
    if (steps.some((s) => s.name === name)) throw invalid(`two steps are named '${name}'; give each step its own name`);
    if (steps.length >= MAX_PATTERN_STEPS) throw invalid(`a pattern has at most ${MAX_PATTERN_STEPS} steps; split it into two patterns`);
    const previous = this.#current;
    if (isNegation(kind) && previous.optional) {
      throw invalid(`${kind}('${name}') cannot follow the optional step '${previous.name}' (what would it be next to?); put it before the optional step or make '${previous.name}' required`);
    }
    return new Pattern<T>({ ...this.spec, steps: [...steps, newStep(name, kind)] });
  }

  #quantify(what: string, min: number, max: number): Pattern<T> {
    const step = this.#current;
    if (isNegation(step.kind)) throw invalid(`${what} on '${step.name}': ${step.kind}() checks single events; drop ${what}`);
    if (step.min !== 1 || step.max !== 1) throw invalid(`step '${step.name}' already has a quantifier; give one of times(), timesOrMore(), oneOrMore()`);
    return this.#last((s) => ({ ...s, min, max }));
  }
}

function newStep(name: string, kind: StepKind): PatternStepSpec {
  return { name, kind, conditions: [], min: 1, max: 1, optional: false, greedy: false, consecutive: false };
}

function checkStepName(name: unknown, what: string): asserts name is string {
  try {
    checkName(name);
  } catch {
    throw invalid(`${what}: step name ${JSON.stringify(name)} is not valid; use letters, digits, '.', '_' and '-', such as 'login'`);
  }
}

export function isNegation(kind: StepKind): boolean {
  return kind === 'notNext' || kind === 'notFollowedBy';
}

/**
 * Checks a whole pattern before it runs (called by `.pattern(p)`): how it ends, what greedy loops
 * and negations need after them, that some step must match. Returns warnings worth printing.
 */
export function checkPattern(pattern: unknown): { spec: PatternSpec; warnings: string[] } {
  if (!(pattern instanceof Pattern)) throw invalid(`pattern() expects a Pattern; write .pattern(${EXAMPLE})`);
  const spec = (pattern as Pattern<unknown>).spec;
  const steps = spec.steps;
  const last = steps[steps.length - 1];
  if (last.kind === 'notNext') {
    throw invalid(`the pattern ends with notNext('${last.name}'), which has nothing to be next to; add a step after it, or end with .notFollowedBy('${last.name}').within('5m')`);
  }
  if (last.kind === 'notFollowedBy' && spec.withinMs === undefined) {
    throw invalid(`the pattern ends with notFollowedBy('${last.name}') but has no within(): it would wait forever for the absence to be over; add .within('5m')`);
  }
  const positive = steps.filter((s) => !isNegation(s.kind));
  if (positive.every((s) => s.optional)) {
    const names = positive.map((s) => `'${s.name}'`).join(', ');
    throw invalid(`every step of the pattern (${names}) is optional, so it would match no events at all; make one step required (drop its optional())`);
  }
  steps.forEach((step, i) => {
    const rest = steps.slice(i + 1);
    if (isNegation(step.kind) && !(step.kind === 'notFollowedBy' && i === steps.length - 1)) {
      const nextPositive = rest.find((s) => !isNegation(s.kind));
      if (nextPositive === undefined || (nextPositive.optional && rest.filter((s) => !isNegation(s.kind)).every((s) => s.optional))) {
        throw invalid(`${step.kind}('${step.name}') needs a required step after it to end the absence; add one, or end the pattern with .notFollowedBy('${step.name}').within('5m')`);
      }
    }
    if (step.greedy && !rest.some((s) => !isNegation(s.kind) && !s.optional)) {
      throw invalid(`greedy() on '${step.name}' needs a required step after it (a greedy loop at the end would have to see the future to know it ended); add a step, or drop greedy()`);
    }
  });
  const warnings: string[] = [];
  if (spec.withinMs === undefined) {
    warnings.push(`pattern '${steps.map((s) => s.name).join(' -> ')}' has no within(): its partial matches never time out, so state grows with the stream; add .within('5m') or give the pattern a { ttl }`);
  }
  return { spec, warnings };
}

/** Reads `{ skip }` (and the `skipTo` spelling of `{ skip: 'skipToFirst', skipTo: 'login' }`). */
export function toSkipSpec(skip: unknown, skipTo: unknown, spec: PatternSpec): SkipSpec {
  const steps = spec.steps.filter((s) => !isNegation(s.kind)).map((s) => s.name);
  const named = (kind: 'skipToFirst' | 'skipToLast', step: unknown): SkipSpec => {
    if (typeof step !== 'string' || !steps.includes(step)) {
      throw invalid(`${kind} skips to a step of the pattern (${steps.map((s) => `'${s}'`).join(', ')}), got ${JSON.stringify(step)}; write { skip: { ${kind}: '${steps[0]}' } }`);
    }
    return { kind, step };
  };
  if (skip === undefined) return { kind: 'noSkip' };
  if (skip === 'noSkip' || skip === 'skipToNext' || skip === 'skipPastLastEvent') return { kind: skip };
  if (skip === 'skipToFirst' || skip === 'skipToLast') {
    if (skipTo === undefined) throw invalid(`${skip} needs the step to skip to; write { skip: { ${skip}: '${steps[0]}' } }`);
    return named(skip, skipTo);
  }
  if (skip !== null && typeof skip === 'object') {
    const keys = Object.keys(skip);
    if (keys.length === 1 && (keys[0] === 'skipToFirst' || keys[0] === 'skipToLast')) return named(keys[0], (skip as Record<string, unknown>)[keys[0]]);
  }
  throw invalid(`skip ${JSON.stringify(skip)} is not a skip strategy; write 'noSkip', 'skipToNext', 'skipPastLastEvent', { skipToFirst: 'step' } or { skipToLast: 'step' }`);
}
