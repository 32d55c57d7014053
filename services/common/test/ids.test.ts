import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../src/ids.js';

describe('newId', () => {
  it('issues UUIDv7 ids that sort in creation order, also as text', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(newId(), newId());
      await sleep(2);
    }
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids, 'Postgres appends them at the right edge of its indexes');
    const millis = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(Math.abs(millis - Date.now()) < 5_000, 'the leading 48 bits are the creation time');
  });
});
