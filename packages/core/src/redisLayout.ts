/**
 * The Redis stores' record layout and Lua scripts (both Effect lines: an effect 3 app and an
 * effect 4 app can share one Redis). Plain text; each line's store sends it through its client.
 *
 * A record is a hash:
 *
 * - field `x`: when the record expires, in milliseconds on Effect's `Clock` (the writer's), or
 *   `never`. Reads and patches compare it with the caller's `Clock` time, so expiry is exact and
 *   driven by `TestClock` in tests; the key's `PX` (the same TTL, in Redis's real time) only
 *   garbage-collects it.
 * - one field per session key: the field name is the key as a JSON string (always starts with
 *   `"`, so it never collides with `x`, and a lone surrogate survives UTF-8), the value is the
 *   key's value as JSON text (`JSON.stringify`).
 *
 * Per-key fields make `patch` exact without decoding JSON in Lua: `cjson` cannot tell `[]` from
 * `{}`, rounds numbers to 14 digits and is not `JSON.parse`. The scripts only ever move JSON text
 * around, and parse a number (`tonumber`, i.e. `strtod`: exact for the shortest-round-trip text
 * `JSON.stringify` writes) for `add`.
 */

import * as Lifetime from "./lifetime.js"
import type { SessionPatch } from "./patch.js"
import { isRecord, NOT_A_RECORD, RETIRED_KEY, type SessionData, setOwn } from "./storedRecord.js"
import { unstorable } from "./value.js"

/** The hash field that holds the expiry. */
export const EXPIRY_FIELD = "x"

/** The expiry of a record that never expires. */
export const NEVER = "never"

/** The hash field of a session key: the key as a JSON string. */
export const fieldOf = (key: string): string => JSON.stringify(key)

/** The field of the retired marker (`StoredRecord.RETIRED_KEY`). */
export const RETIRED_FIELD = fieldOf(RETIRED_KEY)

/** The key of a session's record, and of its lock, under a store's prefix. */
export const recordKey = (prefix: string, id: string): string => prefix + id
/** The key of a session's lock under a store's prefix. */
export const lockKey = (prefix: string, id: string): string => `${prefix}lock:${id}`

/** Lua's text of a string constant (the fields above hold only quotes, letters, dots and `_`). */
const lua = (text: string) => `'${text}'`

/**
 * Replaces a record and its expiry in one step.
 *
 * KEYS[1] record key; ARGV[1] expiry (`never` or ms); ARGV[2] PX in ms (`0`: no expiry);
 * ARGV[3..] field, value, field, value, …
 */
export const WRITE = `
local key = KEYS[1]
redis.call("DEL", key)
redis.call("HSET", key, "${EXPIRY_FIELD}", ARGV[1])
local last = #ARGV
local i = 3
while i <= last do
  -- at most 200 pairs per HSET: unpack is bounded by Lua's C stack
  local j = math.min(i + 399, last)
  redis.call("HSET", key, unpack(ARGV, i, j))
  i = j + 1
end
local px = tonumber(ARGV[2])
if px > 0 then redis.call("PEXPIRE", key, px) end
return 1
`

/**
 * Applies a patch to the record as it is now: clear, then remove, then set, then add (the order of
 * `Patch.apply`), then resets its expiry. Returns 0 and writes nothing when the record is missing,
 * expired by the caller's clock, or retired by a rotation (`Patch.refuses`). Every result is computed before the first write, so
 * a failing `add` (a non-finite result) leaves the record untouched.
 *
 * It fails with `CORRUPT` (and writes nothing) on what it reads anyway: a key that is not a hash
 * (`WRONGTYPE`), a hash without its expiry field or with an invalid one. It does not check the
 * other fields and values as a read does (keys as JSON strings, JSON text a save could write
 * back): that means checking every byte of the record against JSON's grammar in Lua, on Redis's
 * single thread, on every save. Measured, that took 5 to 10 times as long as the whole script for
 * a 10-key session, and milliseconds for a 60 KB one. A record corrupt only there is patched; the
 * middleware never patches one, since it read the record first and deleted it as corrupt then.
 *
 * KEYS[1] record key; ARGV[1] now (ms); ARGV[2] expiry (`never` or ms); ARGV[3] PX (`0`: none);
 * ARGV[4] clear (`1`/`0`); ARGV[5] #remove; ARGV[6] #set; ARGV[7] #add; then the removed fields,
 * the set field/value pairs and the add field/delta pairs.
 */
export const PATCH = `
local key = KEYS[1]
local x = redis.call("HGET", key, "${EXPIRY_FIELD}")
if not x then
  -- no record; or a hash without its expiry field, which the stores' read calls corrupt
  if redis.call("EXISTS", key) == 1 then return redis.error_reply("CORRUPT session record has no expiry field") end
  return 0
end
if x ~= "${NEVER}" then
  local at = tonumber(x)
  if not at then return redis.error_reply("CORRUPT session record has an invalid expiry") end
  if tonumber(ARGV[1]) >= at then return 0 end
end
if redis.call("HEXISTS", key, ${lua(RETIRED_FIELD)}) == 1 then return 0 end
local clear = ARGV[4] == "1"
local nremove = tonumber(ARGV[5])
local nset = tonumber(ARGV[6])
local nadd = tonumber(ARGV[7])
-- field -> JSON text, or false for "removed"
local pending = {}
local i = 8
for _ = 1, nremove do
  pending[ARGV[i]] = false
  i = i + 1
end
for _ = 1, nset do
  pending[ARGV[i]] = ARGV[i + 1]
  i = i + 2
end
local function shortest(n)
  if n == 0 then return "0" end -- also turns -0 into 0, as JSON.stringify does
  for digits = 15, 17 do
    local text = string.format("%." .. digits .. "g", n)
    if tonumber(text) == n then return text end
  end
  return string.format("%.17g", n)
end
for _ = 1, nadd do
  local field = ARGV[i]
  local delta = tonumber(ARGV[i + 1])
  i = i + 2
  local text = pending[field]
  if text == nil and not clear then text = redis.call("HGET", key, field) end
  local current = 0
  if text then
    -- a JSON number's text is a Lua number; a quoted string, array, object, true or null is not
    local parsed = tonumber(text)
    if parsed then current = parsed end
  end
  local sum = current + delta
  if sum ~= sum or sum == math.huge or sum == -math.huge then
    return redis.error_reply("NONFINITE adding to a session value gives a number JSON cannot represent")
  end
  pending[field] = shortest(sum)
end
if clear then redis.call("DEL", key) end
redis.call("HSET", key, "${EXPIRY_FIELD}", ARGV[2])
for field, text in pairs(pending) do
  if text then
    redis.call("HSET", key, field, text)
  else
    redis.call("HDEL", key, field)
  end
end
local px = tonumber(ARGV[3])
if px > 0 then
  redis.call("PEXPIRE", key, px)
else
  redis.call("PERSIST", key)
end
return 1
`

/**
 * Deletes a lock only if it still holds the caller's token (compare-and-delete), so a holder whose
 * lock expired cannot release the next holder's lock.
 *
 * KEYS[1] lock key; ARGV[1] token.
 */
export const UNLOCK = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
`

/**
 * Retires a record that a rotation moved away from, if and only if it is still there (present, not
 * expired by the caller's clock, not already retired). Without a grace period it is deleted; with
 * one it stays readable, read-only, until `min(now + grace, its expiry)`: the retired marker and
 * the expiry field are both set to that time, and its `PX` cut to match, so a grace never extends
 * an old record's life. Returns 1 when it retired the record, 0 when there was none.
 *
 * This is the second step of a rotation (see `docs/stores.md`): the store first writes the new
 * record with `WRITE`, then runs `RETIRE` on the old key, and deletes the new record again on 0.
 * Nobody can reach the new record before the rotation returns (its ID is not out yet), so the two
 * steps are as good as one; each script touches one key, so it runs on Redis Cluster unchanged.
 *
 * KEYS[1] record key; ARGV[1] now (ms, integer); ARGV[2] grace (ms, `0`: delete).
 */
export const RETIRE = `
local key = KEYS[1]
local x = redis.call("HGET", key, "${EXPIRY_FIELD}")
if not x then return 0 end
local now = tonumber(ARGV[1])
local at = nil
if x ~= "${NEVER}" then
  at = tonumber(x)
  if not at then return redis.error_reply("CORRUPT session record has an invalid expiry") end
  if now >= at then return 0 end
end
if redis.call("HEXISTS", key, ${lua(RETIRED_FIELD)}) == 1 then return 0 end
local grace = tonumber(ARGV[2])
if grace <= 0 then
  redis.call("DEL", key)
  return 1
end
local untilAt = now + grace
if at and at < untilAt then untilAt = at end
local text = string.format("%.0f", untilAt)
redis.call("HSET", key, ${lua(RETIRED_FIELD)}, text, "${EXPIRY_FIELD}", text)
redis.call("PEXPIRE", key, untilAt - now)
return 1
`

// ---------------------------------------------------------------------------------------------
// The scripts' arguments and the record's decoding: what both lines' stores send and read, so a
// record written by one reads the same in the other.

/** A script's arguments, or why a value cannot be stored (the store's `Unencodable` message). */
export type Args =
  | { readonly _tag: "Args"; readonly args: Array<string> }
  | { readonly _tag: "Unencodable"; readonly message: string }

const unencodable = (message: string): Args => ({ _tag: "Unencodable", message })

/**
 * The most arguments one script call takes (the key aside): 50,000, a session of 24,998 keys in a
 * whole write. A call goes through a client's JavaScript, which spreads its arguments on the way
 * (effect 4's `Redis.eval`; a client whose stack ran out mid-call could be left out of step with
 * its pipeline, and hand replies to the wrong requests): a larger one is refused as `Unencodable`,
 * a typed error at the save, before anything is sent.
 *
 * @example
 * ```ts
 * import { RedisLayout } from "effect-session-core"
 *
 * RedisLayout.MAX_ARGUMENTS // 50000
 * ```
 */
export const MAX_ARGUMENTS = 50_000

const tooMany = (count: number): Args =>
  unencodable(
    `a session save of ${count} script arguments is more than the Redis store sends in one call ` +
      `(${MAX_ARGUMENTS}: about ${Math.floor(MAX_ARGUMENTS / 2) - 1} keys): keep large data out of the session`
  )

/**
 * The expiry field and `PX` of a record written at `now` (ms on the caller's `Clock`) to live
 * `ttlMillis` (already resolved against the store's default, in whole ms; `0`: never). A TTL whose
 * expiry is past what a safe integer holds (`Duration.infinity`) never expires, as in the memory
 * and SQL stores: Redis would refuse its `PX` only after the script had written the record (a
 * script is not rolled back), leaving a record without the TTL and a failed save.
 */
export const expiry = (now: number, ttlMillis: number): readonly [expiry: string, px: string] => {
  const at = Lifetime.expiresAt(now, ttlMillis)
  return at === undefined ? [NEVER, "0"] : [String(at), String(ttlMillis)]
}

/** `WRITE`'s arguments (after the key): expiry, `PX`, then each key's field and JSON text. */
export const writeArgs = (data: SessionData, [expiryText, px]: readonly [string, string]): Args => {
  if (!isRecord(data)) return unencodable(NOT_A_RECORD)
  const args: Array<string> = [expiryText, px]
  for (const key of Object.keys(data)) {
    const value = data[key]
    const problem = unstorable(key, value)
    if (problem !== undefined) return unencodable(problem)
    args.push(fieldOf(key), JSON.stringify(value))
  }
  return args.length > MAX_ARGUMENTS ? tooMany(args.length) : { _tag: "Args", args }
}

/** `PATCH`'s arguments (after the key) for `patch` at `now`. */
export const patchArgs = (now: number, [expiryText, px]: readonly [string, string], patch: SessionPatch): Args => {
  const set: Array<string> = []
  for (const [key, value] of patch.set) {
    const problem = unstorable(key, value)
    if (problem !== undefined) return unencodable(problem)
    set.push(fieldOf(key), JSON.stringify(value))
  }
  const add: Array<string> = []
  for (const [key, delta] of patch.add) {
    if (!Number.isFinite(delta)) return unencodable(`session delta for key ${JSON.stringify(key)} is ${delta}`)
    add.push(fieldOf(key), String(delta))
  }
  const count = 7 + patch.remove.length + set.length + add.length
  if (count > MAX_ARGUMENTS) return tooMany(count)
  return {
    _tag: "Args",
    args: [
      String(now),
      expiryText,
      px,
      patch.clear ? "1" : "0",
      String(patch.remove.length),
      String(patch.set.length),
      String(patch.add.length),
      ...patch.remove.map(fieldOf),
      ...set,
      ...add
    ]
  }
}

/** `RETIRE`'s arguments (after the key): now, and the grace in whole milliseconds (`0`: delete). */
export const retireArgs = (now: number, graceMillis: number): readonly [now: string, grace: string] => [
  String(now),
  // capped as `StoredRecord.graceEnd` caps it: `Duration.infinity` would reach the script as "inf",
  // which it writes as the marker and expiry before Redis refuses its PEXPIRE (no rollback)
  String(Math.max(0, Math.min(Math.ceil(graceMillis), Number.MAX_SAFE_INTEGER - now)))
]

/** A record read back: none (missing or expired), its data, or why it is corrupt. */
export type Decoded =
  | { readonly _tag: "None" }
  | { readonly _tag: "Some"; readonly data: Record<string, unknown> }
  | { readonly _tag: "Corrupt"; readonly message: string; readonly cause?: unknown }

const corrupt = (message: string, cause?: unknown): Decoded =>
  cause === undefined ? { _tag: "Corrupt", message } : { _tag: "Corrupt", message, cause }

/**
 * `HGETALL`'s reply as an object of fields, whatever the client's shape: an object (ioredis, used
 * as it is), a flat array (RESP2) or a `Map` (RESP3); `null`/`undefined` is an empty hash.
 */
const hashOf = (reply: unknown): Readonly<Record<string, unknown>> | string => {
  if (reply === null || reply === undefined) return {}
  if (Array.isArray(reply)) {
    if (reply.length % 2 !== 0) return "HGETALL reply has an odd length"
    const hash: Record<string, unknown> = Object.create(null)
    for (let i = 0; i < reply.length; i += 2) hash[String(reply[i])] = reply[i + 1]
    return hash
  }
  if (reply instanceof Map) {
    const hash: Record<string, unknown> = Object.create(null)
    for (const [field, value] of reply) hash[String(field)] = value
    return hash
  }
  return typeof reply === "object" ? reply as Record<string, unknown> : "HGETALL reply is not a hash"
}

const none: Decoded = { _tag: "None" }

/**
 * A record's hash (`HGETALL`'s reply) back into session data at `now` (ms on the caller's
 * `Clock`): none when there is no hash or it has expired (exactly at its expiry), corrupt when it
 * has no valid expiry field or a field or value that is not JSON. A key such as `"__proto__"` is
 * plain data.
 */
export const decode = (reply: unknown, now: number): Decoded => {
  try {
    return decodeReply(reply, now)
  } catch (cause) {
    // a reply whose parts have no string form (never what a Redis client hands out): corrupt, not a throw
    return corrupt("session record is not a readable hash", cause)
  }
}

const decodeReply = (reply: unknown, now: number): Decoded => {
  const hash = hashOf(reply)
  if (typeof hash === "string") return corrupt(hash)
  const fields = Object.keys(hash)
  if (fields.length === 0) return none
  if (!Object.prototype.hasOwnProperty.call(hash, EXPIRY_FIELD)) return corrupt("session record has no expiry field")
  const expiryText = String(hash[EXPIRY_FIELD])
  if (expiryText !== NEVER) {
    const at = Number(expiryText)
    if (expiryText === "" || Number.isNaN(at)) return corrupt("session record has an invalid expiry")
    if (now >= at) return none
  }
  const data: Record<string, unknown> = {}
  for (const field of fields) {
    if (field === EXPIRY_FIELD) continue
    let key: unknown
    let value: unknown
    try {
      key = JSON.parse(field)
      value = JSON.parse(String(hash[field]))
    } catch (cause) {
      return corrupt("not JSON", cause)
    }
    if (typeof key !== "string") return corrupt("session record has a field that is not a key")
    // As `StoredRecord.fromText`: a value no save could write back (`1e999`, too deep) is corruption.
    const problem = unstorable(key, value)
    if (problem !== undefined) return corrupt(`session record holds a value no save could write back: ${problem}`)
    setOwn(data, key, value)
  }
  return { _tag: "Some", data }
}

/**
 * How a store classifies a failed command by its message: the scripts' `CORRUPT`/`NONFINITE`
 * errors, Redis's `WRONGTYPE` (the key is not a hash), timeouts; anything else is unavailability.
 */
export const failureReason = (text: string): "CorruptRecord" | "Unencodable" | "Timeout" | "Unavailable" =>
  text.startsWith("WRONGTYPE") || text.startsWith("CORRUPT")
    ? "CorruptRecord"
    : text.startsWith("NONFINITE")
    ? "Unencodable"
    : /timed? ?out/i.test(text)
    ? "Timeout"
    : "Unavailable"

/** Delay between two attempts to take a held lock. */
export const LOCK_RETRY_MILLIS = 15
