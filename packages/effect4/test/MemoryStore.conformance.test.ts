/**
 * The store conformance suite on the memory store: the reference the other stores are held to.
 */
import * as MemoryStore from "effect-session-v4/MemoryStore"
import * as SessionStoreSuite from "effect-session-v4/SessionStoreSuite"

SessionStoreSuite.run("MemoryStore conformance", MemoryStore.layer(), {
  defaultTtl: "2 hours",
  noExpiry: MemoryStore.layer({ ttl: 0 })
})
