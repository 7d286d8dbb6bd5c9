/**
 * A store decorator for the demo's "what the store holds" page: it wraps whatever `SessionStore`
 * it is given and remembers every key written to it, so the page can list them. It is written
 * against the public store contract only (`SessionStoreService`), the way any user would wrap a
 * store to add logging or metrics.
 *
 * The keys it sees are storage keys (the SHA-256 of a session ID, base64url), never session IDs:
 * the store itself never holds an ID, so neither can this list.
 */
import { Context, Effect, Exit, Layer } from "effect"
import { SessionStore, type SessionStoreService } from "effect-session"

/** The storage keys written since the demo started, oldest first. */
export class WrittenKeys extends Context.Tag("effect-session/examples/WrittenKeys")<
  WrittenKeys,
  { readonly keys: () => ReadonlyArray<string> }
>() {}

/** Wraps `store`, calling `seen(key)` after every successful write, patch or destroy. */
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
  // The memory store's synchronous fast path is a way in too: wrap it so nothing bypasses us.
  ...(store.unsafe !== undefined
    ? {
      unsafe: {
        read: store.unsafe.read,
        write: (id, data, ttl, clock) => {
          const exit = store.unsafe!.write(id, data, ttl, clock)
          if (Exit.isSuccess(exit)) written(id)
          return exit
        },
        patch: (id, patch, ttl, clock) => {
          const exit = store.unsafe!.patch(id, patch, ttl, clock)
          if (Exit.isSuccess(exit) && exit.value) written(id)
          return exit
        }
      }
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
    // A plain Set: the synchronous fast path has to record without running an Effect.
    const keys = new Set<string>()
    const wrapped = wrap(inner, (key) => keys.add(key), (key) => keys.delete(key))
    return Context.make(SessionStore, wrapped).pipe(
      Context.add(WrittenKeys, { keys: () => [...keys] })
    )
  })).pipe(Layer.provide(store))
