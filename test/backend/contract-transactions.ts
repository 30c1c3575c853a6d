// The contract, part 2: transactions (begin, send, offsets, commit, abort), their markers,
// read_committed readers and the last stable offset, aborted ranges, and producer fencing.
import assert from 'node:assert/strict';
import { committedText, type ContractSuite, readCommitted, rec, rejectsWith, text, within } from './contract-helpers.ts';

export function transactionContract(suite: ContractSuite): void {
  suite.test('transactions: a commit makes every record of it visible at once, across partitions and topics; each marker takes an offset', async ({ backend }) => {
      await backend.ensureTopic('a', 2);
      await backend.ensureTopic('b', 1);
      const writer = await backend.openWriter({ transactionalId: 'app' });
      await writer.beginTransaction();
      await writer.send('a', [rec('a0', { partition: 0 }), rec('a1', { partition: 1 }), rec('a0b', { partition: 0 })]);
      await writer.send('b', [rec('b0', { partition: 0 })]);
      assert.deepEqual(await backend.endOffsets('a'), [0, 0], 'nothing readable before the commit');
      assert.deepEqual(await committedText(backend, 'a', 0), []);
      await writer.commitTransaction();
      assert.deepEqual(await committedText(backend, 'a', 0), ['a0', 'a0b']);
      assert.deepEqual(await committedText(backend, 'a', 1), ['a1']);
      assert.deepEqual(await committedText(backend, 'b', 0), ['b0']);
      // Kafka's layout: one commit marker per partition the transaction wrote, skipped by readers.
      assert.deepEqual(await backend.endOffsets('a'), [3, 2]);
      assert.deepEqual(await backend.endOffsets('b'), [2]);
      assert.equal((await readCommitted(backend, 'a', 0)).end, 3, 'a reader ends past the marker');
      // The next transaction starts after the marker.
      await writer.beginTransaction();
      await writer.send('a', [rec('next', { partition: 0 })]);
      await writer.commitTransaction();
      const { records } = await readCommitted(backend, 'a', 0);
      assert.deepEqual(records.map((r) => r.offset), [0, 1, 3]);
      await writer.close();
    });

  suite.test('transactions: misuse is INVALID_TXN_STATE (no transactional id, send outside a transaction, nothing open, begin twice)', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const plain = await backend.openWriter();
      await rejectsWith(() => plain.beginTransaction(), 'INVALID_TXN_STATE', 'begin on a writer without transactional id');
      const writer = await backend.openWriter({ transactionalId: 'app' });
      await rejectsWith(() => writer.send('t', [rec('x', { partition: 0 })]), 'INVALID_TXN_STATE', 'a transactional send outside a transaction');
      await rejectsWith(() => writer.commitTransaction(), 'INVALID_TXN_STATE', 'commit with nothing open');
      await rejectsWith(() => writer.abortTransaction(), 'INVALID_TXN_STATE', 'abort with nothing open');
      await rejectsWith(() => writer.sendOffsetsToTransaction('app', [{ topic: 't', partition: 0, offset: 1 }]), 'INVALID_TXN_STATE', 'offsets with nothing open');
      await writer.beginTransaction();
      await rejectsWith(() => writer.beginTransaction(), 'INVALID_TXN_STATE', 'begin twice');
      await writer.abortTransaction();
      assert.deepEqual(await backend.endOffsets('t'), [0], 'nothing was written');
      await writer.close();
      await plain.close();
    });

  suite.test('last stable offset: an open transaction blocks read_committed readers at its first offset; read_uncommitted readers see it', async ({ backend, readUncommitted }) => {
      await backend.ensureTopic('t', 1);
      const plain = await backend.openWriter();
      const writer = await backend.openWriter({ transactionalId: 'app' });
      await plain.send('t', [rec('p0', { partition: 0 }), rec('p1', { partition: 0 })]);
      await writer.beginTransaction();
      await writer.send('t', [rec('t2', { partition: 0 })]);
      await plain.send('t', [rec('p3', { partition: 0 })]);
      assert.deepEqual(await backend.endOffsets('t'), [2], 'the last stable offset is the transaction first offset');
      const blocked = await readCommitted(backend, 't', 0);
      assert.deepEqual(text(blocked.records), ['p0', 'p1'], 'a plain record after the open transaction waits too');
      assert.equal(blocked.end, 2);
      assert.deepEqual(await backend.fetch('t', 0, 2, 10), { records: [], nextOffset: 2 }, 'a reader at the last stable offset gets nothing');
      assert.deepEqual(text(await readUncommitted('t', 0)), ['p0', 'p1', 't2', 'p3']);
      const waiting = backend.waitForData('t', 0, 2, 60_000);
      await writer.commitTransaction();
      await within(waiting, 'a read_committed waiter at the last stable offset was not woken by the commit');
      assert.deepEqual(await committedText(backend, 't', 0), ['p0', 'p1', 't2', 'p3']);
      assert.deepEqual(await backend.endOffsets('t'), [5]);
      await writer.close();
      await plain.close();
    });

  suite.test('last stable offset: with two open transactions it is the earlier first offset, and moves as each ends', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const first = await backend.openWriter({ transactionalId: 'one' });
      const second = await backend.openWriter({ transactionalId: 'two' });
      await first.beginTransaction();
      await second.beginTransaction();
      await first.send('t', [rec('one-a', { partition: 0 })]);
      await second.send('t', [rec('two-a', { partition: 0 })]);
      await first.send('t', [rec('one-b', { partition: 0 })]);
      assert.deepEqual(await backend.endOffsets('t'), [0]);
      await second.commitTransaction();
      assert.deepEqual(await backend.endOffsets('t'), [0], 'the earlier open transaction still holds it');
      await first.abortTransaction();
      assert.deepEqual(await committedText(backend, 't', 0), ['two-a'], 'the interleaved aborted records are skipped');
      assert.deepEqual(await backend.endOffsets('t'), [5]);
      await first.close();
      await second.close();
    });

  suite.test('aborted ranges: read_committed skips an aborted transaction, in pages of any size, with plain records around it kept', async ({ backend, readUncommitted }) => {
      await backend.ensureTopic('t', 2);
      const plain = await backend.openWriter();
      const writer = await backend.openWriter({ transactionalId: 'app' });
      await plain.send('t', [rec('before', { partition: 0 })]);
      await writer.beginTransaction();
      await writer.send('t', [rec('gone-1', { partition: 0 }), rec('gone-2', { partition: 0 }), rec('gone-3', { partition: 1 })]);
      await writer.abortTransaction();
      await plain.send('t', [rec('after', { partition: 0 })]);
      await writer.beginTransaction();
      await writer.send('t', [rec('kept', { partition: 0 })]);
      await writer.commitTransaction();
      for (const page of [1, 2, 100]) assert.deepEqual(await committedText(backend, 't', 0, page), ['before', 'after', 'kept'], `pages of ${page}`);
      assert.deepEqual(await committedText(backend, 't', 1), []);
      assert.equal((await readCommitted(backend, 't', 1)).end, 2, 'a reader moves past an aborted range and its marker');
      assert.deepEqual(await backend.endOffsets('t'), [7, 2]);
      assert.deepEqual(text(await readUncommitted('t', 0)), ['before', 'gone-1', 'gone-2', 'after', 'kept'], 'read_uncommitted sees aborted records');
      // A reader starting inside the aborted range gets only what comes after it.
      assert.deepEqual(text((await readCommitted(backend, 't', 0, 100, 2)).records), ['after', 'kept']);
      await writer.close();
      await plain.close();
    });

  suite.test('last stable offset: an abort releases a read_committed waiter and the plain records behind the aborted range', async ({ backend }) => {
    await backend.ensureTopic('t', 1);
    const plain = await backend.openWriter();
    const writer = await backend.openWriter({ transactionalId: 'app' });
    await writer.beginTransaction();
    await writer.send('t', [rec('gone', { partition: 0 })]);
    await plain.send('t', [rec('behind', { partition: 0 })]);
    const waiting = backend.waitForData('t', 0, 0, 60_000);
    await writer.abortTransaction();
    await within(waiting, 'a read_committed waiter held by an open transaction was not woken by its abort');
    assert.deepEqual(await committedText(backend, 't', 0), ['behind']);
    await writer.close();
    await plain.close();
  });

  suite.test('closing a writer aborts its open transaction', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const writer = await backend.openWriter({ transactionalId: 'app' });
      await writer.beginTransaction();
      await writer.send('t', [rec('unfinished', { partition: 0 })]);
      await writer.sendOffsetsToTransaction('app', [{ topic: 't', partition: 0, offset: 1 }]);
      await writer.close();
      assert.deepEqual(await backend.endOffsets('t'), [2], 'the abort marker releases the last stable offset');
      assert.deepEqual(await committedText(backend, 't', 0), []);
      assert.deepEqual(await backend.committedOffsets('app', 't'), new Map());
    });

  suite.test('offsets sent to a transaction apply when it commits (the last sent per partition), never when it aborts', async ({ backend }) => {
      await backend.ensureTopic('in', 2);
      await backend.ensureTopic('out', 1);
      await backend.commitOffsets('app', [{ topic: 'in', partition: 0, offset: 1 }]);
      const writer = await backend.openWriter({ transactionalId: 'app' });
      await writer.beginTransaction();
      await writer.send('out', [rec('r', { partition: 0 })]);
      await writer.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 0, offset: 5 }]);
      await writer.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 0, offset: 6 }, { topic: 'in', partition: 1, offset: 2 }]);
      await writer.sendOffsetsToTransaction('other', [{ topic: 'in', partition: 1, offset: 8 }]);
      assert.deepEqual(await backend.committedOffsets('app', 'in'), new Map([[0, 1]]), 'not before the commit');
      assert.deepEqual(await backend.committedOffsets('other', 'in'), new Map());
      await writer.commitTransaction();
      assert.deepEqual(await backend.committedOffsets('app', 'in'), new Map([[0, 6], [1, 2]]));
      assert.deepEqual(await backend.committedOffsets('other', 'in'), new Map([[1, 8]]));
      await writer.beginTransaction();
      await writer.send('out', [rec('dropped', { partition: 0 })]);
      await writer.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 0, offset: 99 }]);
      await writer.abortTransaction();
      assert.deepEqual(await backend.committedOffsets('app', 'in'), new Map([[0, 6], [1, 2]]), 'an abort applies none of its offsets');
      // Offsets alone (a round with no output) commit too.
      await writer.beginTransaction();
      await writer.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 1, offset: 3 }]);
      await writer.commitTransaction();
      assert.deepEqual(await backend.committedOffsets('app', 'in'), new Map([[0, 6], [1, 3]]));
      assert.deepEqual(await committedText(backend, 'out', 0), ['r']);
      await writer.close();
    });

  suite.test('fencing: a new writer with the same transactional id aborts what the old one left open and fences it', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const old = await backend.openWriter({ transactionalId: 'app' });
      await old.beginTransaction();
      await old.send('t', [rec('zombie', { partition: 0 })]);
      await old.sendOffsetsToTransaction('app', [{ topic: 't', partition: 0, offset: 1 }]);
      const fresh = await backend.openWriter({ transactionalId: 'app' });
      assert.deepEqual(await backend.endOffsets('t'), [2], 'the old transaction was aborted: its marker released the last stable offset');
      await rejectsWith(() => old.commitTransaction(), 'PRODUCER_FENCED', "the old writer's commit");
      await rejectsWith(() => old.beginTransaction(), 'PRODUCER_FENCED', "the old writer's next begin");
      await fresh.beginTransaction();
      await fresh.send('t', [rec('ok', { partition: 0 })]);
      await fresh.commitTransaction();
      assert.deepEqual(await committedText(backend, 't', 0), ['ok']);
      assert.deepEqual(await backend.committedOffsets('app', 't'), new Map());
      // Other transactional ids are not fenced.
      const other = await backend.openWriter({ transactionalId: 'other' });
      await other.beginTransaction();
      await other.send('t', [rec('other', { partition: 0 })]);
      await other.commitTransaction();
      await fresh.beginTransaction();
      await fresh.send('t', [rec('still-ok', { partition: 0 })]);
      await fresh.commitTransaction();
      assert.deepEqual(await committedText(backend, 't', 0), ['ok', 'other', 'still-ok']);
      await fresh.close();
      await other.close();
    });

  suite.test('fencing: a send of the fenced writer inside its (aborted) transaction is PRODUCER_FENCED and writes nothing', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const old = await backend.openWriter({ transactionalId: 'app' });
      await old.beginTransaction();
      await old.send('t', [rec('first', { partition: 0 })]);
      const fresh = await backend.openWriter({ transactionalId: 'app' });
      await rejectsWith(() => old.send('t', [rec('late', { partition: 0 })]), 'PRODUCER_FENCED', "the old writer's send");
      assert.deepEqual(await backend.endOffsets('t'), [2]);
      assert.deepEqual(await committedText(backend, 't', 0), []);
      await fresh.close();
    });

  suite.test('fencing: closing a fenced writer succeeds; the newer writer already ended what it left open', async ({ backend }) => {
    await backend.ensureTopic('t', 1);
    const old = await backend.openWriter({ transactionalId: 'app' });
    await old.beginTransaction();
    await old.send('t', [rec('zombie', { partition: 0 })]);
    const fresh = await backend.openWriter({ transactionalId: 'app' });
    await old.close();
    await fresh.beginTransaction();
    await fresh.send('t', [rec('ok', { partition: 0 })]);
    await fresh.commitTransaction();
    assert.deepEqual(await committedText(backend, 't', 0), ['ok']);
    await fresh.close();
  });
}
