/** Offsets committed by consumer groups outside membership (see groups.ts for members): ['group', group, topic, partition] -> next offset. */
import { SluiceError } from '../core/index.ts';
import type { MetaStore } from './meta.ts';

export interface GroupOffset {
  topic: string;
  partition: number;
  offset: number;
}

export function commitOffsets(meta: MetaStore, group: string, offsets: readonly GroupOffset[]): void {
  if (!group) throw new SluiceError('INVALID_ARGUMENT', 'a consumer group needs a non-empty name');
  meta.locked(() => {
    for (const { topic, partition, offset } of offsets) meta.put(['group', group, topic, partition], offset);
  });
}

export function committedOffset(meta: MetaStore, group: string, topic: string, partition: number): number | undefined {
  return meta.get<number>(['group', group, topic, partition]);
}

export function committedOffsets(meta: MetaStore, group: string): GroupOffset[] {
  return [...meta.range<number>(['group', group])].map(({ key, value }) => ({
    topic: key[2] as string,
    partition: key[3] as number,
    offset: value,
  }));
}

/** Forgets every offset `group` committed (Kafka's `DeleteGroups`); returns how many there were. */
export function deleteGroupOffsets(meta: MetaStore, group: string): number {
  return meta.locked(() => {
    const keys = [...meta.range<number>(['group', group])].map((entry) => entry.key);
    for (const key of keys) meta.remove(key);
    return keys.length;
  });
}
