/**
 * effect-session-core: the session rules that do not depend on Effect, shared by `effect-session`
 * (effect 3) and its effect 4 package. Plain TypeScript over plain data; it imports nothing from
 * `effect`, only `node:crypto`.
 *
 * @since 0.1.0
 */

/** Session IDs: generation, shape check, storage key. */
export * as Id from "./id.js"

/** Reading the session ID from a `Cookie` header. */
export * as Cookie from "./cookie.js"
