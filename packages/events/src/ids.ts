import { randomFillSync } from "node:crypto";

// Event ids are uuid v7 (RFC 9562): 48 bits of Unix milliseconds, then a 32-bit counter that
// starts at a random value each millisecond and counts up within it, then random bits. That is
// the layout of the uuid package's v7, which the edge used to call once per request; this one
// draws its randomness from one large pool and writes the text into one reused buffer instead
// of allocating two typed arrays and a twenty-piece string per id.

/** Random bytes one id takes: 4 seed the millisecond's counter, 6 fill the tail. */
const RANDOM_PER_ID = 10;
const pool = Buffer.allocUnsafe(RANDOM_PER_ID * 512);
let poolAt = pool.length;
/** The id's sixteen bytes, then its 36 characters. */
const bytes = new Uint8Array(16);
const text = Buffer.allocUnsafe(36);
/** Each byte's two lowercase hex digits, as character codes. */
const HEX_DIGITS = Uint8Array.from(
  Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0")).join(""),
  (c) => c.charCodeAt(0),
);
const DASH = 0x2d;

let lastMs = Number.NEGATIVE_INFINITY;
let counter = 0;

/**
 * A new event id: uuid v7, unique and in creation order within this process, also when the clock
 * steps back (ids then carry on from the last millisecond used).
 */
export function newEventId(): string {
  const now = Date.now();
  if (poolAt + RANDOM_PER_ID > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += RANDOM_PER_ID;
  if (now > lastMs) {
    // 31 bits, so that the millisecond has at least 2^31 ids before the counter wraps.
    counter = (((pool[r] as number) & 0x7f) << 24) | ((pool[r + 1] as number) << 16);
    counter |= ((pool[r + 2] as number) << 8) | (pool[r + 3] as number);
    lastMs = now;
  } else {
    counter = (counter + 1) | 0;
    // A wrapped counter borrows the next millisecond, as the uuid package does.
    if (counter === 0) lastMs++;
  }
  const ms = lastMs;
  bytes[0] = (ms / 0x10000000000) & 0xff;
  bytes[1] = (ms / 0x100000000) & 0xff;
  bytes[2] = (ms / 0x1000000) & 0xff;
  bytes[3] = (ms / 0x10000) & 0xff;
  bytes[4] = (ms / 0x100) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((counter >>> 28) & 0x0f);
  bytes[7] = (counter >>> 20) & 0xff;
  bytes[8] = 0x80 | ((counter >>> 14) & 0x3f);
  bytes[9] = (counter >>> 6) & 0xff;
  bytes[10] = ((counter << 2) & 0xff) | ((pool[r + 4] as number) & 0x03);
  for (let i = 11; i < 16; i++) bytes[i] = pool[r + i - 6] as number;

  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = DASH;
    const digits = (bytes[i] as number) * 2;
    text[at++] = HEX_DIGITS[digits] as number;
    text[at++] = HEX_DIGITS[digits + 1] as number;
  }
  return text.toString("latin1", 0, 36);
}
