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
    case 'windowJoin': {
      const late = node.lateness.lateSideOutput ? `, late records to '${node.lateness.lateSideOutput}'` : '';
      return `window join of '${node.sides.left}' (left) and '${node.sides.right}' (right), window ${JSON.stringify(node.window)}${late}`;
    }
    case 'intervalJoin': {
      const b = node.bounds;
      const late = node.lateness.lateSideOutput ? `, late records to '${node.lateness.lateSideOutput}'` : '';
      const bounds = `left.ts ${b.lowerMs < 0 ? '-' : '+'} ${Math.abs(b.lowerMs)}ms ${b.lowerExclusive ? '<' : '<='} right.ts ${b.upperExclusive ? '<' : '<='} left.ts ${b.upperMs < 0 ? '-' : '+'} ${Math.abs(b.upperMs)}ms`;
      return `interval join (${node.type}) of '${node.sides.left}' (left) and '${node.sides.right}' (right), ${bounds}${late}`;
    }
    case 'table':
      return `table${node.changelog ? ' from its topic (tombstones delete)' : ' of the latest record per key'}${node.versionsMs === undefined ? '' : `, versioned (${node.versionsMs}ms of history)`}, queryable as '${node.name}'`;
    case 'stream-table-join':
      return `stream-table ${node.join} join (${node.versionsMs === undefined ? 'the latest row, at processing time' : 'the version at each record\'s event time, after the watermark'})`;
    case 'table-join':
      return `table-table ${node.join} join on the key, queryable as '${node.name}'`;
    case 'pattern':
      return describePattern(node);
    case 'mapAsync':
      return `mapAsync (concurrency ${node.async.concurrency}, timeout ${node.async.timeoutMs}ms, ${node.async.retries} retries, ${node.async.ordered ? 'in input order' : 'unordered'})`;
    case 'connectorSink':
      return `to ${node.sink.describe}`;
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

/** `pattern begin login -> followedBy buy (within 300000ms, skip noSkip, event time)`. */
function describePattern(node: LogicalNode & { kind: 'pattern' }): string {
  const steps = node.pattern.steps.map((s) => {
    const q = s.max === 1 ? '' : s.max === Number.POSITIVE_INFINITY ? (s.min === 1 ? '+' : `{${s.min},}`) : s.min === s.max ? `{${s.min}}` : `{${s.min},${s.max}}`;
    const flags = [s.optional ? '?' : '', s.greedy ? ' greedy' : '', s.consecutive ? ' consecutive' : '', s.until ? ' until' : ''].join('');
    return `${s.kind} ${s.name}${q}${flags}`;
  });
  const skip = node.skip.kind === 'skipToFirst' || node.skip.kind === 'skipToLast' ? `${node.skip.kind} ${node.skip.step}` : node.skip.kind;
  const within = node.pattern.withinMs === undefined ? (node.ttlMs === undefined ? 'no within' : `ttl ${node.ttlMs}ms`) : `within ${node.pattern.withinMs}ms`;
  const late = node.lateSideOutput ? `, late records to '${node.lateSideOutput}'` : '';
  return `pattern ${steps.join(' -> ')} (${within}, skip ${skip}, ${node.time} time${late})`;
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
