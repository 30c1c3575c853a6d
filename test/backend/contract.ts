// The LogBackend contract: one suite every backend runs (memory, embedded, and Kafka when it
// lands: one more `<name>.contract.test.ts` calling `backendContract`). It pins what the engine
// relies on: topics and partitions, append and fetch, offsets and timestamps, transactions and
// their markers, read_committed readers and the last stable offset, aborted ranges, producer
// fencing, prepared transactions, consumer-group offsets, and waitForData. The memory backend the
// pipeline tests run on is proven equal to the real log by passing the same suite.
import { describe } from 'node:test';
import { type BackendUnderTest, contractSuite } from './contract-helpers.ts';
import { logContract } from './contract-log.ts';
import { preparedContract } from './contract-prepared.ts';
import { transactionContract } from './contract-transactions.ts';

export type { BackendUnderTest } from './contract-helpers.ts';

/**
 * Registers the whole contract for a backend; `open` gives a fresh, empty one per test.
 * `knownFailures` (test title -> what is wrong) marks tests the backend fails today as todo, so the
 * failure stays visible in every run without failing it.
 */
export function backendContract(name: string, open: () => Promise<BackendUnderTest>, knownFailures: Readonly<Record<string, string>> = {}): void {
  void describe(`LogBackend contract: ${name}`, () => {
    const suite = contractSuite(open, knownFailures);
    logContract(suite);
    transactionContract(suite);
    preparedContract(suite);
  });
}
