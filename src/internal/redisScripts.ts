/**
 * The Redis store's record layout and its Lua scripts.
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

/** The hash field that holds the expiry. */
export const EXPIRY_FIELD = "x"

/** The expiry of a record that never expires. */
export const NEVER = "never"

/** The hash field of the reserved key `"__session.retired"` (a key's field is its JSON text). */
export const RETIRED_FIELD = JSON.stringify("__session.retired")

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
 * `SessionStore.applyPatch`), then resets its expiry. Returns 0 and writes nothing when the record
 * is missing, expired by the caller's clock, or retired by a rotation. Every result is computed before the first write, so
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
-- a record retired by a rotation is read-only: refused, like a missing one
if redis.call("HEXISTS", key, '${RETIRED_FIELD}') == 1 then return 0 end
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
 * expired by the caller's clock, not already retired): with a grace period it stays readable until
 * then (the `"__session.retired"` field set to that time, its expiry capped to it), without one it
 * is deleted. Returns 1 when it retired the record, 0 when there was none. One key, so it runs on
 * Redis Cluster too: the store writes the new record first and deletes it again on 0.
 *
 * KEYS[1] record key; ARGV[1] now (ms); ARGV[2] grace in ms (`0`: delete); ARGV[3] end of the grace (ms).
 */
export const RETIRE = `
local key = KEYS[1]
local x = redis.call("HGET", key, "${EXPIRY_FIELD}")
if not x then return 0 end
local at = nil
if x ~= "${NEVER}" then
  at = tonumber(x)
  if not at then return redis.error_reply("CORRUPT session record has an invalid expiry") end
  if tonumber(ARGV[1]) >= at then return 0 end
end
if redis.call("HEXISTS", key, '${RETIRED_FIELD}') == 1 then return 0 end
local grace = tonumber(ARGV[2])
if grace <= 0 then
  redis.call("DEL", key)
  return 1
end
redis.call("HSET", key, '${RETIRED_FIELD}', ARGV[3])
if at == nil or tonumber(ARGV[3]) < at then
  redis.call("HSET", key, "${EXPIRY_FIELD}", ARGV[3])
  redis.call("PEXPIRE", key, grace)
end
return 1
`
