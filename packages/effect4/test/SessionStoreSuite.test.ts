/**
 * The conformance suite's `capabilities` option: the capabilities named there are the ones tested,
 * and one the store lacks registers a failing case, not a skip (a wrapper that lost `patch` must
 * not pass as a store that never had it). Those failing cases are what this file expects: they
 * are marked as expected to fail, and a test after them checks that each ran and failed.
 */
import { beforeEach, describe, expect, it } from "@effect/vitest"
import { Layer } from "effect"
import * as KeyValueSessionStore from "effect-session-v4/KeyValueSessionStore"
import * as MemoryStore from "effect-session-v4/MemoryStore"
import * as SessionStoreSuite from "effect-session-v4/SessionStoreSuite"
import * as KeyValueStore from "effect/persistence/KeyValueStore"

/** What the checks read of vitest's tasks. */
interface Task {
  readonly name: string
  readonly mode: string
  readonly fails?: boolean | undefined
  readonly result?: { readonly state?: string | undefined } | undefined
  readonly tasks?: ReadonlyArray<Task> | undefined
}

/** Every task below `task`, depth first. */
const below = (task: Task): Array<Task> => (task.tasks ?? []).flatMap((child) => [child, ...below(child)])

const missingCase = /^has the (patch|rotate|lock) capability \(options\.capabilities names it\)$/

describe("SessionStoreSuite options.capabilities", () => {
  // The suite's failing cases for a missing capability are expected to fail here.
  beforeEach(({ task }) => {
    if (missingCase.test(task.name)) (task as { fails?: boolean }).fails = true
  })

  describe("a store without patch, rotate and lock, all three named", () => {
    SessionStoreSuite.run(
      "key-value store",
      KeyValueSessionStore.layer().pipe(Layer.provide(KeyValueStore.layerMemory)),
      { capabilities: ["patch", "rotate", "lock"] }
    )

    it("each missing capability is a case that ran and failed, not a skip", ({ task }) => {
      const tasks = below(task.suite as Task)
      const missing = tasks.filter((t) => missingCase.test(t.name))
      expect(missing.map((t) => [t.name, t.mode, t.fails, t.result?.state])).toEqual(
        ["patch", "rotate", "lock"].map((key) => [
          `has the ${key} capability (options.capabilities names it)`,
          "run",
          true,
          // expected to fail, and it did
          "pass"
        ])
      )
      expect(tasks.filter((t) => / \(skipped: /.test(t.name) && /^(patch|rotate|lock) /.test(t.name))).toEqual([])
      // the cases every store must pass still ran
      expect(tasks.some((t) => t.name === "read, write, destroy" && t.mode === "run")).toBe(true)
    })
  })

  describe("a store with every capability, only patch named", () => {
    SessionStoreSuite.run("memory store", MemoryStore.layer(), { capabilities: ["patch"] })

    it("patch's cases run; rotate and lock are skipped as not named", ({ task }) => {
      const tasks = below(task.suite as Task)
      const patch = tasks.find((t) => t.name === "patch")
      expect(patch?.mode).toBe("run")
      expect(below(patch!).length).toBeGreaterThan(5)
      expect(below(patch!).every((t) => t.result?.state === "pass")).toBe(true)
      expect(
        tasks.filter((t) => / \(skipped: /.test(t.name) && /^(patch|rotate|lock) /.test(t.name)).map((t) => t.name)
      )
        .toEqual(["rotate (skipped: not among options.capabilities)", "lock (skipped: not among options.capabilities)"])
      expect(tasks.some((t) => missingCase.test(t.name))).toBe(false)
    })
  })
})
