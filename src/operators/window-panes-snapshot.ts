/**
 * The window-major state of tumbling and hopping windows (PaneWindowEngine), and its snapshot
 * as plain data. Checkpoints taken by the per-key layout (FixedWindowEngine's list of each
 * key's windows and panes) restore into it, and the reverse, so a job can move between the
 * engines (heap state and early firings, or a durable table) across a restore.
 */
import { keyId } from '../state/index.ts';
import type { AggregateFunction } from './aggregate-function.ts';
import type { KeyId } from './window-common.ts';
import type { KeyWindowsSnapshot } from './window-state.ts';

/** A key's accumulator of one pane. */
export interface PaneCell {
  key: unknown;
  acc: unknown;
}

/** A key's slow-path accumulator of one window (undefined when none), and whether it fired ahead. */
export interface WindowCell {
  key: unknown;
  acc: unknown;
  fired: boolean;
}

export interface PaneWindow {
  start: number;
  end: number;
  /** Fired for every key (the operator time reached its end). */
  fired: boolean;
  cells: Map<KeyId, WindowCell>;
}

export interface PaneWindowsSnapshot {
  layout: 'panes';
  /** The pane length the panes were cut with (0: no panes). */
  paneMs: number;
  /** In creation order: keys fire in the order they first appear in a window's panes. */
  panes: { start: number; cells: PaneCell[] }[];
  /** In end order. */
  windows: { start: number; end: number; fired: boolean; cells: WindowCell[] }[];
}

export function isPaneSnapshot(state: unknown): state is PaneWindowsSnapshot {
  return typeof state === 'object' && state !== null && (state as { layout?: unknown }).layout === 'panes';
}

/**
 * The per-key layout as the window-major one. `progress` is the time the snapshot was taken
 * at: windows ending at or before it have fired for every key; a fired window ending after it
 * fired ahead for its key only. `paneMs`: the pane length of both engines (they cut panes alike).
 */
export function fromKeyWindows(keys: KeyWindowsSnapshot[], progress: number, paneMs: number): PaneWindowsSnapshot {
  const panes = new Map<number, PaneCell[]>();
  const windows = new Map<number, PaneWindowsSnapshot['windows'][number]>();
  for (const kw of keys) {
    for (const [start, acc] of (kw.extra as [number, unknown][] | undefined) ?? []) {
      let cells = panes.get(start);
      if (cells === undefined) panes.set(start, (cells = []));
      cells.push({ key: kw.key, acc });
    }
    for (const w of kw.windows) {
      let saved = windows.get(w.end);
      if (saved === undefined) windows.set(w.end, (saved = { start: w.start, end: w.end, fired: w.end <= progress, cells: [] }));
      if (w.acc !== undefined || (w.fired && !saved.fired)) saved.cells.push({ key: kw.key, acc: w.acc, fired: w.fired && !saved.fired });
    }
  }
  return {
    layout: 'panes',
    paneMs,
    panes: [...panes].sort(([a], [b]) => a - b).map(([start, cells]) => ({ start, cells })),
    windows: [...windows.values()].sort((a, b) => a.end - b.end),
  };
}

/**
 * The window-major layout as the per-key one, for FixedWindowEngine: each key gets every window
 * it has a pane or a cell in. With panes (`paneMs` > 0) a key keeps its panes as `extra`, to be
 * dropped at `paneUntil`; without (early firings), each window's accumulator is its panes merged
 * with its cell, as the per-key engine then keeps it.
 */
export function toKeyWindows(s: PaneWindowsSnapshot, paneMs: number, paneUntil: (start: number) => number, aggregate: AggregateFunction): KeyWindowsSnapshot[] {
  const byKey = new Map<KeyId, KeyWindowsSnapshot>();
  const of = (key: unknown): KeyWindowsSnapshot => {
    const id = keyId(key);
    let kw = byKey.get(id);
    if (kw === undefined) byKey.set(id, (kw = { key, windows: [], extra: undefined, extraUntil: Number.POSITIVE_INFINITY }));
    return kw;
  };
  const panes = new Map<number, Map<KeyId, PaneCell>>();
  for (const p of s.panes) {
    panes.set(p.start, new Map(p.cells.map((c) => [keyId(c.key), c])));
    if (paneMs === 0) continue;
    for (const { key, acc } of p.cells) {
      const kw = of(key);
      kw.extra = [...((kw.extra as [number, unknown][] | undefined) ?? []), [p.start, acc]];
      kw.extraUntil = Math.min(kw.extraUntil, paneUntil(p.start));
    }
  }
  for (const w of s.windows) {
    const cells = new Map(w.cells.map((c) => [keyId(c.key), c]));
    const keys = new Map<KeyId, unknown>();
    const windowPanes: Map<KeyId, PaneCell>[] = [];
    if (s.paneMs > 0) {
      for (let start = w.start; start < w.end; start += s.paneMs) {
        const pane = panes.get(start);
        if (pane === undefined) continue;
        windowPanes.push(pane);
        for (const [id, c] of pane) if (!keys.has(id)) keys.set(id, c.key);
      }
    }
    for (const [id, c] of cells) if (!keys.has(id)) keys.set(id, c.key);
    for (const [id, key] of keys) {
      const cell = cells.get(id);
      let acc = cell?.acc;
      if (paneMs === 0 && windowPanes.length > 0) {
        // No panes in the per-key engine here: fold them into the window's accumulator.
        const merge = aggregate.merge!;
        let folded = aggregate.init();
        for (const pane of windowPanes) {
          const p = pane.get(id);
          if (p !== undefined) folded = merge.call(aggregate, folded, p.acc);
        }
        acc = acc === undefined ? folded : merge.call(aggregate, folded, acc);
      }
      of(key).windows.push({ start: w.start, end: w.end, acc, fired: w.fired || cell?.fired === true, since: 0 });
    }
  }
  return [...byKey.values()];
}
