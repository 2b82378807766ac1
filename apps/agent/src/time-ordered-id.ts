import { randomFillSync } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Event ids are
 * chosen by agents; ids that grow with time make the manager's inserts land on the right-most
 * pages of the events primary key instead of random ones, which keeps the database's index
 * pages hot and its write-ahead log small (a random id dirties a different page per event, and
 * after every checkpoint each of those pages is logged whole once more).
 */
export function timeOrderedId(now: number = Date.now()): string {
  const b = randomFillSync(Buffer.alloc(16));
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
