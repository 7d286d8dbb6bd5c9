/**
 * Every ```ts block that imports something, in the README and the guides, must type-check against
 * the library as it is: docs cannot drift from the API. (JSDoc examples are checked by docgen.)
 * Blocks written for the effect 4 package (they import `effect-session-v4`) are checked against
 * effect 4 by that package's own docs test.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const documents = [
  "README.md",
  ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)
]

const blocks = documents.flatMap((doc) => {
  const text = readFileSync(join(root, doc), "utf8")
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m, i) => ({ doc, index: i, code: m[1]! }))
    .filter((b) => /^import /m.test(b.code) && !/from "effect-session-v4/.test(b.code))
})

describe("documentation examples", () => {
  it("there are examples to check", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5)
  })

  it("every example that imports the library type-checks", { timeout: 180_000 }, () => {
    const dir = join(root, "build", "doccheck")
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const files = blocks.map((b) => {
      const name = `${b.doc.replace(/[/.]/g, "_")}_${b.index}.ts`
      writeFileSync(join(dir, name), `${b.code}\nexport {}\n`)
      return name
    })
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: "../../tsconfig.base.json",
        compilerOptions: {
          noEmit: true,
          composite: false,
          incremental: false,
          declaration: false,
          declarationMap: false,
          noUnusedLocals: false,
          noUnusedParameters: false,
          types: ["node", "vitest/globals"],
          paths: { "effect-session": ["../../src/index.ts"], "effect-session/*": ["../../src/*.ts"] }
        },
        files
      })
    )
    let output = ""
    try {
      execFileSync(
        process.execPath,
        [join(root, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")],
        {
          encoding: "utf8",
          stdio: "pipe"
        }
      )
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e)
    }
    expect(output).toBe("")
  })
})
