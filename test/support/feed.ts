// Input that keeps arriving while a crash test kills and restarts its app: events produced to a
// topic of the embedded log as JSON, a chunk at a time with a pause between chunks.
import { utf8 } from '../../src/core/index.ts';
import type { Log } from '../../src/log/index.ts';

export interface Feed {
  /** Events produced so far. */
  readonly produced: number;
  /** Resolves once every event is produced. */
  readonly done: Promise<void>;
}

export interface FeedOptions<E> {
  /** Events per produce call. */
  chunk: number;
  /** The record key of an event. */
  key: (event: E) => string;
  /** Pause after each chunk. */
  pauseMs: number;
}

/** Starts producing `events` to `topic`, each keyed by `key`, stamped with its `ts`. */
export function feedInChunks<E extends { ts: number }>(log: Log, topic: string, events: readonly E[], options: FeedOptions<E>): Feed {
  let produced = 0;
  const done = (async () => {
    while (produced < events.length) {
      const chunk = events.slice(produced, produced + options.chunk);
      await log.produce(topic, chunk.map((e) => ({ key: utf8(options.key(e)), value: utf8(JSON.stringify(e)), timestamp: e.ts })));
      produced += chunk.length;
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  })();
  return {
    get produced() {
      return produced;
    },
    done,
  };
}
