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

import { RETIRED_KEY } from "./storedRecord.js"

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
 * KEYS[1] record key; ARGV[1] now (ms); ARGV[2] expiry (`never` or ms); ARGV[3] PX (`0`: none);
 * ARGV[4] clear (`1`/`0`); ARGV[5] #remove; ARGV[6] #set; ARGV[7] #add; then the removed fields,
 * the set field/value pairs and the add field/delta pairs.
 */
export const PATCH = `
local key = KEYS[1]
local x = redis.call("HGET", key, "${EXPIRY_FIELD}")
if not x then return 0 end
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
 * Moves a session to a new ID if, and only if, its record under the old ID is live and not
 * retired: writes the new record (as `WRITE` does), then deletes the old one, or, with a grace
 * period, marks it retired until `min(now + grace, its expiry)` and cuts its expiry to that.
 * Returns 1, or 0 (nothing written) when the old record is missing, expired or retired. Both keys
 * must hash to one slot on a Redis Cluster (a `{hash tag}` in the prefix).
 *
 * KEYS[1] old record key; KEYS[2] new record key; ARGV[1] now (ms, integer); ARGV[2] new expiry
 * (`never` or ms); ARGV[3] new PX (`0`: none); ARGV[4] grace (ms); ARGV[5..] field, value, ….
 */
export const ROTATE = `
local from = KEYS[1]
local to = KEYS[2]
local x = redis.call("HGET", from, "${EXPIRY_FIELD}")
if not x then return 0 end
local now = tonumber(ARGV[1])
local at = nil
if x ~= "${NEVER}" then
  at = tonumber(x)
  if not at then return redis.error_reply("CORRUPT session record has an invalid expiry") end
  if now >= at then return 0 end
end
if redis.call("HEXISTS", from, ${lua(RETIRED_FIELD)}) == 1 then return 0 end
redis.call("DEL", to)
redis.call("HSET", to, "${EXPIRY_FIELD}", ARGV[2])
local last = #ARGV
local i = 5
while i <= last do
  local j = math.min(i + 399, last)
  redis.call("HSET", to, unpack(ARGV, i, j))
  i = j + 1
end
local px = tonumber(ARGV[3])
if px > 0 then redis.call("PEXPIRE", to, px) end
local grace = tonumber(ARGV[4])
local untilAt = now + grace
if at and at < untilAt then untilAt = at end
if grace > 0 and untilAt > now then
  local text = string.format("%.0f", untilAt)
  redis.call("HSET", from, ${lua(RETIRED_FIELD)}, text, "${EXPIRY_FIELD}", text)
  redis.call("PEXPIRE", from, untilAt - now)
else
  redis.call("DEL", from)
end
return 1
`
