/**
 * The damage a partition's files show against its metadata, for `sluice topic describe`:
 * missing segment files, files shorter than their committed bytes, and batches that do not
 * read back (a bad header or a CRC32C mismatch; with `verify`, which reads every committed byte once).
 */
import { existsSync } from 'node:fs';
import { type Partition, segmentPath } from './partition.ts';

export interface SegmentDamage {
  partition: number;
  /** The segment's log file. */
  file: string;
  /** The offsets the segment holds: [firstOffset, nextOffset). */
  firstOffset: number;
  nextOffset: number;
  problem: string;
}

export function checkPartition(partition: Partition, verify: boolean): SegmentDamage[] {
  const state = partition.state();
  const damage: SegmentDamage[] = [];
  for (const segment of state.segments) {
    const file = segmentPath(partition.dir, segment);
    const report = (problem: string) =>
      damage.push({ partition: partition.index, file, firstOffset: Math.max(segment.base, state.logStart), nextOffset: segment.next, problem });
    if (!existsSync(file)) {
      // Compaction or retention elsewhere may have replaced it since: only a file still named is missing.
      const current = partition.state().segments.find((s) => s.base === segment.base);
      if (current && current.generation === segment.generation) report('the segment file is missing');
      continue;
    }
    try {
      const handle = partition.fileFor(segment);
      const size = handle.size();
      const end = Math.min(size, segment.bytes);
      if (size < segment.bytes) report(`the file has ${size} bytes, the log committed ${segment.bytes}`);
      const validEnd = verify ? handle.scan(0, end, true, false).validEnd : end;
      if (validEnd < end) report(`unreadable batch at byte ${validEnd} (a bad header or CRC32C mismatch)`);
    } catch (error) {
      report(`cannot be read: ${(error as Error).message}`);
    }
  }
  return damage;
}
