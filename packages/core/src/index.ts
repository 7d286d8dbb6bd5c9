/**
 * effect-session-core: the session rules that do not depend on Effect, shared by `effect-session`
 * (effect 3) and its effect 4 package. Plain TypeScript over plain data; it imports nothing from
 * `effect`, only `node:crypto`. Each namespace is one concern, in the file of the same name.
 *
 * A request, in these terms: `Cookie.findSessionId` reads the ID from the request; `Id.storageKey`
 * names its record; `StoredRecord.isRecord` and `Meta.read` check what the store returned, and
 * `Lifetime.isExpired` whether it may be adopted; `Changes` tracks what the handler does (with
 * `Flash` for flash data and `Value.check` for what may be stored); at the end `Save.plan` says what
 * to write (`Changes.toRecord` / `Changes.toPatch`, applied by stores as `Patch.apply` does) and
 * `Save.cookieAfter` what the response says about the cookie.
 *
 * @since 0.1.0
 */

/** Session IDs: generation, shape check, storage key. */
export * as Id from "./id.js"

/** The session cookie: reading the ID from a `Cookie` header; the decision a response makes. */
export * as Cookie from "./cookie.js"

/** The stored record's layout: reserved keys, the record check, retirement by rotation. */
export * as StoredRecord from "./storedRecord.js"

/** Session metadata: reading (with shape and range checks) and writing it. */
export * as Meta from "./meta.js"

/** `SessionPatch` and the reference semantics of a store's atomic `patch`. */
export * as Patch from "./patch.js"

/** The plain-JSON check for session values. */
export * as Value from "./value.js"

/** Option checks: which duration inputs an option accepts, the other options' types; the words of configuration errors. */
export * as Options from "./options.js"

/** Idle, absolute and per-session lifetimes; renewal. */
export * as Lifetime from "./lifetime.js"

/** Flash data's bookkeeping and ageing. */
export * as Flash from "./flash.js"

/** Change tracking: a request's data, the keys it changed, its deltas; the record and patch to save. */
export * as Changes from "./changes.js"

/** The save decision: what to write, with which TTL, and the cookie. */
export * as Save from "./save.js"

/** The CSRF check's rules: checked methods, default field and headers, form kinds, the comparison. */
export * as Csrf from "./csrf.js"

export type { CookieDecision } from "./cookie.js"
export type { Meta as SessionMeta } from "./meta.js"
export type { SessionPatch } from "./patch.js"
export type { SessionData } from "./storedRecord.js"

/** The memory store's table: sharded maps, bounded, swept in slices. */
export * as MemoryTable from "./memoryTable.js"

/** The Redis stores' record layout (hash fields, keys), Lua scripts, their arguments and the decoding of a record: one layout for both lines. */
export * as RedisLayout from "./redisLayout.js"

/** The SQL stores' tables: names, DDL per dialect. */
export * as SqlSchema from "./sqlSchema.js"

/** The testing kits' seeds and read-back: seed checks, the seeded record, a stored record as the next request sees it. */
export * as TestKit from "./testKit.js"
