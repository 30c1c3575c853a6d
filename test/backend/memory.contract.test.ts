// The in-memory backend the pipeline tests and the test kit run on, held to the LogBackend contract.
import { MemoryBackend } from '../../src/backend/memory.ts';
import { backendContract } from './contract.ts';

/** Where the memory backend differs from a real log on purpose (each still runs, shown as a todo). */
const KNOWN_DIFFERENCES = {
  'append: the log keeps its own copy of the bytes; a sender reusing its buffer changes nothing stored':
    'deliberate: it stores the sent buffers without copying (a copy per record doubled the cost of the backend the benchmarks run on)',
};

backendContract('memory', async () => {
  const backend = new MemoryBackend();
  return {
    backend,
    readUncommitted: async (topic, partition) => backend.readUncommitted(topic, partition),
    dispose: () => backend.close(),
  };
}, KNOWN_DIFFERENCES);
