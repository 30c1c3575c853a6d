/**
 * The NFA of a pattern, run over one key's events in event-time order (FlinkCEP's NFA, in our
 * own form). A partial match (a *run*) is a prefix of a possible match: the events it took,
 * each assigned to a step, and the set of ways it may go on (its live *targets*, a bit mask):
 * take its current loop's next event (bit j), take the first event of a later step j' (the
 * steps between optional), or end (bit k). Every event a run does not take is checked against
 * each target's contiguity (strict: any skipped event kills it; relaxed: a skipped event the
 * target could have taken kills it; any: nothing does), against the loop's until and greedy
 * rules and against the negations between here and there; a run with no live target dies.
 * The declarative statement of these rules is docs/semantics.md (Pattern detection).
 *
 * Runs of a key share their events through the key's buffer (Flink's SharedBuffer): each
 * event is stored once, each run points at its last node, a node at its event and the node
 * before it, all reference-counted, so a run's removal frees what no other run uses.
 *
 * Everything here is plain data (JSON and msgpack round-trip it): the key's state is one entry
 * of a keyed table, checkpointed by the state backend.
 */

/** A condition as the operator calls it: the event and the run's context. */
export type NfaCondition = (event: any, ctx: { events(name: string): unknown[] }) => boolean;

/** One step of a compiled pattern (the api's step spec, structurally). */
export interface NfaStepSpec {
  name: string;
  kind: 'begin' | 'next' | 'followedBy' | 'followedByAny' | 'notNext' | 'notFollowedBy';
  conditions: { op: 'and' | 'or'; fn: NfaCondition }[];
  until?: NfaCondition;
  min: number;
  max: number;
  optional: boolean;
  greedy: boolean;
  consecutive: boolean;
}

export interface NfaPatternSpec {
  steps: NfaStepSpec[];
  withinMs?: number;
}

export type NfaSkip = { kind: 'noSkip' | 'skipToNext' | 'skipPastLastEvent' } | { kind: 'skipToFirst' | 'skipToLast'; step: string };

interface Step {
  name: string;
  contiguity: 'strict' | 'relaxed' | 'any';
  cond: NfaCondition;
  until: NfaCondition | undefined;
  min: number;
  max: number;
  optional: boolean;
  greedy: boolean;
  consecutive: boolean;
}

interface Negation {
  kind: 'notNext' | 'notFollowedBy';
  cond: NfaCondition;
}

/** An event released to the NFA. */
export interface NfaEvent {
  value: unknown;
  time: number;
}

/** A stored event: value, time, position in the key's released order, references. */
interface StoredEvent {
  v: unknown;
  t: number;
  p: number;
  r: number;
}

/** A node of the shared buffer: its event, the step that took it, the node before (-1: none), references. */
interface BufferNode {
  e: number;
  s: number;
  b: number;
  r: number;
}

/** A partial match. */
export interface Run {
  /** Position and time of its first event. */
  sp: number;
  st: number;
  /** Its last node. */
  n: number;
  /** Step of its last event, and how many events that step has taken. */
  j: number;
  c: number;
  /** Whether an event came since its last one (the first skipped event has rules of its own). */
  g: boolean;
  /** Live targets: bit t < k takes step t next (t = j continues the loop), bit k ends. */
  m: number;
  /** Already emitted as a match (so never reported as timed out). */
  d: boolean;
}

/** The NFA state of one key: its shared buffer and runs. */
export interface NfaKeyState {
  /** Next position of a released event, and next buffer id. */
  pos: number;
  seq: number;
  ev: Record<number, StoredEvent>;
  /** How many events the buffer holds. */
  ne: number;
  nd: Record<number, BufferNode>;
  runs: Run[];
}

/** What a key's step produced: matches and timed-out partial matches, each as step name -> events. */
export interface NfaSink {
  match(match: Record<string, unknown[]>, time: number): void;
  timedOut(partial: Record<string, unknown[]>, timeoutAt: number): void;
}

export function newKeyState(): NfaKeyState {
  return { pos: 0, seq: 0, ev: {}, ne: 0, nd: {}, runs: [] };
}

const ALWAYS: NfaCondition = () => true;

function foldConditions(conditions: NfaStepSpec['conditions']): NfaCondition {
  if (conditions.length === 0) return ALWAYS;
  if (conditions.length === 1) return conditions[0].fn;
  return (event, ctx) => {
    let ok = conditions[0].fn(event, ctx);
    for (let i = 1; i < conditions.length; i++) {
      const c = conditions[i];
      ok = c.op === 'and' ? ok && c.fn(event, ctx) : ok || c.fn(event, ctx);
    }
    return ok;
  };
}

/** Creation-order take from one run (or the start) into target `t`. */
interface Take {
  parent: Run | undefined;
  target: number;
}

/**
 * A compiled pattern: steps, the negations after each, and for each (step, count) the initial
 * target mask. Stateless; the key's state is passed in.
 */
export class Nfa {
  readonly steps: Step[];
  /** Negations between positive step j and j + 1 (index k - 1: at the end). */
  readonly #negAfter: Negation[][];
  readonly #k: number;
  readonly #endNegation: boolean;
  readonly #withinMs: number | undefined;
  /** Expiry of a run after its start: within, else the TTL; undefined: never. */
  readonly #expiryMs: number | undefined;
  readonly #skip: NfaSkip;
  readonly #skipStep: number;
  /** Targets a first event may take (steps before them optional). */
  readonly #startTargets: number[];
  readonly #stepIndex = new Map<string, number>();

  constructor(spec: NfaPatternSpec, skip: NfaSkip, ttlMs?: number) {
    this.steps = [];
    this.#negAfter = [];
    for (const s of spec.steps) {
      if (s.kind === 'notNext' || s.kind === 'notFollowedBy') {
        this.#negAfter[this.steps.length - 1].push({ kind: s.kind, cond: foldConditions(s.conditions) });
        continue;
      }
      const contiguity = s.kind === 'next' ? 'strict' : s.kind === 'followedByAny' ? 'any' : 'relaxed';
      this.steps.push({ name: s.name, contiguity, cond: foldConditions(s.conditions), until: s.until, min: s.min, max: s.max, optional: s.optional, greedy: s.greedy, consecutive: s.consecutive });
      this.#negAfter.push([]);
    }
    this.#k = this.steps.length;
    for (const [i, step] of this.steps.entries()) this.#stepIndex.set(step.name, i);
    this.#endNegation = this.#negAfter[this.#k - 1].length > 0;
    this.#withinMs = spec.withinMs;
    this.#expiryMs = spec.withinMs ?? ttlMs;
    this.#skip = skip;
    this.#skipStep = skip.kind === 'skipToFirst' || skip.kind === 'skipToLast' ? this.steps.findIndex((s) => s.name === skip.step) : -1;
    this.#startTargets = [];
    for (let t = 0; t < this.#k; t++) {
      this.#startTargets.push(t);
      if (!this.steps[t].optional) break;
    }
  }

  /** The step names, in order (negations left out). */
  get stepNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  /** When runs of this start time expire, or +Infinity. */
  expiry(startTime: number): number {
    return this.#expiryMs === undefined ? Number.POSITIVE_INFINITY : startTime + this.#expiryMs;
  }

  /** The earliest expiry of the key's runs (+Infinity when none expires). */
  nextExpiry(state: NfaKeyState): number {
    let min = Number.POSITIVE_INFINITY;
    if (this.#expiryMs === undefined) return min;
    for (const run of state.runs) if (run.st < min) min = run.st;
    return min === Number.POSITIVE_INFINITY ? min : min + this.#expiryMs;
  }

  /**
   * Time reached `time`: runs that expire at or before it end, in expiry order. With a
   * pattern ending in notFollowedBy, a run whose absence held is a match then; the others time
   * out (reported when the pattern has within, dropped when it is a TTL).
   */
  advance(state: NfaKeyState, time: number, sink: NfaSink): void {
    if (this.#expiryMs === undefined) return;
    for (;;) {
      const d = this.nextExpiry(state);
      if (d === Number.POSITIVE_INFINITY || !(d <= time)) return;
      const group = state.runs.filter((r) => this.expiry(r.st) === d);
      const k = this.#k;
      const ending = group.filter((r) => (r.m & (1 << k)) !== 0);
      if (ending.length > 0) this.#emit(state, ending, d, sink);
      if (this.#withinMs !== undefined) {
        // Still held (a skip strategy may just have pruned some), not emitted, not ending: timed out, in match order.
        const live = new Set(state.runs);
        const timedOut = group.filter((r) => live.has(r) && !r.d && (r.m & (1 << k)) === 0);
        for (const run of this.#inMatchOrder(state, timedOut)) sink.timedOut(this.#matchOf(state, run.n), d);
      }
      const gone = new Set(group);
      state.runs = state.runs.filter((r) => {
        if (!gone.has(r)) return true;
        this.#release(state, r.n);
        return false;
      });
    }
  }

  /**
   * One released event (the key's next in event-time order; `advance` to its time first).
   * User conditions run before anything changes, so one that throws leaves the state as it was.
   */
  event(state: NfaKeyState, event: NfaEvent, sink: NfaSink): void {
    const k = this.#k;
    const steps = this.steps;
    const runs = state.runs;
    const takes: Take[] = [];
    const masks: number[] = new Array(runs.length);
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i];
      const ctx = this.#context(state, run.n);
      const j = run.j;
      let alive = run.m;
      if (!run.g) {
        // Rules on the first event after the run's last one: greedy loops and notNext.
        if (steps[j].greedy && run.c < steps[j].max && (alive & (1 << j)) !== 0 && this.#takes(j, event.value, ctx)) alive &= 1 << j;
        for (let t = j + 1; t <= k; t++) {
          if ((alive & (1 << t)) !== 0 && this.#violates(j, t, 'notNext', event.value, ctx)) alive &= ~(1 << t);
        }
      }
      let after = alive;
      for (let t = j; t <= k; t++) {
        if ((alive & (1 << t)) === 0) continue;
        if (t === k) {
          if (this.#violates(j, t, 'notFollowedBy', event.value, ctx)) after &= ~(1 << t);
          continue;
        }
        const taken = this.#takes(t, event.value, ctx);
        if (taken) takes.push({ parent: run, target: t });
        // The run also skips the event: does the target survive that?
        let survives: boolean;
        if (t === j) {
          const step = steps[j];
          survives = !step.consecutive && !taken && step.until?.(event.value, ctx) !== true && !step.cond(event.value, ctx);
        } else {
          const contiguity = steps[t].contiguity;
          survives = contiguity === 'any' || (contiguity === 'relaxed' && !taken);
        }
        if (survives && t > j && this.#violates(j, t, 'notFollowedBy', event.value, ctx)) survives = false;
        if (!survives) after &= ~(1 << t);
      }
      masks[i] = after;
    }
    const empty = this.#context(state, -1);
    for (const t of this.#startTargets) if (this.#takes(t, event.value, empty)) takes.push({ parent: undefined, target: t });

    // Apply: from here on no user code runs.
    const position = state.pos++;
    const kept: Run[] = [];
    for (let i = 0; i < runs.length; i++) {
      if (masks[i] !== 0) {
        runs[i].m = masks[i];
        runs[i].g = true;
        kept.push(runs[i]);
      }
    }
    let eventId = -1;
    const completed: Run[] = [];
    const created: Run[] = [];
    for (const { parent, target } of takes) {
      if (eventId < 0) {
        eventId = state.seq++;
        state.ev[eventId] = { v: event.value, t: event.time, p: position, r: 0 };
        state.ne++;
      }
      const node = state.seq++;
      state.nd[node] = { e: eventId, s: target, b: parent === undefined ? -1 : parent.n, r: 1 };
      state.ev[eventId].r++;
      if (parent !== undefined) state.nd[parent.n].r++;
      const count = parent !== undefined && parent.j === target ? parent.c + 1 : 1;
      const run: Run = { sp: parent?.sp ?? position, st: parent?.st ?? event.time, n: node, j: target, c: count, g: false, m: this.#initialMask(target, count), d: false };
      if ((run.m & (1 << k)) !== 0 && !this.#endNegation) {
        run.m &= ~(1 << k);
        run.d = true;
        completed.push(run);
      }
      created.push(run);
    }
    // Runs that died give their nodes back.
    for (let i = 0; i < runs.length; i++) if (masks[i] === 0) this.#release(state, runs[i].n);
    state.runs = kept;
    for (const run of created) state.runs.push(run);
    if (completed.length > 0) this.#emit(state, completed, event.time, sink);
    // Runs that only could end are done once emitted.
    state.runs = state.runs.filter((r) => {
      if (r.m !== 0) return true;
      this.#release(state, r.n);
      return false;
    });
  }

  /** Whether the key holds nothing: then its table entry can go. */
  isEmpty(state: NfaKeyState): boolean {
    return state.runs.length === 0 && state.ne === 0;
  }

  /** Emits completed runs in a deterministic order, applying the skip strategy after each. */
  #emit(state: NfaKeyState, completed: Run[], time: number, sink: NfaSink): void {
    let threshold = Number.NEGATIVE_INFINITY;
    for (const run of this.#inMatchOrder(state, completed)) {
      if (run.sp < threshold) continue;
      sink.match(this.#matchOf(state, run.n), time);
      if (this.#skip.kind === 'noSkip') continue;
      const point = this.#skipPoint(this.#chain(state, run.n));
      if (point > threshold) {
        threshold = point;
        state.runs = state.runs.filter((r) => {
          if (r.sp >= threshold) return true;
          this.#release(state, r.n);
          return false;
        });
      }
    }
  }

  /** Runs in match order: by first event, then by their events and steps. */
  #inMatchOrder(state: NfaKeyState, runs: Run[]): Run[] {
    if (runs.length < 2) return runs;
    const chains = new Map(runs.map((run) => [run, this.#chain(state, run.n)]));
    return [...runs].sort((a, b) => a.sp - b.sp || compareChains(chains.get(a)!, chains.get(b)!));
  }

  /** Runs starting before this position are dropped after the match (-Infinity: none). */
  #skipPoint(chain: [position: number, step: number][]): number {
    switch (this.#skip.kind) {
      case 'noSkip':
        return Number.NEGATIVE_INFINITY;
      case 'skipToNext':
        return chain[0][0] + 1;
      case 'skipPastLastEvent':
        return chain[chain.length - 1][0] + 1;
      case 'skipToFirst': {
        const hit = chain.find((c) => c[1] === this.#skipStep);
        return hit === undefined ? Number.NEGATIVE_INFINITY : hit[0];
      }
      case 'skipToLast': {
        // A loop, not findLast (ES2023): users' tsconfigs (the README's: es2022) type-check these sources.
        for (let i = chain.length - 1; i >= 0; i--) if (chain[i][1] === this.#skipStep) return chain[i][0];
        return Number.NEGATIVE_INFINITY;
      }
    }
  }

  /** Targets of a run whose last event was the `count`-th of step `j`. */
  #initialMask(j: number, count: number): number {
    const steps = this.steps;
    let mask = count < steps[j].max ? 1 << j : 0;
    if (count < steps[j].min) return mask;
    for (let t = j + 1; t <= this.#k; t++) {
      mask |= 1 << t;
      if (t < this.#k && !steps[t].optional) break;
    }
    return mask;
  }

  #takes(t: number, value: unknown, ctx: { events(name: string): unknown[] }): boolean {
    const step = this.steps[t];
    return step.cond(value, ctx) && step.until?.(value, ctx) !== true;
  }

  /** Whether a negation of `kind` between step j and target t rejects the event. */
  #violates(j: number, t: number, kind: Negation['kind'], value: unknown, ctx: { events(name: string): unknown[] }): boolean {
    const negAfter = this.#negAfter;
    for (let s = j; s < t && s < this.#k; s++) {
      for (const neg of negAfter[s]) if (neg.kind === kind && neg.cond(value, ctx)) return true;
    }
    return false;
  }

  /**
   * The context conditions get: one object, re-pointed at each run before its conditions run
   * (no allocation per run and event); `events(name)` walks the run's chain when asked.
   */
  #context(state: NfaKeyState, node: number): { events(name: string): unknown[] } {
    this.#ctxState = state;
    this.#ctxNode = node;
    return this.#ctx;
  }
  #ctxState: NfaKeyState | undefined;
  #ctxNode = -1;
  readonly #ctx = {
    events: (name: string): unknown[] => {
      const out: unknown[] = [];
      const s = this.#stepIndex.get(name);
      const state = this.#ctxState!;
      if (s === undefined) return out;
      for (let n = this.#ctxNode; n >= 0; n = state.nd[n].b) if (state.nd[n].s === s) out.push(state.ev[state.nd[n].e].v);
      return out.reverse();
    },
  };

  #chain(state: NfaKeyState, node: number): [number, number][] {
    const out: [number, number][] = [];
    for (let n = node; n >= 0; n = state.nd[n].b) out.push([state.ev[state.nd[n].e].p, state.nd[n].s]);
    return out.reverse();
  }

  /** A run's events as step name -> events (every step present, empty when it took none). */
  #matchOf(state: NfaKeyState, node: number): Record<string, unknown[]> {
    const match: Record<string, unknown[]> = {};
    for (const step of this.steps) match[step.name] = [];
    const names = this.steps;
    const chain: number[] = [];
    for (let n = node; n >= 0; n = state.nd[n].b) chain.push(n);
    for (let i = chain.length - 1; i >= 0; i--) {
      const nd = state.nd[chain[i]];
      match[names[nd.s].name].push(state.ev[nd.e].v);
    }
    return match;
  }

  /** Drops one reference to a node, freeing it (and what it alone held) at zero. */
  #release(state: NfaKeyState, node: number): void {
    for (let n = node; n >= 0; ) {
      const nd = state.nd[n];
      if (--nd.r > 0) return;
      delete state.nd[n];
      const ev = state.ev[nd.e];
      if (--ev.r === 0) {
        delete state.ev[nd.e];
        state.ne--;
      }
      n = nd.b;
    }
  }
}

function compareChains(a: [number, number][], b: [number, number][]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i][0] !== b[i][0]) return a[i][0] - b[i][0];
    if (a[i][1] !== b[i][1]) return a[i][1] - b[i][1];
  }
  return a.length - b.length;
}
