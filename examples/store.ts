/**
 * Chooses the demo's session store from the environment:
 *
 * | `SESSION_STORE`    | store                                   | more variables (defaults)                                      |
 * | ------------------ | --------------------------------------- | -------------------------------------------------------------- |
 * | `memory` (default) | `MemoryStoreLive` (one process)         |                                                                |
 * | `redis`            | `RedisStore`                            | `REDIS_URL` (`redis://127.0.0.1:6379`), `SESSION_PREFIX` (`session:`) |
 * | `postgres`         | `SqlStore` on `@effect/sql-pg`          | `DATABASE_URL` (`postgres://postgres@127.0.0.1:5432/test`), `SESSION_TABLE` (`effect_sessions`, created if missing) |
 *
 * ```sh
 * SESSION_STORE=redis npm start
 * SESSION_STORE=postgres DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm start
 * ```
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer } from "effect"
import { MemoryStoreLive } from "effect-session"
import * as RedisStore from "effect-session/RedisStore"
import * as SqlStore from "effect-session/SqlStore"

export const storeLayerFromEnv = Layer.unwrapEffect(Effect.gen(function*() {
  const kind = yield* Config.literal("memory", "redis", "postgres")("SESSION_STORE").pipe(Config.withDefault("memory"))
  switch (kind) {
    case "memory":
      return MemoryStoreLive
    case "redis":
      return RedisStore.layerConfig({
        url: Config.string("REDIS_URL").pipe(Config.withDefault("redis://127.0.0.1:6379")),
        prefix: Config.string("SESSION_PREFIX").pipe(Config.withDefault("session:"))
      })
    case "postgres":
      return SqlStore.layerConfig({
        table: Config.string("SESSION_TABLE").pipe(Config.withDefault("effect_sessions")),
        ensureTable: Config.succeed(true)
      }).pipe(
        Layer.provide(PgClient.layerConfig({
          url: Config.redacted(
            Config.string("DATABASE_URL").pipe(
              Config.withDefault("postgres://postgres@127.0.0.1:5432/test")
            )
          )
        }))
      )
  }
}))
