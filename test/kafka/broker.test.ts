// The Kafka broker that `.ci/run` starts with scripts/kafka.sh (its address in
// SLUICE_KAFKA_BOOTSTRAP) is a real Apache Kafka speaking the wire protocol, with the APIs the
// Kafka backend relies on: produce and fetch, consumer groups, and transactions.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';

const bootstrap = process.env.SLUICE_KAFKA_BOOTSTRAP;
const skip = bootstrap === undefined ? 'no broker: set SLUICE_KAFKA_BOOTSTRAP (`.ci/run` starts one with scripts/kafka.sh start)' : false;

/** Sends ApiVersions v0 (api key 18) and returns the broker's [apiKey, minVersion, maxVersion] list. */
function apiVersions(host: string, port: number): Promise<{ errorCode: number; apis: [number, number, number][] }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const clientId = Buffer.from('sluice-test');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
    body.writeInt16BE(18, 0); // api key: ApiVersions
    body.writeInt16BE(0, 2); // version 0
    body.writeInt32BE(42, 4); // correlation id
    body.writeInt16BE(clientId.length, 8);
    clientId.copy(body, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    let received = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      socket.end();
      assert.equal(received.readInt32BE(4), 42, 'correlation id echoed');
      const errorCode = received.readInt16BE(8);
      const count = received.readInt32BE(10);
      const apis: [number, number, number][] = [];
      for (let i = 0; i < count; i++) {
        const at = 14 + i * 6;
        apis.push([received.readInt16BE(at), received.readInt16BE(at + 2), received.readInt16BE(at + 4)]);
      }
      resolve({ errorCode, apis });
    });
    socket.write(Buffer.concat([size, body]));
  });
}

void test('the test broker answers ApiVersions with produce, fetch, group and transaction APIs', { skip }, async () => {
  const [host, port] = bootstrap!.split(':');
  const { errorCode, apis } = await apiVersions(host, Number(port));
  assert.equal(errorCode, 0);
  const keys = new Set(apis.map(([key]) => key));
  // Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup,
  // Heartbeat, SyncGroup, InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit.
  for (const key of [0, 1, 2, 3, 8, 9, 10, 11, 12, 14, 22, 24, 25, 26, 28]) assert.ok(keys.has(key), `API ${key} missing`);
});
