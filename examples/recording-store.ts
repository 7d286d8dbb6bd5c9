/**
 * A store decorator for the demo's "what the store holds" page: it wraps whatever `SessionStore`
 * it is given and remembers every key written to it, so the page can list them. It is written
 * against the public store contract only (`SessionStoreService`), the way any user would wrap a
 * store to add logging or metrics.
 *
 * The keys it sees are storage keys (the SHA-256 of a session ID, base64url), never session IDs:
 * the store itself never holds an ID, so neither can this list.
 */
import { Context, Duration, Effect, Layer } from "effect"
import { SessionStore, type SessionStoreService } from "effect-session"

/** The storage keys written since the demo started, oldest first. */
export class WrittenKeys extends Context.Tag("effect-session/examples/WrittenKeys")<
  WrittenKeys,
  { readonly keys: () => ReadonlyArray<string> }
>() {}

/** Wraps `store`, reporting every key a successful write, patch, rotation or destroy touched. */
const wrap = (
  store: SessionStoreService,
  written: (key: string) => void,
  destroyed: (key: string) => void
): SessionStoreService => ({
  ...store,
  write: (id, data, ttl) => Effect.tap(store.write(id, data, ttl), () => written(id)),
  destroy: (id) => Effect.tap(store.destroy(id), () => destroyed(id)),
  ...(store.patch !== undefined
    ? { patch: (id, patch, ttl) => Effect.tap(store.patch!(id, patch, ttl), (applied) => applied && written(id)) }
    : {}),
  ...(store.rotate !== undefined
    ? {
      rotate: (from, to, data, ttl, grace) =>
        Effect.tap(store.rotate!(from, to, data, ttl, grace), (moved) => {
          if (!moved) return
          written(to)
          // with a grace period the old record lives on (retired) until it expires
          if (Duration.isZero(grace)) destroyed(from)
        })
    }
    : {})
})

/**
 * `store`, wrapped: provides the wrapped `SessionStore` and `WrittenKeys`. A key destroyed
 * through the store (logout, regenerate) leaves the list; one that merely expires stays listed
 * until the page finds it gone.
 */
export const recordingStore = <E, R>(
  store: Layer.Layer<SessionStore, E, R>
): Layer.Layer<SessionStore | WrittenKeys, E, R> =>
  Layer.effectContext(Effect.map(SessionStore, (inner) => {
    const keys = new Set<string>()
    const wrapped = wrap(inner, (key) => keys.add(key), (key) => keys.delete(key))
    return Context.make(SessionStore, wrapped).pipe(
      Context.add(WrittenKeys, { keys: () => [...keys] })
    )
  })).pipe(Layer.provide(store))
