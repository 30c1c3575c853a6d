/**
 * The plan as text, as drizzle's `toSQL()` shows a query without running it.
 */
import type { LogicalNode } from '../api/index.ts';
import type { PhysicalPlan } from './physical.ts';

function describeNode(node: LogicalNode): string {
  switch (node.kind) {
    case 'source': {
      const t = node.time;
      const idle = t.watermark.idleTimeoutMs === undefined ? '' : `, idle after ${t.watermark.idleTimeoutMs}ms`;
      return `source '${node.topic}' (event time ${t.timestamp ? 'from timestamp()' : 'from log timestamps'}, out-of-orderness ${t.watermark.boundMs}ms${idle})`;
    }
    case 'window': {
      const late = node.lateness.lateSideOutput ? `, late records to '${node.lateness.lateSideOutput}'` : '';
      return `window ${JSON.stringify(node.window)} ${node.aggregate.kind} (lateness ${node.lateness.allowedLatenessMs}ms${late}, emit ${node.emit.kind})`;
    }
    case 'rolling':
      return `running ${node.aggregate.kind} per key (a table, queryable as '${node.name}')`;
    case 'table':
      return `table${node.changelog ? ' from its topic (tombstones delete)' : ' of the latest record per key'}${node.versionsMs === undefined ? '' : `, versioned (${node.versionsMs}ms of history)`}, queryable as '${node.name}'`;
    case 'stream-table-join':
      return `stream-table ${node.join} join (${node.versionsMs === undefined ? 'the latest row, at processing time' : 'the version at each record\'s event time, after the watermark'})`;
    case 'table-join':
      return `table-table ${node.join} join on the key, queryable as '${node.name}'`;
    case 'flatMap':
      if (node.table === 'filter') return 'table filter (a row that stops passing becomes a delete)';
      return node.table === 'mapValues' ? 'table mapValues (deletes stay deletes)' : 'flatMap';
    case 'fk-subscribe':
      return 'foreign-key join: each row subscribes to the row its foreign key names';
    case 'fk-lookup':
      return `foreign-key ${node.join} join: rows of the other table with the rows subscribed to them`;
    case 'fk-result':
      return `foreign-key join result (the newest row per key), queryable as '${node.name}'`;
    case 'sink': {
      const mode = node.mode === undefined ? '' : node.mode.kind === 'update' ? ', update mode' : ', complete mode: the whole table at each checkpoint';
      return node.changelog && node.mode === undefined ? `to '${node.topic}' (a changelog: rows as upserts, deletes as tombstones)` : `to '${node.topic}'${mode}`;
    }
    case 'print':
      return 'print';
    case 'side':
      return `side output '${node.tag}'`;
    case 'union':
      return `union of ${node.inputs.length} streams`;
    default:
      return node.kind;
  }
}

/** One line per stage and operator: `stage 1 [keyed by keyBy-2, 3 tasks]`, then its chain. */
export function explainPlan(plan: PhysicalPlan, parallelism?: (stage: number) => number): string {
  const lines: string[] = [];
  for (const stage of plan.stages) {
    const tasks = parallelism ? `${parallelism(stage.id)} tasks` : stage.entry.kind === 'source' ? 'one task per partition' : 'one task per key partition';
    const from = stage.entry.kind === 'source' ? `reads '${stage.entry.topic}'` : `exchange by key from stage ${stage.upstream.join(', ')}`;
    lines.push(`stage ${stage.id} (${from}; ${tasks})`);
    for (const op of stage.ops) {
      const targets = op.exchanges.length > 0 ? ` -> exchange to stage ${op.exchanges.join(', ')}` : '';
      lines.push(`  ${op.node.name}: ${describeNode(op.node)}${targets}`);
    }
  }
  return lines.join('\n');
}
