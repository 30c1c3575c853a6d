/** Which persistence a state backend's checkpoints use: its own durable store, else the log. */
import type { LogBackend } from '../backend/index.ts';
import type { StateBackend } from '../state/index.ts';
import type { StatePersistence } from './coordinator.ts';
import { StoreCheckpoints } from './store-checkpoints.ts';
import { TopicCheckpoints } from './topic-checkpoints.ts';

export function statePersistence(state: StateBackend, backend: LogBackend, app: string, warn: (message: string) => void): StatePersistence {
  return state.store === undefined ? new TopicCheckpoints(backend, app, warn) : new StoreCheckpoints(state.store);
}
