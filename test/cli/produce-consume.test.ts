import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { waitUntil } from '../support/wait.ts';
import { exitCode, jsonLines, lineCollector, lines, ok, sluice, sorted, start, tempDataDir } from './helpers.ts';

void describe('sluice produce and consume', { concurrency: 2 }, () => {
  void test('round trip of keys, values, headers, timestamps and explicit partitions', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'events', '--partitions', '4']);
    const input = [
      { key: 'user-1', value: { page: '/home', n: 1 }, timestamp: 1_000, headers: { source: 'web', trace: 'a-b' }, partition: 2 },
      { key: 42, value: [1, 2, 3], timestamp: 2_000, partition: 2 },
      { key: { id: 7 }, value: 'text', timestamp: 3_000, partition: 0 },
      { key: 'gone', value: null, timestamp: 4_000, partition: 3 },
      { value: true, timestamp: 5_000, partition: 3 },
    ];
    const bare = '{"id":1,"key":"not an envelope"}\n17\n"just a string"\n[1,"two"]\nnull\n';
    const beforeProduce = Date.now();
    const summary = JSON.parse(await ok(dir, ['produce', 'events', '--json'], `${lines(input)}\n${bare}`));
    const afterProduce = Date.now();
    assert.equal(summary.topic, 'events');
    assert.equal(summary.records, 10);
    assert.equal(Object.values(summary.partitions as Record<string, number>).reduce((a, b) => a + b, 0), 10);
    assert.ok(summary.partitions['2'] >= 2 && summary.partitions['3'] >= 2 && summary.partitions['0'] >= 1);

    const consumed = sorted(jsonLines(await ok(dir, ['consume', 'events', '--from-beginning', '--timeout-ms', '300'])));
    assert.equal(consumed.length, 10);
    const enveloped = consumed.filter((r) => r.timestamp <= 5_000);
    assert.deepEqual(enveloped, [
      { topic: 'events', partition: 0, offset: enveloped[0].offset, timestamp: 3_000, key: { id: 7 }, value: 'text', headers: {} },
      { topic: 'events', partition: 2, offset: enveloped[1].offset, timestamp: 1_000, key: 'user-1', value: { page: '/home', n: 1 }, headers: { source: 'web', trace: 'a-b' } },
      { topic: 'events', partition: 2, offset: enveloped[1].offset + 1, timestamp: 2_000, key: 42, value: [1, 2, 3], headers: {} },
      { topic: 'events', partition: 3, offset: enveloped[3].offset, timestamp: 4_000, key: 'gone', value: null, headers: {} },
      { topic: 'events', partition: 3, offset: enveloped[3].offset + 1, timestamp: 5_000, key: null, value: true, headers: {} },
    ]);
    // Bare values: no key, the value as given, stamped with the time they were read; all in one chunk, so one partition.
    const bareRecords = consumed.filter((r) => r.timestamp > 5_000);
    assert.deepEqual(
      bareRecords.map((r) => [r.key, r.value]),
      [
        [null, { id: 1, key: 'not an envelope' }],
        [null, 17],
        [null, 'just a string'],
        [null, [1, 'two']],
        [null, null],
      ],
    );
    assert.equal(new Set(bareRecords.map((r) => r.partition)).size, 1);
    // Stamped while produce ran: between the clock readings taken before it started and after it ended.
    for (const record of bareRecords) {
      assert.ok(record.timestamp >= beforeProduce && record.timestamp <= afterProduce, `timestamp ${record.timestamp} is not within the produce run [${beforeProduce}, ${afterProduce}]`);
    }
  });

  void test('keyed records land on murmur2(key) % partitions, as Kafka places them', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'wide', '--partitions', '50']);
    const summary = JSON.parse(await ok(dir, ['produce', 'wide', '--json'], '{"key":"foobar","value":1}\n{"key":"foobar","value":2}\n'));
    assert.deepEqual(summary.partitions, { 16: 2 });
    const consumed = jsonLines(await ok(dir, ['consume', 'wide', '--from-beginning', '--max', '2']));
    assert.deepEqual(
      consumed.map((r) => [r.partition, r.offset, r.key, r.value]),
      [
        [16, 0, 'foobar', 1],
        [16, 1, 'foobar', 2],
      ],
    );
  });

  void test('a malformed line 3 is reported as line 3 and lines 1-2 stay written', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 't', '--partitions', '1']);
    const result = await sluice(dir, ['produce', 't'], { input: '{"key":"a","value":1}\n{"key":"b","value":2}\n{"key": oops}\n{"key":"d","value":4}\n' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: line 3: not valid JSON \(.*\); the 2 records before it were written\n$/);
    assert.match(result.stdout, /wrote 2 records to t/);
    const consumed = jsonLines(await ok(dir, ['consume', 't', '--from-beginning', '--timeout-ms', '200']));
    assert.deepEqual(
      consumed.map((r) => [r.offset, r.key, r.value]),
      [
        [0, 'a', 1],
        [1, 'b', 2],
      ],
    );

    const badFields = [
      ['{"value":1,"timestamp":"yesterday"}', /line 2: "timestamp" must be epoch milliseconds/],
      ['{"value":1,"headers":{"n":1}}', /line 2: header "n" must be a string/],
      ['{"value":1,"partition":5}', /line 2: "partition" 5 does not exist: topic 't' has partitions 0 to 0/],
      ['{"value":1,"partition":-1}', /line 2: "partition" must be a non-negative integer/],
    ] as const;
    for (const [line, message] of badFields) {
      const bad = await sluice(dir, ['produce', 't'], { input: `{"value":"ok"}\n${line}\n` });
      assert.equal(bad.code, 1, line);
      assert.match(bad.stderr, message);
    }
    const described = JSON.parse(await ok(dir, ['topic', 'describe', 't', '--json']));
    assert.equal(described.partitions[0].nextOffset, 2 + badFields.length, 'each run wrote its good first line');
  });

  void test('produce creates a missing topic, as the missing-source message promises', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'other', '--partitions', '1']);
    const result = await sluice(dir, ['produce', 'missing', '--partitions', '2'], { input: '{"key":"a","value":1}\n{"key":"b","value":2}\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^created topic 'missing' with 2 partitions/);
    const described = JSON.parse(await ok(dir, ['topic', 'describe', 'missing', '--json']));
    assert.equal(described.partitions.length, 2);
    assert.equal(jsonLines(await ok(dir, ['consume', 'missing', '--from-beginning', '--timeout-ms', '300'])).length, 2);
    // An existing topic is used as it is, and nothing is said.
    const again = await sluice(dir, ['produce', 'missing'], { input: '3\n' });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '');
  });

  void test('--from-timestamp, --offset with --partition, --max, and starting at the end', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'ts', '--partitions', '2']);
    const input = [1, 2, 3, 4, 5].flatMap((i) => [
      { value: i, timestamp: i * 1000, partition: 0 },
      { value: -i, timestamp: i * 1000, partition: 1 },
    ]);
    await ok(dir, ['produce', 'ts'], lines(input));

    const fromTime = sorted(jsonLines(await ok(dir, ['consume', 'ts', '--from-timestamp', '4000', '--timeout-ms', '200'])));
    assert.deepEqual(
      fromTime.map((r) => [r.partition, r.offset, r.value]),
      [
        [0, 3, 4],
        [0, 4, 5],
        [1, 3, -4],
        [1, 4, -5],
      ],
    );
    const fromOffset = jsonLines(await ok(dir, ['consume', 'ts', '--partition', '1', '--offset', '2', '--max', '2']));
    assert.deepEqual(
      fromOffset.map((r) => [r.partition, r.offset, r.value]),
      [
        [1, 2, -3],
        [1, 3, -4],
      ],
    );
    const limited = jsonLines(await ok(dir, ['consume', 'ts', '--from-beginning', '--max', '3']));
    assert.equal(limited.length, 3);

    // Like kafka-console-consumer: without a start option only new records are printed. With
    // nothing new it ends by its timeout, printing nothing.
    assert.equal(await ok(dir, ['consume', 'ts', '--timeout-ms', '300']), '');
    // Started at the end, the first record it prints is one produced after it started (the
    // old ones are at offsets 0-4); keep producing new ones until the consumer has positioned.
    const consumer = start(dir, ['consume', 'ts', '--max', '1']);
    const collected = lineCollector(consumer);
    const first = collected.waitFor(1).then(() => true);
    await waitUntil(async () => {
      await ok(dir, ['produce', 'ts'], lines([{ value: 'new', timestamp: 9_000 }]));
      return Promise.race([first, delay(100).then(() => false)]);
    }, 'a consumer started at the end to print a record produced after it started');
    assert.equal(await exitCode(consumer), 0);
    assert.deepEqual(
      collected.records.map((r) => [r.value, r.offset >= 5]),
      [['new', true]],
    );
  });

  void test('consume usage errors and missing things', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'c', '--partitions', '2']);
    const conflict = await sluice(dir, ['consume', 'c', '--from-beginning', '--offset', '3']);
    assert.equal(conflict.code, 2);
    assert.match(conflict.stderr, /cannot be used with option/);
    const badIsolation = await sluice(dir, ['consume', 'c', '--isolation', 'dirty']);
    assert.equal(badIsolation.code, 2);
    const badMax = await sluice(dir, ['consume', 'c', '--max', '0']);
    assert.equal(badMax.code, 2);
    const noTopic = await sluice(dir, ['consume', 'nope', '--timeout-ms', '10']);
    assert.equal(noTopic.code, 1);
    assert.match(noTopic.stderr, /^error: topic 'nope' does not exist/);
    const noPartition = await sluice(dir, ['consume', 'c', '--partition', '5', '--timeout-ms', '10']);
    assert.equal(noPartition.code, 1);
    assert.equal(noPartition.stderr, "error: topic 'c' has partitions 0 to 1, not 5\n");
  });
});

void test('SIGINT stops produce after writing every line it read', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'stream', '--partitions', '1']);
  const producer = start(dir, ['produce', 'stream', '--json']);
  let stdout = '';
  producer.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  // More than one chunk, so the first is written while stdin stays open.
  producer.stdin.write(lines(Array.from({ length: 1500 }, (_, i) => ({ value: i }))));
  await waitUntil(
    async () => JSON.parse(await ok(dir, ['topic', 'describe', 'stream', '--json'])).partitions[0].nextOffset >= 1000,
    'produce to write its first 1000 records while stdin stays open',
  );
  producer.kill('SIGINT');
  const code = await exitCode(producer);
  assert.equal(code, 130);
  const summary = JSON.parse(stdout);
  assert.ok(summary.records >= 1000);
  const consumed = jsonLines(await ok(dir, ['consume', 'stream', '--from-beginning', '--timeout-ms', '200']));
  assert.equal(consumed.length, summary.records);
  assert.deepEqual(
    consumed.map((r) => r.value),
    Array.from({ length: summary.records }, (_, i) => i),
  );
});
