/**
 * Putting a job back: from its last checkpoint (the same pipeline, so by position) or from a
 * savepoint (a possibly changed pipeline, so by operator name).
 */
import { checkShape, type JobSnapshot, matchSavepoint, type Savepoint, stateShape } from '../checkpoint/index.ts';
import { SluiceError } from '../core/index.ts';
import type { PhysicalPlan } from '../plan/index.ts';
import type { StateBackend } from '../state/index.ts';
import type { StageRuntime } from './stage.ts';

/** Per stage, its operators' names: a checkpoint's shape. */
export function operatorNames(plan: PhysicalPlan): string[][] {
  return plan.stages.map((stage) => stage.ops.map((op) => op.node.name));
}

/** What restoring touches of a job. */
export interface JobParts {
  name: string;
  plan: PhysicalPlan;
  stages: readonly StageRuntime[];
  state: StateBackend;
}

/** Puts every task, source and watermark back as the last checkpoint left them (same pipeline, by position). */
export function restoreCheckpoint(job: JobParts, saved: JobSnapshot): void {
  const name = job.name;
  checkShape(name, saved.shape, operatorNames(job.plan));
  for (const stage of job.stages) {
    const { tasks } = stage;
    const savedTasks = saved.tasks[stage.id];
    if (savedTasks?.length !== tasks.length) {
      throw new SluiceError(
        'STATE_INCOMPATIBLE',
        `the checkpoint of '${name}' has ${savedTasks?.length ?? 0} tasks for stage ${stage.id}, the pipeline now ${tasks.length} (a source's partition count changed); restart with the old partition count, or start from a savepoint taken before the change`,
      );
    }
    for (let i = 0; i < tasks.length; i++) tasks[i].restore(savedTasks[i]);
    stage.restoreSources(saved.sources[stage.id]);
    const leaving = saved.leaving[stage.id] ?? [];
    for (let i = 0; i < leaving.length; i++) stage.leaving[i] = leaving[i];
  }
  for (const stage of job.stages) stage.announce();
}

/**
 * What a new run keeps of a bounded run's last checkpoint (taken after every window fired at
 * watermark +Infinity): the state of operators the end of the input does not finish (tables,
 * running aggregates, joins), matched by name; windows, timers and watermarks start over, as
 * do sources (from the committed offsets). Returns the names kept (the state backend keeps
 * their tables and drops the others') and the restore to run after that.
 */
export function endedRestore(job: JobParts, saved: JobSnapshot): { kept: Set<string>; apply: () => void } {
  const where = new Map<string, { stage: number; index: number }>();
  for (let stage = 0; stage < saved.shape.length; stage++) saved.shape[stage].forEach((name, index) => void where.set(name, { stage, index }));
  const moves: { stage: StageRuntime; index: number; from: { stage: number; index: number } }[] = [];
  for (const stage of job.stages) {
    const ops = stage.tasks[0]?.operators() ?? [];
    job.plan.stages[stage.id].ops.forEach((op, index) => {
      if (ops[index]?.restoreEnded === undefined) return;
      const name = op.node.name;
      const from = where.get(name);
      // New since the bounded run, or a checkpoint too old to name state shapes: starts empty (as before tables went on).
      if (from === undefined || saved.stateShapes === undefined) return;
      const before = saved.stateShapes?.[from.stage]?.[from.index];
      const now = stateShape(op.node);
      if (before !== now || saved.tasks[from.stage]?.length !== stage.tasks.length) {
        const why = before !== now ? `its state was '${before}', now '${now}'` : `it ran in ${saved.tasks[from.stage]?.length ?? 0} tasks, now ${stage.tasks.length} (a partition count changed)`;
        throw new SluiceError('STATE_INCOMPATIBLE', `operator '${name}' of '${job.name}' cannot take the state the last bounded run left: ${why}; keep the operator as it was, or reset the app (sluice app reset ${job.name}) to process its input again`);
      }
      moves.push({ stage, index, from });
    });
  }
  const kept = new Set(moves.map((m) => job.plan.stages[m.stage.id].ops[m.index].node.name));
  const apply = (): void => {
    for (const { stage, index, from } of moves) {
      for (let i = 0; i < stage.tasks.length; i++) stage.tasks[i].restoreEnded(index, saved.tasks[from.stage][i].ops[from.index]);
    }
  };
  return { kept, apply };
}

/** Restores what a savepoint holds, by operator name (see checkpoint/compatibility.ts). */
export function restoreSavepoint(job: JobParts, savepoint: Savepoint, dropState: string[]): void {
  const saved = savepoint.snapshot;
  const drop = new Set(dropState);
  const current = job.plan.stages.flatMap((stage) => stage.ops.map((op, index) => ({ stage: stage.id, index, name: op.node.name, shape: stateShape(op.node), tasks: job.stages[stage.id].tasks.length })));
  const tableOwners = new Set((saved.tableScopes ?? []).map((scope) => scope.split('/')[0]));
  const moves = matchSavepoint(job.name, savepoint.id, saved, current, drop, (name) => tableOwners.has(name));
  // Durable tables first: operators rebuild their timers from them when restored.
  const restored = new Set(moves.map((m) => m.name));
  for (const { scope, entries } of savepoint.tables()) {
    if (!restored.has(scope.split('/')[0])) continue;
    const table = job.state.table(scope);
    for (const [id, value] of entries) table.set(id as never, value);
    // Bounded memory for state larger than the heap: write back as we go (no checkpoint record yet).
    if (job.state.pending >= 100_000) job.state.flushTables?.();
  }
  for (const move of moves) {
    const { tasks } = job.stages[move.to.stage];
    for (let i = 0; i < tasks.length; i++) {
      const task = saved.tasks[move.from.stage][i];
      tasks[i].restoreOperator(move.to.index, task.ops[move.from.index], task.watermarks[move.from.index]);
    }
    const stage = job.stages[move.to.stage];
    if (move.to.index === 0 && stage.isSource) stage.restoreSources(saved.sources[move.from.stage]);
  }
  for (const stage of job.stages) if (stage.isSource) stage.announce();
}
