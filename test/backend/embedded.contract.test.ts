// The embedded durable log's backend, held to the LogBackend contract on a fresh data directory per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchedRecord } from '../../src/backend/index.ts';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { backendContract } from './contract.ts';

backendContract('embedded', async () => {
  const dir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-contract-'));
  let backend = await EmbeddedBackend.open(dir);
  return {
    get backend() {
      return backend;
    },
    async readUncommitted(topic, partition) {
      const records: FetchedRecord[] = [];
      for (let offset = backend.log.startOffset(topic, partition); ; ) {
        const page = backend.log.read(topic, partition, offset, { isolation: 'read_uncommitted' });
        records.push(...page.records);
        if (page.nextOffset === offset) return records;
        offset = page.nextOffset;
      }
    },
    async reopen() {
      await backend.close();
      backend = await EmbeddedBackend.open(dir);
    },
    async dispose() {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
