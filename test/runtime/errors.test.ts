// Error routing: bad records go to `<name>.dlq` with the error, source position and original
// bytes; with onError 'fail' the run rejects naming the operator and position.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Event = { id: number; user: string; ts: number };

function input(kit: TestKit): void {
  kit.inputRaw('events', ['{"id":1,"user":"a","ts":1000}', 'not json', '{"id":2,"user":"a","ts":2000}', '{"id":3,"user":"b","ts":3000}', '{"id":4,"user":"boom","ts":4000}', '{"id":5,"user":"a"}', '{"id":6,"user":"b","ts":6000}']);
}

void test('a record that fails to decode or throws in user code goes to the dead-letter topic; the rest goes on', async () => {
  const kit = new TestKit();
  input(kit);
  const app = kit.app({ name: 'errs' });
  app
    .stream<Event>('events', { timestamp: (e) => e.ts })
    .map((e) => {
      if (e.id === 3) throw new Error('three is not allowed');
      return e;
    }, { name: 'reject-three' })
    .keyBy((e) => {
      if (e.user === 'boom') throw new Error('no key for boom');
      return e.user;
    })
    .window(Windows.tumbling('10s'))
    .collect((e) => e.id)
    .to('ids');
  const summary = await app.run({ bounded: true });
  assert.deepEqual(kit.output('ids'), [{ key: 'a', start: 0, end: 10_000, value: [1, 2] }, { key: 'b', start: 0, end: 10_000, value: [6] }]);
  // Decoding runs over a batch before the operators do, so sort by position.
  const letters = kit.deadLetters('errs').sort((a, b) => a.offset! - b.offset!);
  assert.equal(summary.deadLetters, 4);
  assert.deepEqual(
    letters.map((l) => [l.offset, l.operator, l.code]),
    [
      [1, 'source-events', 'DECODE_FAILED'],
      [3, 'reject-three', 'USER_FUNCTION_FAILED'],
      [4, 'keyBy-2', 'USER_FUNCTION_FAILED'],
      [5, 'source-events', 'INVALID_RECORD'],
    ],
  );
  assert.equal(Buffer.from(letters[0].value!, 'base64').toString(), 'not json');
  assert.equal(letters[1].error, 'three is not allowed');
  assert.ok(letters.every((l) => l.topic === 'events' && l.partition === 0));
});

void test('an aggregate that throws dead-letters its record, and the records after it in the batch still count', async () => {
  const kit = new TestKit();
  kit.input('nums', [1, 2, -1, 3, 4], { timestamp: () => 0 });
  const app = kit.app({ name: 'agg-errs' });
  app
    .stream<number>('nums')
    .keyBy(() => 'k')
    .window(Windows.tumbling('1m'))
    .aggregate(
      () => 0,
      (_key, n, total) => {
        if (n < 0) throw new Error('negative');
        return total + n;
      },
    )
    .to('totals');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output('totals'), [{ key: 'k', start: 0, end: 60_000, value: 10 }]);
  assert.deepEqual(kit.deadLetters('agg-errs').map((l) => [l.offset, Buffer.from(l.value!, 'base64').toString()]), [[2, '-1']]);
});

void test("onError 'fail' rejects the run with the operator and source position, and commits nothing after the last checkpoint", async () => {
  const kit = new TestKit();
  input(kit);
  const app = kit.app({ name: 'strict', onError: 'fail' });
  app.stream<Event>('events').map((e) => e.id).to('ids');
  await assert.rejects(app.run({ bounded: true }), (error: unknown) => {
    assert.ok(isSluiceError(error));
    assert.equal(error.operator, 'source-events');
    assert.deepEqual(error.position, { topic: 'events', partition: 0, offset: 1 });
    assert.match(error.message, /source-events.*events\/0@1/);
    return true;
  });
  assert.deepEqual(kit.output('ids'), []);
  assert.equal((await kit.backend.committedOffsets('strict', 'events')).size, 0);
});

void test('an exception in a process function names the operator when the app fails', async () => {
  const kit = new TestKit();
  kit.input('nums', [1, 2, 3]);
  const app = kit.app({ name: 'strict-process', onError: 'fail' });
  app
    .stream<number>('nums')
    .keyBy((n) => n % 2)
    .process<number>({
      processElement(n, ctx) {
        if (n === 2) throw new Error('two');
        ctx.emit(n);
      },
    }, { name: 'picky' })
    .to('out');
  await assert.rejects(app.run({ bounded: true }), (error: unknown) => isSluiceError(error, 'USER_FUNCTION_FAILED') && error.operator === 'picky' && /nums\/0@1/.test(error.message));
});
