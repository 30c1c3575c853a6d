/**
 * Asking a running app something through its control topic (`<app>.control`, see
 * runtime/control.ts): `sluice savepoint create` and `sluice plan` send a request and wait for
 * the reply naming it.
 */
import { randomUUID } from 'node:crypto';
import { EmbeddedBackend } from '../backend/embedded.ts';
import { jsonCodec, runningApp, SluiceError } from '../core/index.ts';
import type { Log } from '../log/index.ts';
import { type ControlMessage, controlTopic, safeDecode } from '../runtime/control.ts';

/**
 * Sends `message` (its `request` id filled in) to the running app and resolves with its reply.
 * `what` says what is asked for, in messages ("savepoints are taken", "profiles are measured").
 */
export async function askApp(log: Log, dataDir: string, app: string, message: { type: 'savepoint' } | { type: 'profile'; sampleMs: number }, timeoutMs: number, what: string): Promise<ControlMessage> {
  const backend = EmbeddedBackend.wrap(log);
  const topic = controlTopic(app);
  // Only the running app answers: without one, nobody would ever reply.
  const running = runningApp(dataDir, app) !== undefined;
  if (!log.listTopics().some((t) => t.name === topic)) {
    if (!running) throw new SluiceError('INVALID_ARGUMENT', `app '${app}' has never run in this data directory (no topic '${topic}'); start it with \`sluice run FILE\``);
    // Started a moment ago, not yet at its control topic: the request waits there, and the app
    // reads requests sent after its process started (runtime/control.ts).
    log.ensureTopic(topic, { partitions: 1 });
  } else if (!running) {
    throw new SluiceError('INVALID_ARGUMENT', `no process runs app '${app}' in ${dataDir}; ${what} while it runs: start it with \`sluice run FILE\`, then ask again`);
  }
  let [offset] = await backend.endOffsets(topic);
  const request = randomUUID();
  await log.produce(topic, [{ key: null, value: jsonCodec.encode({ ...message, request }), timestamp: Date.now() }]);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { records, nextOffset } = await backend.fetch(topic, 0, offset, 100);
    for (const record of records) {
      const reply = safeDecode(record.value);
      if (reply?.request === request && reply.type !== message.type) return reply;
    }
    offset = nextOffset;
    await backend.waitForData(topic, 0, offset, Math.max(1, Math.min(500, deadline - Date.now())));
  }
  throw new SluiceError('PIPELINE_FAILED', `app '${app}' did not answer within ${timeoutMs} ms; is it running (sluice run) in this data directory?`);
}
