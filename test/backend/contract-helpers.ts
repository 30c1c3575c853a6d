// What the contract suite needs of a backend besides the LogBackend interface, and small helpers.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { FetchedRecord, LogBackend } from '../../src/backend/index.ts';
import { type ErrorCode, fromUtf8, isSluiceError, utf8 } from '../../src/core/index.ts';

/** A backend under test, with the probes the suite needs that the engine's interface does not offer. */
export interface BackendUnderTest {
  /** The backend; a new object after `reopen`. */
  readonly backend: LogBackend;
  /** Every record a read_uncommitted reader sees in a partition (open and aborted transactions' records too). */
  readUncommitted(topic: string, partition: number): Promise<FetchedRecord[]>;
  /**
   * Where the backend outlives its process: stop it as a crashed process would (writers left
   * as they are) and open it again on the same storage. Absent where nothing survives.
   */
  reopen?(): Promise<void>;
  /** Closes the backend and removes what it stored. */
  dispose(): Promise<void>;
}

export type OpenBackend = () => Promise<BackendUnderTest>;

/** Registers contract tests for one backend, each on a fresh backend disposed afterwards. */
export interface ContractSuite {
  test(title: string, body: (under: BackendUnderTest, t: TestContext) => Promise<void>): void;
}

/**
 * A suite on `open`. `knownFailures` maps a test title to why this backend fails it today: the test
 * still runs and is reported as a todo (failing) instead of being left out.
 */
export function contractSuite(open: OpenBackend, knownFailures: Readonly<Record<string, string>> = {}): ContractSuite {
  return {
    test(title, body) {
      const bug = knownFailures[title];
      void test(title, bug === undefined ? {} : { todo: `KNOWN FAILURE: ${bug}` }, async (t) => {
        const under = await open();
        try {
          await body(under, t);
        } finally {
          await under.dispose();
        }
      });
    },
  };
}

export function rec(value: string, options: { key?: string; partition?: number; timestamp?: number } = {}) {
  return {
    key: options.key === undefined ? null : utf8(options.key),
    value: utf8(value),
    timestamp: options.timestamp ?? 1000,
    ...(options.partition === undefined ? {} : { partition: options.partition }),
  };
}

export const text = (records: ReadonlyArray<{ value: Uint8Array | null }>): Array<string | null> =>
  records.map((r) => (r.value === null ? null : fromUtf8(r.value)));

/** Everything a read_committed reader gets from `from` on, paging `page` records at a time; also where it stopped. */
export async function readCommitted(backend: LogBackend, topic: string, partition: number, page = 1000, from = 0) {
  const records: FetchedRecord[] = [];
  let offset = from;
  let emptyBelowEnd = 0;
  for (let fetches = 0; ; fetches++) {
    assert.ok(fetches < 10_000, `reading ${topic}/${partition} did not reach its end after 10000 fetches (stuck at offset ${offset})`);
    const result = await backend.fetch(topic, partition, offset, page);
    assert.ok(result.records.length <= page, `a fetch of at most ${page} records returned ${result.records.length}`);
    assert.ok(result.nextOffset >= offset, `nextOffset ${result.nextOffset} went back from ${offset}`);
    records.push(...result.records);
    if (result.nextOffset === offset) {
      // An empty answer below the log's end is not always the end: Kafka may answer a fetch with
      // nothing for a moment after a transaction ends. Ask again a few times before calling it
      // the end, for up to 10 s (Kafka writes transaction markers after the commit returns, later
      // on a loaded machine; an open transaction keeps a read_committed reader here for good).
      if (emptyBelowEnd >= 200 || offset >= (await backend.endOffsets(topic))[partition]) return { records, end: offset };
      emptyBelowEnd++;
      // Not waitForData: it answers at once when records are there, which is the case here.
      await delay(50);
      continue;
    }
    emptyBelowEnd = 0;
    offset = result.nextOffset;
  }
}

export async function committedText(backend: LogBackend, topic: string, partition: number, page = 1000) {
  return text((await readCommitted(backend, topic, partition, page)).records);
}

/** Asserts that `action` fails with a SluiceError of `code`. */
export async function rejectsWith(action: Promise<unknown> | (() => Promise<unknown>), code: ErrorCode, what: string): Promise<void> {
  await assert.rejects(action, (e: unknown) => {
    assert.ok(isSluiceError(e, code), `${what}: expected SluiceError ${code}, got ${e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e)}`);
    return true;
  });
}

/** Settles `promise`, or fails with `message` after a generous `boundMs` (a bound against hanging, not a timing assertion). */
export async function within<T>(promise: Promise<T>, message: string, boundMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (not within ${boundMs} ms)`)), boundMs);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
