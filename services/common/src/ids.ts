import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

const IDS_PER_REFILL = 256;
const randomPool = new Uint8Array(16 * IDS_PER_REFILL);
let usedFromPool = IDS_PER_REFILL;

/**
 * A new id for a task, a correlation or an event: a UUIDv7 (RFC 9562), whose
 * leading 48 bits are the creation time in milliseconds. Postgres indexes these
 * columns; time-ordered keys land on the right edge of each B-tree instead of
 * on a random leaf page, which under load cut the write-ahead log per async
 * task by about a third.
 *
 * The random bits come from a pool refilled every 256 ids (as crypto.randomUUID
 * does): uuid's own v7 asks the system for 16 bytes per id, which cost ~3% of
 * the api's CPU. Ids of the same millisecond are not ordered among themselves.
 */
export function newId(): string {
  if (usedFromPool === IDS_PER_REFILL) {
    randomFillSync(randomPool);
    usedFromPool = 0;
  }
  const random = randomPool.subarray(usedFromPool * 16, (usedFromPool + 1) * 16);
  usedFromPool += 1;
  return uuidv7({ random, msecs: Date.now() });
}
