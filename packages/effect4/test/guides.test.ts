/**
 * Every ```ts block written for this package (it imports `effect-session-v4`) in the repository's
 * README and guides (docs/effect4.md, docs/migration.md, ...) must type-check against effect 4 and
 * the package as it is. The effect 3 package's docs test checks the other blocks; docs.test.ts
 * checks this package's JSDoc and README.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const pkg = new URL("..", import.meta.url).pathname
const repository = join(pkg, "..", "..")
const documents = [
  join(repository, "README.md"),
  ...readdirSync(join(repository, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(repository, "docs", f))
]

const blocks = documents.flatMap((doc) => {
  const text = readFileSync(doc, "utf8")
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m, i) => ({ doc, index: i, code: m[1]! }))
    .filter((b) => /from "effect-session-v4/.test(b.code))
})

describe("guide examples for effect 4", () => {
  it("there are examples to check", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(1)
  })

  it("every example that imports effect-session-v4 type-checks against effect 4", { timeout: 180_000 }, () => {
    // inside the package, so that `effect` is this package's effect 4
    const dir = join(pkg, "build", "guidecheck")
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const files = blocks.map((b) => {
      const name = `${b.doc.slice(repository.length).replace(/[/.]/g, "_")}_${b.index}.ts`
      writeFileSync(join(dir, name), `${b.code}\nexport {}\n`)
      return name
    })
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: "../../../../tsconfig.base.json",
        compilerOptions: {
          noEmit: true,
          composite: false,
          incremental: false,
          declaration: false,
          declarationMap: false,
          noUnusedLocals: false,
          noUnusedParameters: false,
          types: ["node"],
          typeRoots: ["../../node_modules/@types", "../../../../node_modules/@types"],
          paths: { "effect-session-v4": ["../../src/index.ts"], "effect-session-v4/*": ["../../src/*.ts"] }
        },
        files
      })
    )
    let output = ""
    try {
      execFileSync(
        process.execPath,
        [join(repository, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")],
        { encoding: "utf8", stdio: "pipe" }
      )
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e)
    }
    expect(output).toBe("")
  })
})
