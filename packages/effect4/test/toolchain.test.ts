import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Id } from "effect-session-core"

describe("toolchain", () => {
  it.effect("runs effect 4 on Node 22 with the shared core", () =>
    Effect.gen(function*() {
      const major = Number(process.versions.node.split(".")[0])
      expect(major).toBeGreaterThanOrEqual(22)
      expect(Id.isWellFormed(Id.generate())).toBe(true)
      const version = yield* Effect.succeed(
        (yield* Effect.promise(() => import("effect/package.json", { with: { type: "json" } }))).default.version
      )
      expect(version.startsWith("4.")).toBe(true)
    }))
})
