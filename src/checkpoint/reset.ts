/**
 * Resetting an app, as Kafka Streams' application reset tool does: its consumer group's
 * committed offsets, its state (`<dataDir>/state/<app>/`) and its checkpoints (the
 * `<app>.checkpoints` topic) are forgotten, so its next run reads its input from the earliest
 * offsets with empty state. Savepoints, output topics and the dead-letter topic stay.
 * The caller holds the app's lock (`claimApp`): a running instance must never lose them under it.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Log } from '../log/index.ts';
import { checkpointTopic } from './topic-checkpoints.ts';

export interface ResetSummary {
  /** Committed offsets forgotten (one per topic partition). */
  offsets: number;
  /** Whether the `<app>.checkpoints` topic was there and is deleted. */
  checkpoints: boolean;
  /** Whether the lmdb state directory was there and is removed. */
  state: boolean;
}

/** The app's state directory of the lmdb backend. */
export function stateDirectory(dataDir: string, app: string): string {
  return join(dataDir, 'state', app);
}

/** Forgets `app`'s offsets, state and checkpoints in `dataDir` (the group of an app is its name). */
export async function resetApp(dataDir: string, app: string): Promise<ResetSummary> {
  const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
  try {
    const offsets = log.deleteGroupOffsets(app);
    const topic = checkpointTopic(app);
    const checkpoints = log.listTopics().some((t) => t.name === topic);
    if (checkpoints) log.deleteTopic(topic);
    const dir = stateDirectory(dataDir, app);
    const state = existsSync(dir);
    rmSync(dir, { recursive: true, force: true });
    return { offsets, checkpoints, state };
  } finally {
    await log.close();
  }
}
