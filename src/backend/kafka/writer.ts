/**
 * A writer on Kafka: an idempotent producer, and with a transactional id a transactional one
 * (KIP-98). Opening it registers the transactional id with the coordinator at once
 * (InitProducerId), which fences older writers of the id and aborts what they left open, as
 * the contract asks. Offsets go into the transaction with TxnOffsetCommit (KIP-447): with the
 * group's generation and member id when the process is a group member (`groupMember`), else
 * as a simple (generation -1) commit, which Kafka accepts for a group without active members.
 * Kafka has no prepared (two-phase) transactions a later process could decide, so this writer
 * has no `prepareTransaction`.
 */
import { type Message, Producer } from '@platformatic/kafka';

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;
import { SluiceError } from '../../core/index.ts';
import type { BackendWriter, OutgoingRecord, TopicPartitionOffset } from '../types.ts';
import { kafkaCall, kafkaError } from './errors.ts';

/** What a writer needs of the backend: the placement of records and where a group's coordinator is. */
export interface WriterContext {
  clientId: string;
  brokers: string[];
  /** Resolves each record's partition (explicit, murmur2 of the key, or spread) and checks the topic and partitions. */
  place(topic: string, records: OutgoingRecord[]): Promise<number[]>;
  /** The node id of a group's coordinator. */
  coordinator(group: string): Promise<number>;
  /** The leader epoch of a partition (TxnOffsetCommit carries it). */
  leaderEpoch(topic: string, partition: number): Promise<number>;
  /** Resolves when a transactional id's last transaction has its markers written (read_committed readers see its end). */
  settled(transactionalId: string): Promise<void>;
  /** A live group membership of this process (scale-out): its generation and member id. */
  groupMember?(group: string): { generationId: number; memberId: string } | undefined;
}

export class KafkaWriter implements BackendWriter {
  readonly #producer: Producer;
  readonly #context: WriterContext;
  readonly #transactionalId: string | undefined;
  #transaction: Transaction | undefined;
  /** The open transaction wrote records or offsets (else the coordinator knows nothing of it). */
  #touched = false;
  #fenced: SluiceError | undefined;
  #closed = false;

  private constructor(producer: Producer, context: WriterContext, transactionalId: string | undefined) {
    this.#producer = producer;
    this.#context = context;
    this.#transactionalId = transactionalId;
  }

  static async open(context: WriterContext, transactionalId?: string): Promise<KafkaWriter> {
    const producer = new Producer({
      clientId: context.clientId,
      bootstrapBrokers: context.brokers,
      idempotent: true,
      autocreateTopics: false,
      ...(transactionalId === undefined ? {} : { transactionalId }),
    });
    const writer = new KafkaWriter(producer, context, transactionalId);
    if (transactionalId !== undefined) {
      try {
        // InitProducerId now, not at the first transaction: fences the older writer and aborts its transaction.
        // Producer id and epoch -1: a new producer (the client's default 0/0 reads as a stale epoch of another one, and is fenced).
        const t = await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 });
        await t.cancel();
        await context.settled(transactionalId);
      } catch (error) {
        await producer.close(true).catch(() => undefined);
        throw kafkaError(error, `registering transactional id '${transactionalId}'`);
      }
    }
    return writer;
  }

  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.#check();
    if (this.#transactionalId !== undefined && this.#transaction === undefined) throw new SluiceError('INVALID_TXN_STATE', 'a transactional writer sends inside a transaction: call beginTransaction() first');
    if (records.length === 0) return;
    const partitions = await this.#context.place(topic, records);
    const messages = records.map((r, i) => ({
      topic,
      partition: partitions[i],
      key: r.key === null ? undefined : Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength),
      value: (r.value === null ? null : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)) as Buffer,
      timestamp: BigInt(r.timestamp),
      ...(r.headers === undefined ? {} : { headers: new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v.buffer, v.byteOffset, v.byteLength)])) }),
    }));
    const transaction = this.#transaction;
    if (transaction !== undefined) this.#touched = true;
    for (const chunk of closeInTime(messages)) {
      await this.#call(`sending ${records.length} records to '${topic}'`, () => (transaction ? transaction.send({ messages: chunk }) : this.#producer.send({ messages: chunk })));
    }
  }

  async beginTransaction(): Promise<void> {
    this.#check();
    if (this.#transactionalId === undefined) throw new SluiceError('INVALID_TXN_STATE', 'this writer has no transactional id: open it with openWriter({ transactionalId })');
    if (this.#transaction !== undefined) throw new SluiceError('INVALID_TXN_STATE', 'a transaction is already open: commit or abort it first');
    this.#transaction = await this.#call('beginning a transaction', () => this.#producer.beginTransaction());
    this.#touched = false;
  }

  async sendOffsetsToTransaction(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    this.#check();
    const transaction = this.#openTransaction('sendOffsetsToTransaction');
    if (offsets.length === 0) return;
    const coordinatorId = await this.#context.coordinator(group);
    const member = this.#context.groupMember?.(group);
    this.#touched = true;
    const consumer = { groupId: group, generationId: member?.generationId ?? -1, memberId: member?.memberId ?? '', coordinatorId };
    await this.#call(`adding group '${group}' to the transaction`, () => transaction.addConsumer(consumer as never));
    for (const { topic, partition, offset } of offsets) {
      const leaderEpoch = await this.#context.leaderEpoch(topic, partition);
      // The client commits `message.offset + 1`: the message is the last one consumed.
      const message = { topic, partition, offset: BigInt(offset) - 1n, leaderEpoch, metadata: { consumer } } as unknown as Message;
      await this.#call(`committing offsets of group '${group}' in the transaction`, () => transaction.addOffset(message));
    }
  }

  async commitTransaction(): Promise<void> {
    this.#check();
    const transaction = this.#openTransaction('commitTransaction');
    await this.#end(transaction, true);
  }

  async abortTransaction(): Promise<void> {
    this.#check();
    const transaction = this.#openTransaction('abortTransaction');
    try {
      await this.#end(transaction, false);
    } finally {
      this.#transaction = undefined;
    }
  }

  /**
   * Ends the transaction and waits for its markers: Kafka's EndTxn answers once the decision is
   * logged and writes the markers after, so without the wait a reader right after the commit
   * could still miss it. A transaction that wrote nothing is unknown to the coordinator: it ends here.
   */
  async #end(transaction: Transaction, commit: boolean): Promise<void> {
    if (!this.#touched) {
      await transaction.cancel();
      this.#transaction = undefined;
      return;
    }
    await this.#call(commit ? 'committing the transaction' : 'aborting the transaction', () => (commit ? transaction.commit() : transaction.abort()));
    this.#transaction = undefined;
    this.#touched = false;
    await this.#context.settled(this.#transactionalId!);
  }

  /** Aborts an open transaction (a fenced writer's was already ended by its successor) and closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#transaction !== undefined && this.#fenced === undefined) await this.#end(this.#transaction, false).catch(() => undefined);
      this.#transaction = undefined;
    } finally {
      await this.#producer.close(true).catch(() => undefined);
    }
  }

  #openTransaction(what: string): Transaction {
    if (this.#transaction === undefined) throw new SluiceError('INVALID_TXN_STATE', `${what}: no transaction is open; call beginTransaction() first`);
    return this.#transaction;
  }

  #check(): void {
    if (this.#closed) throw new SluiceError('LOG_CLOSED', 'the Kafka writer is closed');
    if (this.#fenced !== undefined) throw this.#fenced;
  }

  /** Runs a client call; a fencing error fences this writer for good. */
  async #call<T>(doing: string, action: () => Promise<T>): Promise<T> {
    try {
      return await kafkaCall(doing, action);
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'PRODUCER_FENCED') {
        this.#fenced = error;
        // The transaction is over for this writer: the coordinator aborted it when the newer writer registered.
        if (this.#transaction !== undefined) await this.#transaction.cancel().catch(() => undefined);
        this.#transaction = undefined;
      }
      throw error;
    }
  }
}

/**
 * The client (2.12.1) encodes a record's timestamp delta from its batch's first timestamp as a
 * varint64 correctly only below 2^31 in magnitude (about 24 days; larger deltas come back as
 * other numbers, for every reader). Records are sent in runs whose timestamps stay within 2^30
 * ms of the run's first one, so within 2^31 of any batch's first: usually one run.
 */
function closeInTime<T extends { timestamp: bigint }>(messages: T[]): T[][] {
  const LIMIT = 1n << 30n;
  const runs: T[][] = [];
  let run: T[] = [];
  let base = 0n;
  for (const message of messages) {
    const delta = message.timestamp - base;
    if (run.length === 0 || delta >= LIMIT || delta <= -LIMIT) {
      if (run.length > 0) runs.push(run);
      run = [];
      base = message.timestamp;
    }
    run.push(message);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
