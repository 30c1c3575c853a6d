/**
 * Where a consumer group or a transactional id is coordinated: the broker FindCoordinator names,
 * cached until it moves; and the wait for a transaction's markers at its coordinator.
 */
import { type Admin, type Broker, type ConnectionPool, describeTransactionsV0 } from '@platformatic/kafka';
import { SluiceError } from '../../core/index.ts';
import { kafkaCall } from './errors.ts';
import type { KafkaMetadata } from './metadata.ts';
import { retryWhile } from './retry.ts';

/** How long a transaction's markers may take to be written before commit gives up waiting. */
const SETTLE_MS = 30_000;

export class KafkaCoordinators {
  readonly #admin: Admin;
  readonly #connections: ConnectionPool;
  readonly #metadata: KafkaMetadata;
  /** Node ids by group, and by `transaction:<id>` for transactional ids. */
  readonly #nodes = new Map<string, number>();

  constructor(admin: Admin, connections: ConnectionPool, metadata: KafkaMetadata) {
    this.#admin = admin;
    this.#connections = connections;
    this.#metadata = metadata;
  }

  /** The node id of the broker coordinating `group`. */
  async node(group: string): Promise<number> {
    const known = this.#nodes.get(group);
    if (known !== undefined) return known;
    const [found] = await kafkaCall(`finding the coordinator of group '${group}'`, () => this.#admin.findCoordinator({ keyType: 0, keys: [group] }));
    if (found === undefined || found.nodeId < 0) throw new SluiceError('IO_FAILED', `Kafka: no coordinator for group '${group}'`);
    this.#nodes.set(group, found.nodeId);
    return found.nodeId;
  }

  /** The broker coordinating `group`. */
  async broker(group: string): Promise<Broker> {
    return this.#metadata.anyBroker(await this.node(group));
  }

  /** Forgets where a group's coordinator is (it moved: NOT_COORDINATOR). */
  forget(group: string): void {
    this.#nodes.delete(group);
  }

  /** Resolves when the transactional id has no transaction whose markers are still being written. */
  async settled(transactionalId: string): Promise<void> {
    const key = `transaction:${transactionalId}`;
    let node = this.#nodes.get(key);
    if (node === undefined) {
      const [found] = await kafkaCall(`finding the coordinator of transactional id '${transactionalId}'`, () => this.#admin.findCoordinator({ keyType: 1, keys: [transactionalId] }));
      if (found === undefined || found.nodeId < 0) return;
      node = found.nodeId;
      this.#nodes.set(key, node);
    }
    const broker = await this.#metadata.anyBroker(node);
    const connection = await kafkaCall('connecting to the transaction coordinator', () => this.#connections.get(broker));
    const describe = async () => {
      const { transactionStates } = await describeTransactionsV0.api.async(connection, [transactionalId]);
      const state = transactionStates[0]?.transactionState;
      if (state === 'PrepareCommit' || state === 'PrepareAbort' || state === 'PrepareEpochFence') throw new Error(`transaction ${state}`);
    };
    await kafkaCall(`waiting for the markers of transactional id '${transactionalId}'`, () => retryWhile(describe, (error) => error instanceof Error && /^transaction Prepare/.test(error.message), SETTLE_MS));
  }
}
