/**
 * The idempotent and transactional producer. Every batch carries (producer id, epoch,
 * sequence), so a retried batch is recognised and not written twice. With a transactional id,
 * sends happen inside transactions that commit or abort atomically across partitions, with
 * consumer offsets committed in the same step (Kafka's sendOffsetsToTransaction).
 *
 * @example
 * const producer = await log.producer({ transactionalId: 'orders-app' });
 * await producer.beginTransaction();
 * await producer.send('totals', [{ key: utf8('a'), value: utf8('1'), timestamp: Date.now() }]);
 * await producer.sendOffsetsToTransaction('orders-app', [{ topic: 'orders', partition: 0, offset: 42 }]);
 * await producer.commitTransaction();
 */
import { isSluiceError, SluiceError } from '../core/index.ts';
import type { AppendResult } from './append.ts';
import { ATTR_TRANSACTIONAL } from './format.ts';
import type { LogInternals, ProduceRecord } from './internals.ts';
import type { TransactionalIdMeta, TxnMeta } from './meta.ts';
import { toPending } from './routing.ts';
import { beginTransactionLocked, currentTxn, endTransactionLocked, initTransactionalIdLocked } from './transactions.ts';

export interface ProducedOffset {
  topic: string;
  partition: number;
  /** Next offset to consume. */
  offset: number;
}

export class Producer {
  readonly producerId: number;
  readonly epoch: number;
  readonly transactionalId: string | undefined;
  /** The id of a prepared transaction left by an earlier instance, waiting for `completePrepared`. */
  pendingPrepared: string | undefined;
  private readonly log: LogInternals;
  private readonly sequences = new Map<string, number>();
  private inTransaction = false;
  /** The open transaction is prepared: it must survive this producer's close. */
  private prepared = false;
  private closed = false;

  private constructor(log: LogInternals, ids: TransactionalIdMeta, transactionalId: string | undefined, prepared: string | undefined) {
    this.log = log;
    this.producerId = ids.producerId;
    this.epoch = ids.epoch;
    this.transactionalId = transactionalId;
    this.pendingPrepared = prepared;
  }

  static async create(log: LogInternals, transactionalId?: string): Promise<Producer> {
    if (transactionalId === undefined) {
      const producerId = log.meta.locked(() => log.meta.nextCounter('producerId'));
      return new Producer(log, { producerId, epoch: 0 }, undefined, undefined);
    }
    if (!transactionalId) throw new SluiceError('INVALID_ARGUMENT', 'transactionalId must be a non-empty string');
    const { ids, prepared, files } = log.meta.locked(() => initTransactionalIdLocked(log.meta, log.lookup, transactionalId, log.now()));
    await log.afterLockedWrite(files);
    return new Producer(log, ids, transactionalId, prepared?.id);
  }

  /** Sends records; inside a transaction when one is open. Resolves when they are durable per the topic's policy. */
  async send(topic: string, records: readonly ProduceRecord[]): Promise<AppendResult[]> {
    this.checkOpen();
    if (this.transactionalId !== undefined && !this.inTransaction) {
      throw new SluiceError('INVALID_TXN_STATE', `a transactional producer sends inside a transaction: call beginTransaction() first`);
    }
    const pending: Array<Promise<AppendResult>> = [];
    for (const [partition, group] of this.log.route(topic, records)) {
      const key = `${topic}\u0000${partition}`;
      const sequence = this.sequences.get(key) ?? 0;
      this.sequences.set(key, sequence + group.length);
      const { batch, header, chunk } = toPending(group, {
        attributes: this.inTransaction ? ATTR_TRANSACTIONAL : 0,
        producer: { producerId: this.producerId, producerEpoch: this.epoch, baseSequence: sequence },
      });
      pending.push(
        this.log.appendBatch(topic, partition, {
          batch,
          header,
          ...(chunk === undefined ? {} : { chunk }),
          producer: { producerId: this.producerId, epoch: this.epoch, sequence, transactional: this.inTransaction, ...(this.transactionalId === undefined ? {} : { transactionalId: this.transactionalId }) },
        }),
      );
    }
    return Promise.all(pending);
  }

  async beginTransaction(): Promise<void> {
    const transactionalId = this.requireTransactional();
    if (this.pendingPrepared) {
      throw new SluiceError('INVALID_TXN_STATE', `transaction ${this.pendingPrepared} is prepared; call completePrepared(commit) first`);
    }
    // Not flushed: if a crash loses it, nothing was written under it that could survive either.
    this.log.meta.locked(() => beginTransactionLocked(this.log.meta, this.ids(), transactionalId, this.log.now()), { flush: false });
    this.inTransaction = true;
  }

  /** Consumer offsets that commit if and only if the transaction commits. */
  async sendOffsetsToTransaction(group: string, offsets: readonly ProducedOffset[]): Promise<void> {
    const transactionalId = this.requireTransactional();
    this.log.meta.locked(() => {
      const txn = currentTxn(this.log.meta, this.ids(), transactionalId);
      for (const { topic, partition, offset } of offsets) {
        txn.offsets = txn.offsets.filter(([g, t, p]) => !(g === group && t === topic && p === partition));
        txn.offsets.push([group, topic, partition, offset]);
      }
      this.log.meta.put(['txn', this.producerId], txn);
    }, { flush: false });
  }

  /** First phase: the transaction will survive this process; returns its id for a checkpoint to name. */
  async prepareTransaction(): Promise<string> {
    const transactionalId = this.requireTransactional();
    const txn = this.log.meta.locked(() => {
      const current = currentTxn(this.log.meta, this.ids(), transactionalId);
      current.state = 'prepared';
      this.log.meta.put(['txn', this.producerId], current);
      return current;
    });
    this.prepared = true;
    return txn.id;
  }

  async commitTransaction(): Promise<void> {
    await this.end(true);
  }

  async abortTransaction(): Promise<void> {
    await this.end(false);
  }

  /** Decides the prepared transaction an earlier instance left: commit it (its checkpoint completed) or abort it. */
  async completePrepared(commit: boolean): Promise<void> {
    this.requireTransactional();
    if (!this.pendingPrepared) return;
    const files = this.log.meta.locked(() => {
      const txn = this.log.meta.get<TxnMeta>(['txn', this.producerId]);
      return txn ? endTransactionLocked(this.log.meta, this.log.lookup, txn, commit, this.log.now()) : [];
    });
    await this.log.afterLockedWrite(files);
    this.pendingPrepared = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // A prepared transaction is left for the next writer of this id to decide: a checkpoint may
    // already name it. An open one is aborted, unless a newer writer took the id over and so
    // already ended it.
    if (this.inTransaction && !this.prepared) {
      try {
        await this.abortTransaction();
      } catch (error) {
        if (!isSluiceError(error, 'PRODUCER_FENCED')) throw error;
      }
    }
    this.inTransaction = false;
    this.closed = true;
  }

  private async end(commit: boolean): Promise<void> {
    const transactionalId = this.requireTransactional();
    const files = this.log.meta.locked(() => {
      const txn = currentTxn(this.log.meta, this.ids(), transactionalId);
      return endTransactionLocked(this.log.meta, this.log.lookup, txn, commit, this.log.now());
    });
    this.inTransaction = false;
    this.prepared = false;
    await this.log.afterLockedWrite(files);
  }

  private ids(): TransactionalIdMeta {
    return { producerId: this.producerId, epoch: this.epoch };
  }

  private requireTransactional(): string {
    this.checkOpen();
    if (this.transactionalId === undefined) {
      throw new SluiceError('INVALID_TXN_STATE', 'transactions need a producer created with a transactionalId');
    }
    return this.transactionalId;
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError('LOG_CLOSED', 'this producer is closed');
  }
}
