/**
 * Sessions for `HttpLayerRouter` (the router that becomes `HttpRouter` in effect 4): a middleware
 * layer that provides `Session` to the routes it is given to and saves the session before each
 * response leaves. It runs the same request flow as `Session.middleware`.
 *
 * @since 0.1.0
 */
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as lifecycle from "./internal/lifecycle.js"
import * as options_ from "./internal/options.js"
import { type Options, Session } from "./Session.js"
import type { SessionConfigError, SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { SessionStore } from "./SessionStore.js"

/**
 * The errors the session middleware handles for its routes: a route may fail with them (every
 * `Session` accessor can fail with `SessionStoreError`) and the middleware turns them into the
 * failure handler's response (`503`, or `423` for a lock timeout, by default).
 *
 * @example
 * ```ts
 * import type { SessionLayerRouter } from "effect-session"
 *
 * const describe = (error: SessionLayerRouter.Handled) => error._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Handled = SessionStoreError | SessionLockTimeout

/**
 * The `HttpLayerRouter.Middleware` that `middleware(options)` builds: it provides `Session`,
 * handles `Handled`, fails to build with `SessionConfigError` and needs a `SessionStore`
 * (plus whatever the `onError` handler needs).
 *
 * @example
 * ```ts
 * import { SessionLayerRouter } from "effect-session"
 *
 * const session: SessionLayerRouter.SessionMiddleware = SessionLayerRouter.middleware({ ttl: "1 hour" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionMiddleware<EH = never, RH = never> extends
  HttpLayerRouter.Middleware<{
    provides: Session
    handles: Handled
    error: EH
    requires: never
    layerError: SessionConfigError
    layerRequires: SessionStore | RH
  }>
{}

/**
 * Builds the session middleware for `HttpLayerRouter`. Its `.layer` is what routes are given;
 * the middleware value itself can be `.combine`d with other middleware. Options are validated
 * when the layer is built: invalid options fail it with `SessionConfigError`. The store is taken
 * from the layer's context (`SessionStore`) once, when the layer is built.
 *
 * @example
 * ```ts
 * import { HttpLayerRouter, HttpServerResponse } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { MemoryStoreLive, Session, SessionLayerRouter } from "effect-session"
 *
 * const Routes = HttpLayerRouter.add(
 *   "GET",
 *   "/",
 *   Effect.map(Session.increment("visits"), (n) => HttpServerResponse.text(`visit ${n}`))
 * ).pipe(Layer.provide(SessionLayerRouter.middleware({ ttl: "1 hour" }).layer))
 *
 * const AppLive = HttpLayerRouter.serve(Routes).pipe(Layer.provide(MemoryStoreLive))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const middleware = <EH = never, RH = never>(options?: Options<EH, RH>): SessionMiddleware<EH, RH> =>
  HttpLayerRouter.middleware<{ provides: Session; handles: Handled }>()(
    Effect.gen(function*() {
      const resolved = yield* options_.resolve(options)
      const store = yield* SessionStore
      // What `onError` needs comes from where the layer is built; the request's own context wins.
      const context = yield* Effect.context<RH>()
      const onError = resolved.onError
      const config: options_.Resolved<EH, never> = {
        ...resolved,
        onError: onError === undefined ?
          undefined :
          (error, failure) => Effect.mapInputContext(onError(error, failure), (input) => Context.merge(context, input))
      }
      return (
        route: Effect.Effect<HttpServerResponse.HttpServerResponse, Handled | HttpLayerRouter.unhandled, Session>
      ) => lifecycle.runWith(config, store, route)
    })
  ) as SessionMiddleware<EH, RH>

/**
 * The session middleware as a layer, ready to provide to routes: `middleware(options).layer`.
 *
 * @example
 * ```ts
 * import { HttpLayerRouter, HttpServerResponse } from "@effect/platform"
 * import { NodeHttpServer } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { MemoryStoreLive, Session, SessionLayerRouter } from "effect-session"
 * import { createServer } from "node:http"
 *
 * const Routes = HttpLayerRouter.add(
 *   "GET",
 *   "/",
 *   Effect.map(Session.increment("visits"), (n) => HttpServerResponse.text(`visit ${n}`))
 * )
 *
 * const ServerLive = HttpLayerRouter.serve(Routes).pipe(
 *   Layer.provide(SessionLayerRouter.layer({ ttl: "2 hours" })),
 *   Layer.provide(MemoryStoreLive),
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 3000 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <EH = never, RH = never>(
  options?: Options<EH, RH>
): Layer.Layer<
  HttpLayerRouter.Request<"Requires", Session>,
  SessionConfigError,
  SessionStore | RH | HttpLayerRouter.Request.From<"Error", EH>
> => middleware(options).layer
