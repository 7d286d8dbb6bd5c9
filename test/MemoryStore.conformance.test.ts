/**
 * The store conformance suite on the memory store: the reference the Redis and SQL stores are held to.
 */
import { MemoryStore } from "effect-session"
import * as SessionStoreSuite from "effect-session/SessionStoreSuite"

SessionStoreSuite.run("MemoryStore conformance", MemoryStore.layer(), {
  defaultTtl: "2 hours",
  noExpiry: MemoryStore.layer({ ttl: 0 })
})
