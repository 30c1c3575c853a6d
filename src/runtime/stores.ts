/**
 * Queryable stores (Kafka Streams' interactive queries on a window store): a windowed aggregate
 * made queryable (`{ queryable: true }` or `.materialize(name)`) answers from the window
 * operator's own state, in every task of its stage. That state is what checkpoints hold, so a
 * restarted app answers as it left off; it holds each window until its end plus the allowed
 * lateness (the retention of a Kafka Streams window store: size plus grace), no copy, no cap.
 * Queries run between rounds of the job (JavaScript runs one thing at a time), so they see the
 * state as of a whole round.
 */
export interface StoredWindow<V = unknown> {
  key: unknown;
  start: number;
  end: number;
  value: V;
}

/** What a store reads in one task: the window operator's `query` (see operators/window.ts). */
export interface QueryableWindows {
  readonly name: string;
  query(...args: [key: unknown] | []): StoredWindow[];
}

/**
 * A queryable store, as `app.store(name)` returns it: the windows the operator holds (open, or
 * fired and still within allowed lateness) with their current values, while the app runs.
 * @example
 * const totals = app.store<number>('hourly-order-totals');
 * totals.get('c1');                  // every window of key 'c1', by start
 * totals.get('c1', Date.now());      // the window(s) holding that time
 * totals.all();                      // every key's windows
 */
export class WindowStoreView<V = unknown> {
  readonly name: string;
  /** The operator of each task of the stage, in the run in progress (throws when none runs). */
  readonly #tasks: () => readonly QueryableWindows[];

  constructor(name: string, tasks: () => readonly QueryableWindows[]) {
    this.name = name;
    this.#tasks = tasks;
  }

  /** A key's windows, by start; with `at`, only the window(s) holding that time (`start <= at < end`). */
  get(key: unknown, at?: number): StoredWindow<V>[] {
    const found: StoredWindow<V>[] = [];
    // The key lives in one task (the exchange routes it there); asking each is a table lookup.
    for (const task of this.#tasks()) for (const w of task.query(key)) if (at === undefined || (w.start <= at && at < w.end)) found.push(copy(w));
    return found.sort((a, b) => a.start - b.start || a.end - b.end);
  }

  /** Every key's windows, by start (a scan of the whole state: on lmdb it reads the table from disk). */
  all(): StoredWindow<V>[] {
    const found: StoredWindow<V>[] = [];
    for (const task of this.#tasks()) for (const w of task.query()) found.push(copy(w));
    return found.sort((a, b) => a.start - b.start || a.end - b.end || String(a.key).localeCompare(String(b.key)));
  }
}

/** A result of its own: a caller changing it must not change the operator's accumulator. */
function copy<V>(w: StoredWindow): StoredWindow<V> {
  return { key: structuredClone(w.key), start: w.start, end: w.end, value: structuredClone(w.value) as V };
}

/**
 * What a table reads in one task: the operator holding it (operators/table.ts, the running
 * aggregate, the table join), from its own state. `asOf` only on versioned tables.
 */
export interface QueryableTableTask {
  readonly name: string;
  get(key: unknown): unknown;
  rows(): Iterable<[unknown, unknown]>;
  asOf?(key: unknown, time: number): unknown;
  readonly versioned?: boolean;
}

/** The window operators behind each queryable store of one job run, and the operators holding each table. */
export class StoreRegistry {
  readonly #operators = new Map<string, QueryableWindows[]>();
  readonly #tables = new Map<string, QueryableTableTask[]>();

  /** Makes a task's operator answer for table `name`. */
  registerTable(name: string, operator: QueryableTableTask): void {
    const list = this.#tables.get(name);
    if (list === undefined) this.#tables.set(name, [operator]);
    else list.push(operator);
  }

  /** The operators holding table `name`, one per task. */
  tables(name: string): readonly QueryableTableTask[] {
    return this.#tables.get(name) ?? [];
  }

  /** Makes a task's window operator answer for store `name`. */
  register(name: string, operator: QueryableWindows): void {
    const list = this.#operators.get(name);
    if (list === undefined) this.#operators.set(name, [operator]);
    else list.push(operator);
  }

  /** The operators answering for `name`, one per task. */
  operators(name: string): readonly QueryableWindows[] {
    return this.#operators.get(name) ?? [];
  }
}
