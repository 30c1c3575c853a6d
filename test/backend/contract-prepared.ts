// The contract, part 3: prepared (two-phase) transactions, the optional part of a writer.
// A prepared transaction holds its records and offsets back like an open one, but outlives
// its writer: the next writer with its transactional id finds it and decides it.
import assert from 'node:assert/strict';
import type { BackendWriter } from '../../src/backend/index.ts';
import { committedText, type ContractSuite, rec, rejectsWith } from './contract-helpers.ts';

type Prepared = Required<Pick<BackendWriter, 'prepareTransaction' | 'completePrepared'>> & BackendWriter;

function twoPhase(writer: BackendWriter): Prepared {
  assert.equal(typeof writer.prepareTransaction, 'function', 'this backend has no prepareTransaction');
  assert.equal(typeof writer.completePrepared, 'function', 'this backend has no completePrepared');
  return writer as Prepared;
}

export function preparedContract(suite: ContractSuite): void {
  for (const commit of [true, false]) {
    suite.test(`prepared: the writer that prepared a transaction ${commit ? 'commits' : 'aborts'} it; until then it is held back like an open one`, async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const writer = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
      await writer.beginTransaction();
      await writer.send('t', [rec('r', { partition: 0 })]);
      await writer.sendOffsetsToTransaction('app', [{ topic: 't', partition: 0, offset: 1 }]);
      const id = await writer.prepareTransaction();
      assert.equal(typeof id, 'string');
      assert.ok(id.length > 0);
      assert.deepEqual(await backend.endOffsets('t'), [0], 'a prepared transaction holds the last stable offset');
      assert.deepEqual(await backend.committedOffsets('app', 't'), new Map());
      await (commit ? writer.commitTransaction() : writer.abortTransaction());
      assert.deepEqual(await committedText(backend, 't', 0), commit ? ['r'] : []);
      assert.deepEqual(await backend.committedOffsets('app', 't'), commit ? new Map([[0, 1]]) : new Map());
      assert.deepEqual(await backend.endOffsets('t'), [2]);
      await writer.close();
    });

    suite.test(`prepared: the next writer with the transactional id finds the prepared transaction and ${commit ? 'commits' : 'aborts'} it`, async ({ backend }) => {
      await backend.ensureTopic('t', 2);
      const old = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
      await old.beginTransaction();
      await old.send('t', [rec('r0', { partition: 0 }), rec('r1', { partition: 1 })]);
      await old.sendOffsetsToTransaction('app', [{ topic: 't', partition: 1, offset: 4 }]);
      const id = await old.prepareTransaction();
      const next = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
      assert.equal(next.pendingPrepared, id, 'the new writer names the prepared transaction');
      assert.deepEqual(await backend.endOffsets('t'), [0, 0], 'opening the new writer did not abort it');
      await rejectsWith(() => next.beginTransaction(), 'INVALID_TXN_STATE', 'begin before the prepared transaction is decided');
      await next.completePrepared(commit);
      assert.equal(next.pendingPrepared, undefined);
      assert.deepEqual(await committedText(backend, 't', 0), commit ? ['r0'] : []);
      assert.deepEqual(await committedText(backend, 't', 1), commit ? ['r1'] : []);
      assert.deepEqual(await backend.committedOffsets('app', 't'), commit ? new Map([[1, 4]]) : new Map());
      await next.beginTransaction();
      await next.send('t', [rec('after', { partition: 0 })]);
      await next.commitTransaction();
      assert.deepEqual(await committedText(backend, 't', 0), commit ? ['r0', 'after'] : ['after']);
      await next.close();
    });

    suite.test(`prepared: a prepared transaction survives a restart of the backend, and the next writer ${commit ? 'commits' : 'aborts'} it`, async (under, t) => {
      if (under.reopen === undefined) {
        t.skip('nothing outlives this backend: it has no restart');
        return;
      }
      await under.backend.ensureTopic('t', 1);
      const old = twoPhase(await under.backend.openWriter({ transactionalId: 'app' }));
      await old.beginTransaction();
      await old.send('t', [rec('prepared', { partition: 0 })]);
      await old.sendOffsetsToTransaction('app', [{ topic: 't', partition: 0, offset: 1 }]);
      const id = await old.prepareTransaction();
      const unprepared = await under.backend.openWriter({ transactionalId: 'other' });
      await unprepared.beginTransaction();
      await unprepared.send('t', [rec('ongoing', { partition: 0 })]);
      await under.reopen(); // as a crash leaves them: neither writer closed
      const backend = under.backend;
      assert.deepEqual(await backend.endOffsets('t'), [0], 'both transactions still hold the last stable offset');
      const next = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
      assert.equal(next.pendingPrepared, id);
      await next.completePrepared(commit);
      const other = await backend.openWriter({ transactionalId: 'other' });
      assert.equal(other.pendingPrepared, undefined, 'an ongoing (not prepared) transaction is not kept for the next writer');
      assert.deepEqual(await committedText(backend, 't', 0), commit ? ['prepared'] : [], 'the ongoing one was aborted when its id was taken again');
      assert.deepEqual(await backend.committedOffsets('app', 't'), commit ? new Map([[0, 1]]) : new Map());
      await next.close();
      await other.close();
    });
  }

  suite.test('prepared: a fenced writer can neither commit nor abort the prepared transaction a newer writer took over', async ({ backend }) => {
    await backend.ensureTopic('t', 1);
    const old = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
    await old.beginTransaction();
    await old.send('t', [rec('r', { partition: 0 })]);
    const id = await old.prepareTransaction();
    const next = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
    await rejectsWith(() => old.commitTransaction(), 'PRODUCER_FENCED', "the fenced writer's commit");
    await rejectsWith(() => old.abortTransaction(), 'PRODUCER_FENCED', "the fenced writer's abort");
    assert.deepEqual(await backend.endOffsets('t'), [0], 'the prepared transaction is still undecided');
    assert.equal(next.pendingPrepared, id);
    await next.completePrepared(false);
    assert.deepEqual(await committedText(backend, 't', 0), []);
    await next.close();
  });

  suite.test('prepared: closing the writer that prepared a transaction leaves it for the next writer to decide', async ({ backend }) => {
    await backend.ensureTopic('t', 1);
    const writer = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
    await writer.beginTransaction();
    await writer.send('t', [rec('r', { partition: 0 })]);
    const id = await writer.prepareTransaction();
    // A checkpoint may already name this transaction: only the next writer, reading that checkpoint, may decide it.
    await writer.close();
    assert.deepEqual(await backend.endOffsets('t'), [0], 'closing the writer did not end the prepared transaction');
    const next = twoPhase(await backend.openWriter({ transactionalId: 'app' }));
    assert.equal(next.pendingPrepared, id);
    await next.completePrepared(true);
    assert.deepEqual(await committedText(backend, 't', 0), ['r']);
    await next.close();
  });
}
