/** What compiling a query needs besides its parse tree: the relations it names and the statement's text. */
import type { RelationResolver } from './relation.ts';
import type { TemporalClause } from './statements.ts';

export interface QueryContext extends RelationResolver {
  readonly text: string;
  /** Base name of the query's stateful stages (the view's name), so state keeps its name across runs. */
  readonly stageName?: string;
  /** The `FOR SYSTEM_TIME AS OF` clauses of the statement (blanked out for the Postgres parser), by the table name's offset. */
  readonly temporal?: readonly TemporalClause[];
}
