/**
 * Putting a job back: from its last checkpoint (the same pipeline, so by position) or from a
 * savepoint (a possibly changed pipeline, so by operator name).
 */
import { checkShape, type JobSnapshot, matchSavepoint, type Savepoint, stateShape } from '../checkpoint/index.ts';
import { SluiceError } from '../core/index.ts';
import type { PhysicalPlan } from '../plan/index.ts';
import type { StateBackend } from '../state/index.ts';
import type { WatermarkTracker } from '../time/index.ts';
import type { SourcePartition } from './source.ts';
import type { Task } from './task.ts';

/** Per stage, its operators' names: a checkpoint's shape. */
export function operatorNames(plan: PhysicalPlan): string[][] {
  return plan.stages.map((stage) => stage.ops.map((op) => op.node.name));
}

/** A keyed stage's view of one upstream stage: that stage's watermarks, per task. */
export interface Upstream {
  stage: number;
  tracker: WatermarkTracker;
}

/** What restoring touches of a job. */
export interface JobParts {
  name: string;
  plan: PhysicalPlan;
  tasks: Task[][];
  sources: SourcePartition[][];
  upstreams: Upstream[][];
  leaving: number[][];
  state: StateBackend;
}

/** Puts every task, source and watermark back as the last checkpoint left them (same pipeline, by position). */
export function restoreCheckpoint(job: JobParts, saved: JobSnapshot): void {
  const name = job.name;
  checkShape(name, saved.shape, operatorNames(job.plan));
  job.tasks.forEach((tasks, stage) => {
    if (saved.tasks[stage]?.length !== tasks.length) {
      throw new SluiceError(
        'STATE_INCOMPATIBLE',
        `the checkpoint of '${name}' has ${saved.tasks[stage]?.length ?? 0} tasks for stage ${stage}, the pipeline now ${tasks.length} (a source's partition count changed); restart with the old partition count, or remove the app's checkpoints to start without state`,
      );
    }
    for (let i = 0; i < tasks.length; i++) tasks[i].restore(saved.tasks[stage][i]);
  });
  for (let stage = 0; stage < job.sources.length; stage++) {
    for (const source of job.sources[stage]) {
      const state = saved.sources[stage][source.partition];
      source.offset = state.offset;
      source.generator.restore(state.generator);
    }
  }
  for (let stage = 0; stage < saved.leaving.length; stage++) job.leaving[stage] = [...saved.leaving[stage]];
  for (const upstreams of job.upstreams) {
    for (const u of upstreams) {
      const from = job.plan.stages[u.stage].entry.kind === 'source' ? job.sources[u.stage].map((s) => s.generator.watermark) : job.leaving[u.stage];
      for (let i = 0; i < from.length; i++) u.tracker.advance(i, from[i]);
    }
  }
}

/** Restores what a savepoint holds, by operator name (see checkpoint/compatibility.ts). */
export function restoreSavepoint(job: JobParts, savepoint: Savepoint, dropState: string[]): void {
  const saved = savepoint.snapshot;
  const drop = new Set(dropState);
  const current = job.plan.stages.flatMap((stage) => stage.ops.map((op, index) => ({ stage: stage.id, index, name: op.node.name, shape: stateShape(op.node), tasks: job.tasks[stage.id].length })));
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
    const tasks = job.tasks[move.to.stage];
    for (let i = 0; i < tasks.length; i++) {
      const task = saved.tasks[move.from.stage][i];
      tasks[i].restoreOperator(move.to.index, task.ops[move.from.index], task.watermarks[move.from.index]);
    }
    const entry = job.plan.stages[move.to.stage].entry;
    if (move.to.index === 0 && entry.kind === 'source') {
      for (const source of job.sources[move.to.stage]) {
        const state = saved.sources[move.from.stage][source.partition];
        source.offset = state.offset;
        source.generator.restore(state.generator);
      }
    }
  }
  for (const upstreams of job.upstreams) {
    for (const u of upstreams) {
      if (job.plan.stages[u.stage].entry.kind !== 'source') continue;
      job.sources[u.stage].forEach((s, i) => {
        u.tracker.advance(i, s.generator.watermark);
      });
    }
  }
}
