/**
 * This process's handles of the partitions it touched, per topic. A handle is made (and its
 * partition recovered, see recovery.ts) on first use, and dropped when the topic it was made
 * for is gone or was re-created (another process may have done either).
 */
import { join } from 'node:path';
import { SluiceError } from '../core/index.ts';
import type { MetaStore, TopicMeta } from './meta.ts';
import { Partition } from './partition.ts';
import { recoverPartitionLocked } from './recovery.ts';
import type { SegmentCache } from './segment-cache.ts';
import { ensureTopicFile } from './topic-admin.ts';
import { topicDir } from './topic-files.ts';

export interface CachedTopic {
  meta: TopicMeta;
  partitions: Array<Partition | undefined>;
}

export class PartitionRegistry {
  private readonly topics = new Map<string, CachedTopic>();
  private readonly meta: MetaStore;
  private readonly dataDir: string;
  private readonly segmentCache: SegmentCache;
  private readonly readOnly: boolean;
  /** Called for each handle dropped, so whoever keeps state per handle can drop it too. */
  private readonly onForget: (partition: Partition) => void;

  constructor(meta: MetaStore, dataDir: string, segmentCache: SegmentCache, readOnly: boolean, onForget: (partition: Partition) => void) {
    this.meta = meta;
    this.dataDir = dataDir;
    this.segmentCache = segmentCache;
    this.readOnly = readOnly;
    this.onForget = onForget;
  }

  /** The topic as this process last saw it, without reading the metadata (the append path's fast start). */
  cached(topic: string): CachedTopic | undefined {
    return this.topics.get(topic);
  }

  /** The partition's handle; PARTITION_NOT_FOUND (or TOPIC_NOT_FOUND) when there is no such partition. */
  get(topic: string, index: number): Partition {
    const found = this.tryGet(topic, index);
    if (found) return found;
    const meta = this.meta.get<TopicMeta>(['topic', topic]);
    if (!meta) {
      throw new SluiceError('TOPIC_NOT_FOUND', `topic '${topic}' does not exist; create it with \`sluice topic create ${topic} --partitions N\``);
    }
    throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has partitions 0 to ${meta.partitions - 1}, not ${index}`);
  }

  /** The partition's handle, checked against the current metadata; undefined when there is no such partition. */
  tryGet(topic: string, index: number): Partition | undefined {
    let entry = this.topics.get(topic);
    const current = this.meta.get<TopicMeta>(['topic', topic]);
    if (!entry || !current || current.id !== entry.meta.id) {
      this.forget(topic);
      const meta = current;
      if (!meta) return undefined;
      entry = { meta, partitions: new Array(meta.partitions) };
      this.topics.set(topic, entry);
    } else if (current.maxMessageBytes !== entry.meta.maxMessageBytes) {
      // Altered (here or elsewhere): appends check against the partitions' copy of the settings.
      entry.meta = current;
      for (const partition of entry.partitions) if (partition) partition.topic = current;
    }
    if (!Number.isInteger(index) || index < 0 || index >= entry.meta.partitions) return undefined;
    let partition = entry.partitions[index];
    if (!partition) {
      const created = this.create(entry.meta, index);
      // Read-only: reads stop at the committed end, so what recovery would cut or keep is never read.
      if (!this.readOnly) {
        if (index === 0) ensureTopicFile(this.dataDir, entry.meta);
        this.meta.locked(() => recoverPartitionLocked(this.meta, created));
      }
      entry.partitions[index] = created;
      partition = created;
    }
    return partition;
  }

  /** A new handle of partition `index` of `meta`, not kept here (repair makes its own). */
  create(meta: TopicMeta, index: number): Partition {
    return new Partition(meta, index, join(topicDir(this.dataDir, meta), String(index)), this.meta, this.segmentCache);
  }

  /** Drops (and closes) the handles of `topic`. */
  forget(topic: string): void {
    const entry = this.topics.get(topic);
    if (!entry) return;
    for (const partition of entry.partitions) {
      if (!partition) continue;
      partition.close();
      this.onForget(partition);
    }
    this.topics.delete(topic);
  }

  /** Closes every handle (the log closes). */
  closeAll(): void {
    for (const topic of this.topics.values()) for (const partition of topic.partitions) partition?.close();
    this.topics.clear();
  }
}
