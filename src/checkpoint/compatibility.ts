/**
 * Which saved state goes where when a pipeline starts from a savepoint. State is matched by
 * operator name (stable names, given or derived from the plan), not position, so operators can
 * be added, moved or removed. An operator whose state shape changed (window kind or size,
 * aggregate, process vs window) is refused with its name, unless the user drops its state; so is
 * saved state of an operator the pipeline no longer has (Flink's allowNonRestoredState).
 */
import type { LogicalNode } from '../api/index.ts';
import { SluiceError } from '../core/index.ts';
import type { JobSnapshot } from './snapshot.ts';

/** The shape of an operator's state, compared across savepoint and pipeline; null: stateless. */
export function stateShape(node: LogicalNode): string | null {
  switch (node.kind) {
    case 'window':
      return `window ${JSON.stringify(node.window)} ${node.aggregate.kind}`;
    case 'rolling':
      return `rolling ${node.aggregate.kind}`;
    case 'process':
      return 'process';
    case 'mapAsync':
      return 'mapAsync';
    case 'windowJoin':
      return `window join ${JSON.stringify(node.window)}`;
    case 'intervalJoin':
      return `interval join ${node.type} ${JSON.stringify(node.bounds)}`;
    case 'table':
      return node.versionsMs === undefined ? 'table' : `table versions ${node.versionsMs}ms`;
    case 'stream-table-join':
      return `stream-table-join ${node.versionsMs === undefined ? 'latest' : `versions ${node.versionsMs}ms`}`;
    case 'table-join':
      return 'table-join';
    case 'pattern':
      return `pattern ${node.pattern.steps.map((s) => `${s.kind} ${s.name}`).join(' ')}`;
    case 'fk-subscribe':
    case 'fk-lookup':
    case 'fk-result':
      return node.kind;
    case 'source':
      return 'source';
    case 'sink':
      return node.mode === undefined ? null : `sink ${node.mode.kind}`;
    default:
      return null;
  }
}

export interface CurrentOperator {
  stage: number;
  index: number;
  name: string;
  shape: string | null;
  tasks: number;
}

export interface RestoreMove {
  from: { stage: number; index: number };
  to: { stage: number; index: number };
  name: string;
}

/** The saved operators restored into `current`, or an error naming the first conflict. */
export function matchSavepoint(app: string, id: string, saved: JobSnapshot, current: CurrentOperator[], drop: ReadonlySet<string>, hasTables: (name: string) => boolean): RestoreMove[] {
  const savedOps = new Map<string, { stage: number; index: number; shape: string | null; stateful: boolean }>();
  for (let stage = 0; stage < saved.shape.length; stage++) {
    saved.shape[stage].forEach((name, index) => {
      const shape = saved.stateShapes?.[stage]?.[index] ?? null;
      const stateful = shape !== null && (hasTables(name) || saved.tasks[stage].some((task) => task.ops[index] !== null && task.ops[index] !== undefined) || shape === 'source');
      savedOps.set(name, { stage, index, shape, stateful });
    });
  }
  const names = new Set(current.map((op) => op.name));
  for (const unknown of drop) {
    if (!savedOps.has(unknown)) throw new SluiceError('INVALID_ARGUMENT', `--drop-state ${unknown}: savepoint '${id}' of '${app}' has no operator of that name; it has: ${[...savedOps.keys()].join(', ')}`);
  }
  for (const [name, op] of savedOps) {
    if (op.stateful && op.shape !== 'source' && !names.has(name) && !drop.has(name)) {
      throw new SluiceError('STATE_INCOMPATIBLE', `savepoint '${id}' of '${app}' holds state of operator '${name}', which the pipeline no longer has; start with --drop-state ${name} to leave it behind`, { operator: name });
    }
  }
  const moves: RestoreMove[] = [];
  for (const op of current) {
    const from = savedOps.get(op.name);
    if (from === undefined || drop.has(op.name) || op.shape === null) continue;
    if (from.shape !== op.shape) {
      throw new SluiceError(
        'STATE_INCOMPATIBLE',
        `operator '${op.name}' changed the shape of its state: the savepoint holds '${from.shape}', the pipeline has '${op.shape}'; keep the operator as it was, give the new one another name, or start with --drop-state ${op.name} to drop its state`,
        { operator: op.name },
      );
    }
    const savedTasks = saved.tasks[from.stage].length;
    if (savedTasks !== op.tasks) {
      throw new SluiceError('STATE_INCOMPATIBLE', `operator '${op.name}' ran as ${savedTasks} tasks when the savepoint was taken and now runs as ${op.tasks} (its input's partition count changed); state cannot be split differently yet: restore the partition count, or start with --drop-state ${op.name}`, { operator: op.name });
    }
    moves.push({ from: { stage: from.stage, index: from.index }, to: { stage: op.stage, index: op.index }, name: op.name });
  }
  return moves;
}
