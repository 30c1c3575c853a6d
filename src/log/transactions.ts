/**
 * Transactions across partitions of several topics, in the Kafka model: a transactional
 * producer's batches carry its id and epoch; commit or abort writes a marker to every
 * partition it touched and, for commit, applies the consumer offsets sent with it — all in
 * one metadata transaction, so a crash in the middle changes nothing. Aborted ranges are kept per
 * partition for read_committed readers. A transaction can be prepared first (two-phase
 * commit for checkpoints): a prepared transaction outlives its process, and the next
 * producer with the same transactional id decides it.
 */
import { SluiceError } from '../core/index.ts';
import { CONTROL_ABORT, CONTROL_COMMIT, encodeControlBatch, readBatchHeader } from './format.ts';
import type { AbortedRange, MetaStore, TransactionalIdMeta, TxnMeta } from './meta.ts';
import { isProcessAlive, SELF_START } from '../core/index.ts';
import type { Partition } from './partition.ts';
import type { SegmentFile } from './segment-files.ts';

export type PartitionLookup = (topic: string, partition: number) => Partition | undefined;

/** Ends a transaction with markers; must run inside `meta.locked`. Returns the files written, to sync. */
export function endTransactionLocked(
  meta: MetaStore,
  lookup: PartitionLookup,
  txn: TxnMeta,
  commit: boolean,
  now: number,
): SegmentFile[] {
  const files = new Set<SegmentFile>();
  for (const [topic, index] of txn.partitions) {
    const partition = lookup(topic, index);
    if (!partition) continue; // the topic was deleted meanwhile
    const state = partition.state();
    const first = state.openTxns[txn.producerId];
    if (first === undefined) continue;
    const marker = encodeControlBatch(commit ? CONTROL_COMMIT : CONTROL_ABORT, 0, now, txn.producerId, txn.epoch);
    const check = readBatchHeader(marker, 0, marker.length);
    if (!check.ok) throw new SluiceError('IO_FAILED', 'internal: marker batch did not encode');
    const appended = partition.appendLocked(state, marker, check.header, now);
    files.add(appended.file);
    delete state.openTxns[txn.producerId];
    if (!commit) {
      const key = ['aborted', topic, index];
      const ranges = meta.get<AbortedRange[]>(key) ?? [];
      ranges.push([txn.producerId, first, appended.lastOffset]);
      meta.put(key, ranges);
      state.abortedVersion++;
    }
    partition.saveLocked(state);
  }
  // Markers reach the disk before the commit naming them does, so a durable end never names lost bytes.
  for (const file of files) file.sync();
  if (commit) {
    for (const [group, topic, index, offset] of txn.offsets) meta.put(['group', group, topic, index], offset);
  }
  meta.remove(['txn', txn.producerId]);
  return [...files];
}

/** Registers a producer for `transactionalId`: bumps its epoch (fencing older instances) and aborts its ongoing transaction. */
export function initTransactionalIdLocked(
  meta: MetaStore,
  lookup: PartitionLookup,
  transactionalId: string,
  now: number,
): { ids: TransactionalIdMeta; prepared: TxnMeta | undefined; files: SegmentFile[] } {
  const existing = meta.get<TransactionalIdMeta>(['tid', transactionalId]);
  const ids: TransactionalIdMeta = existing
    ? { producerId: existing.producerId, epoch: existing.epoch + 1 }
    : { producerId: meta.nextCounter('producerId'), epoch: 0 };
  meta.put(['tid', transactionalId], ids);
  const open = meta.get<TxnMeta>(['txn', ids.producerId]);
  let files: SegmentFile[] = [];
  let prepared: TxnMeta | undefined;
  if (open?.state === 'ongoing') files = endTransactionLocked(meta, lookup, open, false, now);
  if (open?.state === 'prepared') {
    // Kept for the new owner to decide; it now belongs to this instance.
    open.ownerPid = process.pid;
    open.ownerStart = SELF_START;
    meta.put(['txn', ids.producerId], open);
    prepared = open;
  }
  return { ids, prepared, files };
}

export function beginTransactionLocked(meta: MetaStore, ids: TransactionalIdMeta, transactionalId: string, now: number): TxnMeta {
  const current = meta.get<TransactionalIdMeta>(['tid', transactionalId]);
  if (current && current.epoch !== ids.epoch) {
    throw new SluiceError('PRODUCER_FENCED', `transactional id '${transactionalId}' was taken over by a newer producer (epoch ${current.epoch})`);
  }
  const open = meta.get<TxnMeta>(['txn', ids.producerId]);
  if (open) {
    throw new SluiceError(
      'INVALID_TXN_STATE',
      `transactional id '${transactionalId}' already has ${open.state === 'prepared' ? 'a prepared' : 'an open'} transaction ${open.id}; commit or abort it first`,
    );
  }
  const txn: TxnMeta = {
    id: `${ids.producerId}.${ids.epoch}.${meta.nextCounter('txn')}`,
    producerId: ids.producerId,
    epoch: ids.epoch,
    transactionalId,
    state: 'ongoing',
    partitions: [],
    offsets: [],
    ownerPid: process.pid,
    ownerStart: SELF_START,
    startedAt: now,
  };
  meta.put(['txn', ids.producerId], txn);
  return txn;
}

/** The open transaction of a producer, checking it still owns it. */
export function currentTxn(meta: MetaStore, ids: TransactionalIdMeta, transactionalId: string): TxnMeta {
  // The id's epoch first: a prepared transaction stays under its old epoch for the newer owner to
  // decide, so the transaction's own epoch would let the fenced writer commit or abort it.
  const current = meta.get<TransactionalIdMeta>(['tid', transactionalId]);
  if (current && current.epoch !== ids.epoch) {
    throw new SluiceError('PRODUCER_FENCED', `transactional id '${transactionalId}' was taken over by a newer producer (epoch ${current.epoch})`);
  }
  const txn = meta.get<TxnMeta>(['txn', ids.producerId]);
  if (!txn || txn.epoch !== ids.epoch) {
    throw new SluiceError('INVALID_TXN_STATE', `transactional id '${transactionalId}' has no open transaction; call beginTransaction() first`);
  }
  return txn;
}

/** Aborts ongoing transactions whose owning process died. Must run inside `meta.locked`. */
export function abortOrphansLocked(meta: MetaStore, lookup: PartitionLookup, now: number): SegmentFile[] {
  const files: SegmentFile[] = [];
  const orphans: TxnMeta[] = [];
  for (const { value } of meta.range<TxnMeta>(['txn'])) {
    if (value.state === 'ongoing' && !isProcessAlive(value.ownerPid, value.ownerStart)) orphans.push(value);
  }
  for (const txn of orphans) files.push(...endTransactionLocked(meta, lookup, txn, false, now));
  return files;
}

/** Whether any ongoing transaction may be orphaned (cheap check before taking the lock). */
export function hasOrphans(meta: MetaStore): boolean {
  for (const { value } of meta.range<TxnMeta>(['txn'])) {
    if (value.state === 'ongoing' && !isProcessAlive(value.ownerPid, value.ownerStart)) return true;
  }
  return false;
}

