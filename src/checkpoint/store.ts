/** Where a job's checkpoints go: the interface both state backends' checkpoint protocols implement. */
import type { OutgoingRecord, TopicPartitionOffset } from '../backend/index.ts';
import type { JobSnapshot } from './snapshot.ts';

export interface CheckpointStore {
  /**
   * The last complete checkpoint, after settling what a crash left half done (a prepared log
   * transaction is committed when this checkpoint names it, aborted otherwise).
   */
  load(): Promise<JobSnapshot | undefined>;
  /** Makes `output`, the source `offsets` and the job `snapshot` durable as one checkpoint. */
  commit(output: Map<string, OutgoingRecord[]>, offsets: TopicPartitionOffset[], snapshot: JobSnapshot, now: number): Promise<void>;
  /** at-least-once: writes output now, ahead of its checkpoint (a crash before it may repeat the output). */
  send(output: Map<string, OutgoingRecord[]>): Promise<void>;
  close(): Promise<void>;
}
