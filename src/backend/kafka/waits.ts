/**
 * waitForData on Kafka: a long-poll fetch (the broker answers when a partition has a committed
 * byte past the offset, or after the wait), never a polling loop. A broker serves one request
 * per connection at a time, so a waiting fetch gets a connection of its own, never the one
 * reads go through; waits asked for in the same tick (the round loop waits on every partition
 * at once) share one fetch per broker.
 */
import { type Broker, ConnectionPool, fetchV15 } from '@platformatic/kafka';

export interface WaitTarget {
  broker: Broker;
  topicId: string;
  partition: number;
  leaderEpoch: number;
  offset: number;
}

interface Wait {
  target: WaitTarget;
  deadline: number;
  resolve: () => void;
}

/** The broker's cap on one wait; a longer wait is several fetches. */
const MAX_WAIT_MS = 5000;
const READ_COMMITTED = 1;

export class LongPollWaits {
  readonly #clientId: string;
  /** Connection pools not in use by a waiting fetch. */
  readonly #idle: ConnectionPool[] = [];
  readonly #busy = new Set<ConnectionPool>();
  #queued: Wait[] = [];
  #scheduled = false;
  #closed = false;

  constructor(clientId: string) {
    this.#clientId = clientId;
  }

  wait(target: WaitTarget, timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#queued.push({ target, deadline: Date.now() + Math.max(0, timeoutMs), resolve });
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const queued = this.#queued;
    this.#queued = [];
    const byBroker = new Map<string, Wait[]>();
    for (const w of queued) {
      const id = `${w.target.broker.host}:${w.target.broker.port}`;
      const list = byBroker.get(id);
      if (list === undefined) byBroker.set(id, [w]);
      else list.push(w);
    }
    for (const waits of byBroker.values()) void this.#poll(waits);
  }

  async #poll(waits: Wait[]): Promise<void> {
    const pool = this.#idle.pop() ?? new ConnectionPool(this.#clientId);
    this.#busy.add(pool);
    let remaining = waits;
    try {
      while (remaining.length > 0 && !this.#closed) {
        const now = Date.now();
        const due = remaining.filter((w) => w.deadline <= now);
        for (const w of due) w.resolve();
        remaining = remaining.filter((w) => w.deadline > now);
        if (remaining.length === 0) break;
        const maxWait = Math.min(MAX_WAIT_MS, ...remaining.map((w) => w.deadline - now));
        const topics = new Map<string, { partition: number; currentLeaderEpoch: number; fetchOffset: bigint; lastFetchedEpoch: number; partitionMaxBytes: number }[]>();
        for (const { target } of remaining) {
          const list = topics.get(target.topicId) ?? [];
          // One byte is enough to know there is data; the read itself goes through the reader's connection.
          list.push({ partition: target.partition, currentLeaderEpoch: target.leaderEpoch, fetchOffset: BigInt(target.offset), lastFetchedEpoch: -1, partitionMaxBytes: 1 });
          topics.set(target.topicId, list);
        }
        const connection = await pool.get(remaining[0].target.broker);
        const response = await fetchV15.api.async(connection, maxWait, 1, 1, READ_COMMITTED, 0, -1, [...topics].map(([topicId, partitions]) => ({ topicId, partitions })), [], '');
        const ready = new Set<string>();
        for (const topic of response.responses) {
          for (const p of topic.partitions) {
            // Data, or an error the reader will meet (and report) when it fetches.
            if ((p.records?.length ?? 0) > 0 || p.errorCode !== 0) ready.add(`${topic.topicId}/${p.partitionIndex}`);
          }
        }
        const woken = remaining.filter((w) => ready.has(`${w.target.topicId}/${w.target.partition}`));
        // Any partition with data ends the round loop's wait: wake every wait of this fetch then.
        if (woken.length > 0) {
          for (const w of remaining) w.resolve();
          remaining = [];
        }
      }
    } catch {
      // A failed wait is a spurious wake-up: the reader's own fetch reports what is wrong.
      for (const w of remaining) w.resolve();
    } finally {
      this.#busy.delete(pool);
      if (this.#closed) void pool.close();
      else this.#idle.push(pool);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#queued) w.resolve();
    this.#queued = [];
    const pools = [...this.#idle, ...this.#busy];
    this.#idle.length = 0;
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }
}
