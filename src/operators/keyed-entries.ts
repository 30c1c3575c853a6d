/**
 * Snapshots of a table whose entries carry their own key (the table operators and joins keep
 * `{ key, ... }` per key). A heap table rides in the checkpoint as a copy of its entries; a
 * durable one is its own store, so its snapshot is null.
 */
import { type KeyedTable, keyId } from '../state/index.ts';

export function snapshotEntries<E extends { key: unknown }>(table: KeyedTable<E>): E[] | null {
  if (table.durable) return null;
  return structuredClone([...table.entries()].map(([, entry]) => entry));
}

export function restoreEntries<E extends { key: unknown }>(table: KeyedTable<E>, snapshot: unknown): void {
  if (snapshot === null) return;
  for (const entry of structuredClone(snapshot as E[])) table.set(keyId(entry.key), entry);
}
