/**
 * Scale-out on Kafka: a process of an app is a member of the app's consumer group, and runs the
 * tasks Kafka's group assigns it (Kafka Streams' model; no cluster manager of our own). A task
 * is a partition number across the app's co-partitioned topics: source stage task p reads
 * partition p of its source topic, keyed stage task p reads partition p of its repartition
 * topic (repartition.ts), and its state is its slice of the checkpoint in partition p of
 * `<app>.checkpoints` (checkpoint/task-checkpoints.ts).
 *
 * Each generation of the group runs as one Job over the assigned tasks. When the group
 * rebalances (a process joins or leaves, or dies and its session times out), the job finishes
 * its round, commits (output, task checkpoints and offsets in one transaction, with the
 * generation it ran in), drops its tasks and rejoins; the next generation's job restores its
 * tasks' checkpoints and resumes. A process that was dropped meanwhile (a zombie) has its
 * commit refused by the group (ILLEGAL_GENERATION): its transaction aborts, and the new owner
 * redoes that work from the last commit.
 */
import { randomUUID } from 'node:crypto';
import { TaskCheckpoints } from '../checkpoint/index.ts';
import type { TopicPartitionOffset } from '../backend/index.ts';
import { isSluiceError, SluiceError } from '../core/index.ts';
import { type PhysicalPlan, physicalPlan } from '../plan/index.ts';
import { Job, type JobOptions, type RunSummary } from './job.ts';
import { repartitionExchanges, repartitionTopic } from './repartition.ts';
import { type QueryableWindows, StoreRegistry } from './stores.ts';

/** The runtime's view of a group membership (backend/kafka/group.ts implements it). */
export interface GroupPort {
  /** Joins (or rejoins) and resolves with this member's tasks in the new generation. */
  join(): Promise<{ generationId: number; tasks: number[]; members: string[]; producers: string[] }>;
  /** Calls `listener` once the current generation ends. */
  onChange(listener: () => void): void;
  leave(): Promise<void>;
  readonly label: string;
}

export interface GroupJobOptions extends JobOptions {
  /** Joins the app's group with this many tasks, telling the others this process's transactional id. */
  openGroup(tasks: number, producer: string): Promise<GroupPort>;
  /** Where the process says which tasks it runs (default stderr). */
  log?: (line: string) => void;
  /** Deletes records before these offsets (Kafka's DeleteRecords): repartition records once consumed and committed. */
  purge?: (offsets: TopicPartitionOffset[]) => Promise<void>;
}

/** How often a process purges what its tasks consumed from repartition topics. */
const PURGE_INTERVAL_MS = 30_000;

export class GroupJob {
  readonly plan: PhysicalPlan;
  readonly stores: StoreRegistry;
  readonly #options: GroupJobOptions;
  readonly #log: (line: string) => void;
  readonly #transactionalId: string;
  #tasks = 0;
  #group: GroupPort | undefined;
  #job: Job | undefined;
  /** The producers of the last generation this process was in. */
  #producers: string[] = [];
  #lastPurge = 0;
  #stopped = false;

  constructor(options: GroupJobOptions) {
    this.#options = options;
    this.plan = physicalPlan(options.graph);
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    // One transactional producer per process (KIP-447): the group's generation fences a zombie's offsets.
    this.#transactionalId = `${options.name}-${randomUUID()}`;
    const current = () => this.#job;
    this.stores = new (class extends StoreRegistry {
      override operators(name: string): readonly QueryableWindows[] {
        return current()?.stores.operators(name) ?? [];
      }
    })();
  }

  get name(): string {
    return this.#options.name;
  }

  /** Checks the topics are co-partitioned, creates the repartition and checkpoint topics, and joins the group. */
  async open(): Promise<void> {
    const { backend, name } = this.#options;
    if (this.#options.state?.store !== undefined) {
      throw new SluiceError('INVALID_ARGUMENT', `app '${name}': on Kafka, state travels with its task in the checkpoint topic; use state 'memory' there`);
    }
    const counts = new Map<string, number>();
    for (const stage of this.plan.stages) {
      if (stage.entry.kind !== 'source') continue;
      try {
        counts.set(stage.entry.topic, await backend.partitions(stage.entry.topic));
      } catch (cause) {
        throw new SluiceError('TOPIC_NOT_FOUND', `source topic '${stage.entry.topic}' does not exist on the Kafka cluster; create it (sluice topic create ${stage.entry.topic} --partitions 6 --kafka HOST:PORT)`, { cause });
      }
    }
    const tasks = new Set(counts.values());
    if (tasks.size > 1) {
      const list = [...counts].map(([topic, n]) => `'${topic}' ${n}`).join(', ');
      throw new SluiceError('INVALID_ARGUMENT', `app '${name}': on Kafka, a task is one partition number across every source topic, so they need the same partition count; they have ${list}`);
    }
    this.#tasks = [...tasks][0] ?? 1;
    for (const stage of this.plan.stages) if (stage.entry.kind === 'keyBy') await backend.ensureTopic(repartitionTopic(name, stage.entry.name), this.#tasks, { keepForever: true });
    await TaskCheckpoints.ensureTopic(backend, name, this.#tasks);
    this.#group = await this.#options.openGroup(this.#tasks, this.#transactionalId);
  }

  runBounded(): Promise<RunSummary> {
    return this.#run(true);
  }

  runUnbounded(): Promise<RunSummary> {
    return this.#run(false);
  }

  /** One job per generation, until stopped (or, bounded, until the tasks this process ran reached their ends). */
  async #run(bounded: boolean): Promise<RunSummary> {
    const group = this.#group!;
    const total: RunSummary = { records: 0, deadLetters: 0, late: 0, written: 0 };
    try {
      while (!this.#stopped) {
        const generation = await group.join();
        if (this.#stopped) break;
        this.#log(`sluice: app '${this.name}' (${group.label}) runs tasks [${generation.tasks.join(',')}] of ${this.#tasks} in generation ${generation.generationId} of ${generation.members.length} member(s): ${generation.members.join(', ')}`);
        const job = this.#newJob(new Set(generation.tasks));
        this.#job = job;
        group.onChange(() => job.interrupt());
        let summary: RunSummary;
        try {
          await this.#fenceGone(generation.producers);
          await job.open();
          summary = bounded ? await job.runBounded() : await job.runUnbounded();
        } catch (error) {
          await job.close().catch(() => undefined);
          this.#job = undefined;
          // Dropped from the group before the commit (a zombie; fenced by the others), or the group rebalanced
          // while the job opened: the transaction aborted, the tasks' new owners redo the work from the last commit.
          if (isSluiceError(error) && (error.code === 'ILLEGAL_GENERATION' || error.code === 'PRODUCER_FENCED')) {
            this.#log(`sluice: app '${this.name}' (${group.label}) lost its tasks before committing (${error.message}); rejoining`);
            continue;
          }
          throw error;
        }
        await job.close();
        this.#job = undefined;
        total.records += summary.records;
        total.deadLetters += summary.deadLetters;
        total.late += summary.late;
        total.written += summary.written;
        if (!job.interrupted) break;
      }
    } finally {
      await group.leave();
    }
    return total;
  }

  /**
   * Fences the producers of members that were in this process's last generation and are not in
   * this one (dead, or zombies): Kafka aborts their open transaction now, instead of after its
   * timeout, so read_committed reads of the partitions it wrote (the tasks' checkpoints among
   * them) move on, and the group's offsets it held become stable.
   */
  async #fenceGone(producers: string[]): Promise<void> {
    const gone = this.#producers.filter((p) => p !== this.#transactionalId && !producers.includes(p));
    this.#producers = producers;
    if (this.#options.guarantee !== 'exactly-once') return;
    for (const producer of gone) {
      const writer = await this.#options.backend.openWriter({ transactionalId: producer });
      await writer.close();
    }
  }

  #newJob(assigned: ReadonlySet<number>): Job {
    const { dataDir: _savepointsOnly, ...options } = this.#options;
    const warn = options.warn ?? ((message: string) => process.stderr.write(`sluice: ${message}\n`));
    const job: Job = new Job({
      ...options,
      assigned,
      exchanges: repartitionExchanges({ app: options.name, assigned }),
      transactionalId: this.#transactionalId,
      afterCommit: (offsets) => this.#purge(offsets),
      persistence: (blank) => new TaskCheckpoints({ backend: options.backend, app: options.name, tasks: this.#tasks, assigned, blank, warn, producer: this.#transactionalId, abandoned: () => job.interrupted }),
    });
    return job;
  }

  /**
   * Repartition records a committed checkpoint consumed are needed no more (a task restarts from
   * its committed offset): delete them, as Kafka Streams does, so the topics stay small though
   * they keep records forever (their timestamps are event times, which time retention would judge).
   */
  async #purge(offsets: TopicPartitionOffset[]): Promise<void> {
    const purge = this.#options.purge;
    const now = Date.now();
    if (purge === undefined || now - this.#lastPurge < PURGE_INTERVAL_MS) return;
    this.#lastPurge = now;
    const suffix = '-repartition';
    const consumed = offsets.filter((o) => o.topic.startsWith(`${this.name}-`) && o.topic.endsWith(suffix) && o.offset > 0);
    if (consumed.length > 0) await purge(consumed).catch((error: unknown) => this.#log(`sluice: app '${this.name}': purging consumed repartition records failed (they stay until the next try): ${error instanceof Error ? error.message : String(error)}`));
  }

  savepoint(): Promise<string> {
    return Promise.reject(new SluiceError('INVALID_ARGUMENT', `app '${this.name}' runs on Kafka, where its state lives per task in topic '${this.name}.checkpoints'; savepoints are for the embedded log`));
  }

  stop(): void {
    this.#stopped = true;
    this.#job?.stop();
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#job?.close();
    await this.#group?.leave();
  }
}
