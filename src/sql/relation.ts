/**
 * A relation: a stream of rows with its columns, the column that is the rows' event time (if
 * any), and the allowed lateness its windows get by default. Sources, views and subqueries are
 * relations; queries read relations and make new ones.
 */
import type { Stream } from '../api/index.ts';
import type { Column, Row } from './types.ts';

export interface Relation {
  stream: Stream<Row>;
  columns: Column[];
  /** The column holding each row's event time (what windows group by), if any. */
  rowtime?: string;
  /** Allowed lateness of windows over this relation, unless the query's EMIT clause says otherwise. */
  latenessMs: number;
  /**
   * The columns that identify a row of this relation's results: the GROUP BY keys (and the
   * window's start or end) when the select list holds them all. A later row with the same
   * values replaces an earlier one (an upsert); without it, the rows are an append-only log.
   */
  primaryKey?: string[];
  /** The name queries qualify columns with (`page_views.page`). */
  name: string;
}

/** How a query finds relations by name and names its stateful stages. */
export interface RelationResolver {
  relation(name: string, at: number): Relation;
}
