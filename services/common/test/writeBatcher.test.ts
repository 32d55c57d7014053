import assert from 'node:assert/strict';
import { WriteBatcher } from '../src/db/writeBatcher.js';
import { DependencyUnavailableError } from '../src/errors.js';

/** A writeMany that records each statement's rows and finishes when told to. */
function recordingWriter(fail?: (rows: readonly number[]) => Error | undefined) {
  const statements: number[][] = [];
  const finishers: (() => void)[] = [];
  const writeMany = (rows: readonly number[]) =>
    new Promise<void>((resolve, reject) => {
      statements.push([...rows]);
      finishers.push(() => {
        const error = fail?.(rows);
        if (error) reject(error);
        else resolve();
      });
    });
  const finishAll = async () => {
    while (finishers.length > 0) finishers.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { statements, writeMany, finishAll };
}

const settle = (promises: Promise<void>[]) => Promise.allSettled(promises);
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteBatcher', () => {
  it('sends a lone write at once, and groups the writes that arrive while a statement runs', async () => {
    const writer = recordingWriter();
    const batcher = new WriteBatcher<number>({ writeMany: writer.writeMany, maxBatchSize: 100, maxConcurrent: 1 });
    const first = batcher.write(1);
    await turn();
    assert.deepEqual(writer.statements, [[1]]);
    const rest = [2, 3, 4, 5].map((row) => batcher.write(row));
    await turn();
    assert.equal(writer.statements.length, 1, 'no second statement while the first runs');
    await writer.finishAll();
    await first;
    await turn();
    assert.deepEqual(writer.statements, [[1], [2, 3, 4, 5]]);
    await writer.finishAll();
    await Promise.all(rest);
  });

  it('caps rows per statement and statements running at once', async () => {
    const writer = recordingWriter();
    const batcher = new WriteBatcher<number>({ writeMany: writer.writeMany, maxBatchSize: 3, maxConcurrent: 2 });
    const writes = Array.from({ length: 10 }, (_, index) => batcher.write(index));
    await turn();
    assert.deepEqual(writer.statements, [[0, 1, 2], [3, 4, 5]]);
    while (writer.statements.flat().length < 10) await writer.finishAll();
    await writer.finishAll();
    await Promise.all(writes);
    assert.deepEqual(writer.statements.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('retries a failed statement row by row, so only the bad row fails', async () => {
    const writer = recordingWriter((rows) => (rows.includes(13) ? new Error('row 13 is bad') : undefined));
    const batcher = new WriteBatcher<number>({ writeMany: writer.writeMany, maxBatchSize: 100, maxConcurrent: 1 });
    const writes = [11, 12, 13, 14].map((row) => batcher.write(row));
    await turn();
    await writer.finishAll(); // the batch fails
    await writer.finishAll(); // the single-row retries
    const results = await settle(writes);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[2] as PromiseRejectedResult).reason), /row 13 is bad/);
    assert.deepEqual(writer.statements, [[11, 12, 13, 14], [11], [12], [13], [14]]);
  });

  it('fails every row of a statement at once when the database is unreachable', async () => {
    const outage = new DependencyUnavailableError('postgres', 'PostgreSQL is not reachable');
    const writer = recordingWriter(() => outage);
    const batcher = new WriteBatcher<number>({ writeMany: writer.writeMany, maxBatchSize: 100, maxConcurrent: 1 });
    const writes = [1, 2, 3].map((row) => batcher.write(row));
    await turn();
    await writer.finishAll();
    const results = await settle(writes);
    assert.ok(results.every((result) => result.status === 'rejected' && result.reason === outage));
    assert.equal(writer.statements.length, 1, 'no row-by-row retries against a database that is down');
  });
});
