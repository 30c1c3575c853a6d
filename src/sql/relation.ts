/**
 * A relation: rows with their columns, the column that is the rows' event time (if any), and
 * the allowed lateness its windows get by default. A stream relation is an append-only stream
 * of rows (sources, views over them, joins of streams); a table relation is a changelog table
 * (`CREATE TABLE`, views over one, joins of tables): the latest row per key, deletes included.
 * Queries read relations and make new ones.
 */
import type { Stream, Table } from '../api/index.ts';
import type { Column, Row } from './types.ts';

interface RelationBase {
  columns: Column[];
  /** The column holding each row's event time (what windows group by), if any. */
  rowtime?: string;
  /** Allowed lateness of windows over this relation, unless the query's EMIT clause says otherwise. */
  latenessMs: number;
  /**
   * The columns that identify a row of this relation's results: the GROUP BY keys (and the
   * window's start or end) when the select list holds them all, or a table's primary key. A
   * later row with the same values replaces an earlier one (an upsert); without it, the rows
   * of a stream are an append-only log.
   */
  primaryKey?: string[];
  /** The name queries qualify columns with (`page_views.page`). */
  name: string;
}

export interface StreamRelation extends RelationBase {
  stream: Stream<Row>;
  table?: undefined;
  /**
   * A source's records before they become rows, so a query can filter them on the columns its
   * WHERE reads and build only the rows it keeps, or build its output straight from them.
   */
  raw?: RawSource;
  /**
   * Of a view that filters a source and selects some of its columns as they are: the records
   * it keeps, before they become rows, so a plan that keeps few of them (top-per-window) builds
   * rows only for those. Each record must still pass the conversion of every `checked` column,
   * as building its row would (a record that does not fit goes to the dead-letter topic).
   */
  records?: SourceRecords;
}

/** A view's source records (see StreamRelation.records): its rows are `filler(columns)(value, {})`. */
export interface SourceRecords {
  stream: Stream<Record<string, unknown>>;
  filler: RawSource['filler'];
  checked: readonly string[];
}

/** A source's decoded values and how to convert columns of one into a row. */
export interface RawSource {
  stream: Stream<Record<string, unknown>>;
  /**
   * The function writing the named columns of a value, converted to their types, into a row
   * (throwing on a value that is not an object of them), made once per column list.
   */
  filler(columns: readonly string[]): (value: Record<string, unknown>, row: Row) => Row;
}

export interface TableRelation extends RelationBase {
  /** The table, keyed by `tableKey` of its primary key's values. */
  table: Table<unknown, Row>;
  stream?: undefined;
}

export type Relation = StreamRelation | TableRelation;

/** How a query finds relations by name and names its stateful stages. */
export interface RelationResolver {
  relation(name: string, at: number): Relation;
}

/**
 * The key of a table row from its primary key's values: the value as text for one column (so a
 * tombstone's record key deletes it), the JSON array of the values for several; null when a
 * value is null (no row of a table has it, so it joins nothing).
 */
export function tableKey(values: readonly unknown[]): string | null {
  if (values.length === 1) {
    const v = values[0];
    return v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);
  }
  return values.some((v) => v === null || v === undefined) ? null : JSON.stringify(values);
}
