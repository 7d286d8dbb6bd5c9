import * as crypto from "node:crypto"
import { createHash, randomBytes } from "node:crypto"

/** Bytes of entropy in a session ID or CSRF token: 256 bits. */
const ID_BYTES = 32

/**
 * 32 bytes in unpadded base64url are 43 characters; the last one carries only 4 bits, so it is
 * one of 16 characters. Anything else is not an ID this library issued: a near miss (one
 * character short, padded, standard base64) is rejected before any store I/O.
 */
const ID_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

/** Pre-drawn entropy: one `randomBytes` call serves many IDs (the syscall dominates otherwise). */
const POOL_SIZE = ID_BYTES * 128
let pool = Buffer.alloc(0)
let poolOffset = POOL_SIZE

/** A fresh 256-bit random value from `node:crypto`, base64url without padding. */
export const generate = (): string => {
  if (poolOffset >= POOL_SIZE) {
    pool = randomBytes(POOL_SIZE)
    poolOffset = 0
  }
  const id = pool.toString("base64url", poolOffset, poolOffset + ID_BYTES)
  // Each slice is handed out once: wipe it so the pool never holds an issued ID.
  pool.fill(0, poolOffset, poolOffset + ID_BYTES)
  poolOffset += ID_BYTES
  return id
}

/** Whether a cookie value has the exact shape of an ID from `generate`. */
export const isWellFormed = (value: string): boolean => value.length === 43 && ID_PATTERN.test(value)

/**
 * The key a session is stored under: SHA-256 of the ID, base64url. A dump of the store holds no
 * live session ID, and the ID's 256 bits of entropy make a keyed hash unnecessary.
 */
export const storageKey: (id: string) => string = typeof crypto.hash === "function"
  // One-shot hashing (Node >= 20.12): no Hash object per request, about 3x faster than createHash.
  ? (id) => crypto.hash("sha256", id, "base64url")
  : (id) => createHash("sha256").update(id).digest("base64url")
