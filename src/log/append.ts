/**
 * Appending batches to a partition under the metadata lock, with the idempotent producer's
 * sequence check and a transaction's bookkeeping done in the same metadata transaction as the
 * append, so a crash leaves either all of it or none.
 */
import { SluiceError } from '../core/index.ts';
import type { ArenaChunk } from './batch-arena.ts';
import type { BatchHeader } from './format.ts';
import type { MetaStore, ProducerPartitionState, TransactionalIdMeta, TxnMeta } from './meta.ts';
import type { AppendedBatch, Partition } from './partition.ts';
import { SegmentWrites } from './segment-writes.ts';

export interface ProducerStamp {
  producerId: number;
  epoch: number;
  /** Sequence of the batch's first record. */
  sequence: number;
  /** Set when the batch belongs to the producer's open transaction. */
  transactional: boolean;
  /** The producer's transactional id, if it has one: a newer owner of the id fences this producer. */
  transactionalId?: string;
}

export interface PendingBatch {
  /** Encoded at base offset 0 with its CRC: the append sets the offset and patches the CRC (setBaseOffset). */
  batch: Uint8Array;
  header: BatchHeader;
  producer?: ProducerStamp;
  /** The arena chunk `batch` was carved from, released once the batch is written (batch-arena.ts). */
  chunk?: ArenaChunk;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** True when an idempotent retry matched a batch already written: nothing new was appended. */
  duplicate?: boolean;
}

const RECENT_BATCHES = 5;

/** Appends `batches` in order; must run inside `meta.locked`. Throws on a fenced or out-of-order producer. */
export function appendBatchesLocked(
  meta: MetaStore,
  partition: Partition,
  batches: readonly PendingBatch[],
  now: number,
): { results: AppendResult[]; written: AppendedBatch[] } {
  partition.checkTopicLocked();
  const state = partition.state();
  const stateKey = ['pstate', partition.topic.name, partition.index];
  let producers: Record<string, ProducerPartitionState> | undefined;
  const results: AppendResult[] = [];
  const written: AppendedBatch[] = [];
  const writes = new SegmentWrites();
  for (const pending of batches) {
    const stamp = pending.producer;
    let producerState: ProducerPartitionState | undefined;
    if (stamp) {
      producers ??= meta.get<Record<string, ProducerPartitionState>>(stateKey) ?? {};
      producerState = producers[stamp.producerId];
      const duplicate = checkSequence(producerState, stamp, pending.header.recordCount, partition);
      if (duplicate) {
        results.push(duplicate);
        continue;
      }
      if (stamp.transactional) {
        // The id's epoch first: a newer owner aborted this producer's transaction when it took over.
        const owner = stamp.transactionalId === undefined ? undefined : meta.get<TransactionalIdMeta>(['tid', stamp.transactionalId]);
        if (owner !== undefined && owner.epoch !== stamp.epoch) {
          throw new SluiceError('PRODUCER_FENCED', `transactional id '${stamp.transactionalId}' was taken over by a newer producer (epoch ${owner.epoch}); this producer (epoch ${stamp.epoch}) is fenced`);
        }
        const txn = meta.get<TxnMeta>(['txn', stamp.producerId]);
        if (!txn || txn.epoch !== stamp.epoch) {
          throw new SluiceError('INVALID_TXN_STATE', `producer ${stamp.producerId} has no open transaction; call beginTransaction() first`);
        }
        if (!(String(stamp.producerId) in state.openTxns)) {
          state.openTxns[stamp.producerId] = state.next;
          txn.partitions.push([partition.topic.name, partition.index]);
          meta.put(['txn', stamp.producerId], txn);
        }
      }
    }
    const appended = partition.appendLocked(state, pending.batch, pending.header, now, writes);
    written.push(appended);
    results.push({ baseOffset: appended.baseOffset, lastOffset: appended.lastOffset });
    if (stamp && producers) {
      const lastSequence = stamp.sequence + pending.header.recordCount - 1;
      const recent = producerState && producerState.epoch === stamp.epoch ? producerState.recent.slice(-(RECENT_BATCHES - 1)) : [];
      recent.push([stamp.sequence, lastSequence, appended.baseOffset, appended.lastOffset]);
      producers[stamp.producerId] = { epoch: stamp.epoch, lastSequence, recent };
    }
  }
  writes.flush();
  partition.saveLocked(state);
  if (producers) meta.put(stateKey, producers);
  return { results, written };
}

/** Returns the earlier result when the batch is a retry of one already written; throws when it can't follow. */
function checkSequence(
  current: ProducerPartitionState | undefined,
  stamp: ProducerStamp,
  count: number,
  partition: Partition,
): AppendResult | undefined {
  const where = `${partition.topic.name}/${partition.index}`;
  if (current && stamp.epoch < current.epoch) {
    throw new SluiceError(
      'PRODUCER_FENCED',
      `producer ${stamp.producerId} epoch ${stamp.epoch} was fenced by epoch ${current.epoch} on ${where}: a newer instance with the same transactional id took over`,
    );
  }
  if (!current || stamp.epoch > current.epoch) {
    if (stamp.sequence !== 0) {
      throw new SluiceError('OUT_OF_ORDER_SEQUENCE', `producer ${stamp.producerId} must start at sequence 0 on ${where}, got ${stamp.sequence}`);
    }
    return undefined;
  }
  if (stamp.sequence <= current.lastSequence) {
    const lastSequence = stamp.sequence + count - 1;
    for (const [first, last, baseOffset, lastOffset] of current.recent) {
      if (first === stamp.sequence && last === lastSequence) return { baseOffset, lastOffset, duplicate: true };
    }
    throw new SluiceError(
      'DUPLICATE_SEQUENCE',
      `producer ${stamp.producerId} sent sequence ${stamp.sequence} on ${where}, already past ${current.lastSequence} and too old to match a recent batch`,
    );
  }
  if (stamp.sequence !== current.lastSequence + 1) {
    throw new SluiceError(
      'OUT_OF_ORDER_SEQUENCE',
      `producer ${stamp.producerId} sent sequence ${stamp.sequence} on ${where}, expected ${current.lastSequence + 1}`,
    );
  }
  return undefined;
}
