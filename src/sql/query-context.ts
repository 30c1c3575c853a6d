/** What compiling a query needs besides its parse tree: the relations it names and the statement's text. */
import type { PgNode } from './pg.ts';
import type { RelationResolver } from './relation.ts';
import type { EmitClause, TemporalClause } from './statements.ts';
import type { Column } from './types.ts';

/** A view's definition as written, for a planner rewrite that reads it instead of compiling it. */
export interface ViewQuery {
  name: string;
  text: string;
  query: PgNode;
  columns: readonly Column[];
  emit?: EmitClause;
}

export interface QueryContext extends RelationResolver {
  readonly text: string;
  /** Base name of the query's stateful stages (the view's name), so state keeps its name across runs. */
  readonly stageName?: string;
  /** The `FOR SYSTEM_TIME AS OF` clauses of the statement (blanked out for the Postgres parser), by the table name's offset. */
  readonly temporal?: readonly TemporalClause[];
  /** The definition of the view `name` (undefined for sources, tables and unknown names), without compiling it. */
  view?(name: string): ViewQuery | undefined;
  /** Whether joins with a per-window MAX may be planned as a top-per-window aggregate (default true). */
  readonly topPerWindow?: boolean;
}
