/**
 * Sinks outside the log at run time: each `stream.to(sink)` gets a buffer that its operators
 * (one per task, or per stage after a union) fill, and a checkpoint participant that hands the
 * buffer to the sink's hooks when the coordinator runs a checkpoint's steps.
 */
import type { Guarantee, LogicalNode, Sink, SinkBatch } from '../api/index.ts';
import type { CheckpointParticipant, JobSnapshot } from '../checkpoint/index.ts';
import { SluiceError } from '../core/index.ts';
import type { PhysicalPlan } from '../plan/index.ts';

interface Hosted {
  name: string;
  sink: Sink;
  buffer: unknown[];
  /** The batch sealed for the checkpoint in progress. */
  sealed: SinkBatch<unknown> | undefined;
}

export class ConnectorSinks {
  readonly #sinks = new Map<string, Hosted>();
  #opened: Hosted[] = [];

  constructor(plan: PhysicalPlan) {
    for (const stage of plan.stages) {
      for (const { node } of stage.ops) {
        if (node.kind !== 'connectorSink' || this.#sinks.has(node.name)) continue;
        this.#sinks.set(node.name, { name: node.name, sink: (node as LogicalNode & { kind: 'connectorSink' }).sink, buffer: [], sealed: undefined });
      }
    }
  }

  get size(): number {
    return this.#sinks.size;
  }

  /** Records buffered for the next checkpoint, over every sink. */
  get pending(): number {
    let n = 0;
    for (const s of this.#sinks.values()) n += s.buffer.length;
    return n;
  }

  /** Where sink `name`'s operators put their values. */
  push(name: string): (value: unknown) => void {
    const hosted = this.#sinks.get(name);
    if (hosted === undefined) throw new SluiceError('INVALID_PLAN', `no sink named '${name}' in the plan`);
    return (value) => {
      hosted.buffer.push(value);
    };
  }

  /** Opens every sink (before the coordinator recovers them). */
  async open(app: string, guarantee: Guarantee, clock: () => number, warn: (message: string) => void): Promise<void> {
    for (const hosted of this.#sinks.values()) {
      try {
        await hosted.sink.open({ app, name: hosted.name, guarantee, clock, warn });
      } catch (cause) {
        throw sinkError(hosted, 'open', cause);
      }
      this.#opened.push(hosted);
    }
  }

  /**
   * Takes every sink's buffer as the batch of checkpoint `id`; returns the write-ahead batches
   * the checkpoint itself must hold (see `Sink.writeAhead`).
   */
  seal(id: number, final: boolean, now: number): Record<string, unknown[]> | undefined {
    let ahead: Record<string, unknown[]> | undefined;
    for (const hosted of this.#sinks.values()) {
      const records = hosted.buffer;
      hosted.buffer = [];
      hosted.sealed = { checkpoint: id, records, final, now };
      if (hosted.sink.writeAhead === true) (ahead ??= {})[hosted.name] = records;
    }
    return ahead;
  }

  /** The coordinator's view of each sink. */
  participants(): CheckpointParticipant[] {
    return [...this.#sinks.values()].map((hosted) => participant(hosted));
  }

  async close(): Promise<void> {
    const opened = this.#opened;
    this.#opened = [];
    let failure: unknown;
    for (const hosted of opened) {
      try {
        await hosted.sink.close();
      } catch (cause) {
        failure ??= sinkError(hosted, 'close', cause);
      }
    }
    if (failure !== undefined) throw failure;
  }
}

function participant(hosted: Hosted): CheckpointParticipant {
  const { sink } = hosted;
  const call = async (hook: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (cause) {
      throw sinkError(hosted, hook, cause);
    }
  };
  const p: CheckpointParticipant = {
    name: hosted.name,
    write: (id) => {
      const batch = hosted.sealed;
      if (batch === undefined || batch.checkpoint !== id) return Promise.reject(new SluiceError('INVALID_PLAN', `sink '${hosted.name}': checkpoint ${id} was not sealed`));
      return call('write', () => sink.write(batch));
    },
    commit: (id) =>
      call('commit', async () => {
        await sink.commit(id);
        if (hosted.sealed?.checkpoint === id) hosted.sealed = undefined;
      }),
    abort: (id) =>
      call('abort', async () => {
        await sink.abort(id);
        if (hosted.sealed?.checkpoint === id) hosted.sealed = undefined;
      }),
    recover: (last, snapshot?: JobSnapshot) => call('recover', () => sink.recover(last, sink.writeAhead === true ? (snapshot?.sinks?.[hosted.name] ?? []) : undefined)),
  };
  if (sink.prepare !== undefined) p.prepare = (id) => call('prepare', () => sink.prepare!(id));
  return p;
}

function sinkError(hosted: Hosted, hook: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new SluiceError('SINK_FAILED', `sink '${hosted.name}' (${hosted.sink.describe}) failed in ${hook}(): ${message}`, { cause, operator: hosted.name });
}
