/**
 * Queryable stores: the latest result of every window of a named windowed aggregate, readable
 * while the app runs (Kafka Streams' interactive queries on a window store). The view follows
 * what the operator emits, so early and late re-firings replace earlier values.
 */
import { SluiceError } from '../core/index.ts';
import type { Element, Operator, Output } from '../operators/index.ts';
import { type KeyIdValue, keyId } from '../state/index.ts';

export interface StoredWindow<V = unknown> {
  key: unknown;
  start: number;
  end: number;
  value: V;
}

/** Windows kept per key; the oldest go first. */
const RETAINED_PER_KEY = 10_000;

export class WindowStoreView<V = unknown> {
  readonly name: string;
  /** By the state backend's key identity, so keys `1` and `'1'` stay apart. */
  readonly #byKey = new Map<KeyIdValue, Map<string, StoredWindow<V>>>();

  constructor(name: string) {
    this.name = name;
  }

  /** Records an emitted result. */
  put(result: StoredWindow<V>): void {
    const id = keyId(result.key);
    let windows = this.#byKey.get(id);
    if (windows === undefined) this.#byKey.set(id, (windows = new Map()));
    const wid = `${result.start}:${result.end}`;
    windows.delete(wid);
    windows.set(wid, { key: result.key, start: result.start, end: result.end, value: result.value });
    if (windows.size > RETAINED_PER_KEY) windows.delete(windows.keys().next().value!);
  }

  /** A key's windows, by start; with `at`, only the window(s) containing that time. */
  get(key: unknown, at?: number): StoredWindow<V>[] {
    const windows = this.#byKey.get(keyId(key));
    const list = windows ? [...windows.values()] : [];
    return list.filter((w) => at === undefined || (w.start <= at && at < w.end)).sort((a, b) => a.start - b.start);
  }

  /** Every key's windows. */
  all(): StoredWindow<V>[] {
    const out: StoredWindow<V>[] = [];
    for (const windows of this.#byKey.values()) out.push(...windows.values());
    return out.sort((a, b) => a.start - b.start || String(a.key).localeCompare(String(b.key)));
  }
}

/** Wraps a windowed operator so every result it emits also updates the store. */
export function materialize(op: Operator, view: WindowStoreView): Operator {
  const tap = (out: Output): Output => ({
    emit: (element: Element) => {
      view.put(element.value as StoredWindow);
      out.emit(element);
    },
    side: (tag, element) => out.side(tag, element),
  });
  const wrapped: Operator = {
    name: op.name,
    process: (batch, out) => op.process(batch, tap(out)),
  };
  if (op.onWatermark) wrapped.onWatermark = (w, out) => op.onWatermark!(w, tap(out));
  if (op.onProcessingTime) wrapped.onProcessingTime = (now, out) => op.onProcessingTime!(now, tap(out));
  if (op.snapshot) wrapped.snapshot = () => op.snapshot!();
  if (op.restore) wrapped.restore = (s) => op.restore!(s);
  // metrics: the late-record count stays visible through the wrapper
  if ('lateRecords' in op) Object.defineProperty(wrapped, 'lateRecords', { get: () => (op as { lateRecords: number }).lateRecords });
  return wrapped;
}

export class StoreRegistry {
  readonly #views = new Map<string, WindowStoreView>();

  view(name: string): WindowStoreView {
    let view = this.#views.get(name);
    if (view === undefined) this.#views.set(name, (view = new WindowStoreView(name)));
    return view;
  }

  get(name: string): WindowStoreView {
    const view = this.#views.get(name);
    if (view === undefined) {
      const known = [...this.#views.keys()].map((n) => `'${n}'`).join(', ') || 'none';
      throw new SluiceError('INVALID_ARGUMENT', `no store named '${name}' (stores: ${known}); name a windowed aggregate with { name } to query it`);
    }
    return view;
  }
}
