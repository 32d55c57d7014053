import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../src/ids.js';

describe('newId', () => {
  it('issues unique UUIDv7 ids that sort in creation order across milliseconds, also as text', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 600; index++) ids.push(newId()); // more than one refill of the random pool
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const spaced: string[] = [];
    for (let index = 0; index < 5; index++) {
      spaced.push(newId());
      await sleep(2);
    }
    assert.deepEqual([...spaced].sort(), spaced, 'Postgres appends them at the right edge of its indexes');
    const millis = parseInt(spaced[0]!.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(Math.abs(millis - Date.now()) < 5_000, 'the leading 48 bits are the creation time');
  });
});
