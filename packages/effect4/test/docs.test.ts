/**
 * Every ```ts example in the package's JSDoc (src/*.ts) and README must type-check against the
 * library as it is: examples cannot drift from the API.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname

/** The ```ts blocks of a JSDoc comment, without the leading ` * `. */
const fromJsDoc = (file: string) => {
  const text = readFileSync(join(root, "src", file), "utf8")
  const blocks: Array<string> = []
  for (const comment of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const body = comment[1]!.split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n")
    for (const block of body.matchAll(/```ts\n([\s\S]*?)```/g)) blocks.push(block[1]!)
  }
  return blocks.map((code, index) => ({ source: `src/${file}`, index, code }))
}

const blocks = [
  ...readdirSync(join(root, "src")).filter((f) => f.endsWith(".ts")).flatMap(fromJsDoc),
  ...[...readFileSync(join(root, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m, index) => ({
    source: "README.md",
    index,
    code: m[1]!
  }))
].filter((b) => /^import /m.test(b.code))

describe("documentation examples", () => {
  it("there are examples to check", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(80)
  })

  it("every example that imports the library type-checks", { timeout: 240_000 }, async () => {
    const dir = join(root, "build", "doccheck")
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const files = blocks.map((b) => {
      const name = `${b.source.replace(/[/.]/g, "_")}_${b.index}.ts`
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
    const output = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        [join(root, "../../node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")],
        { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve(error === null ? "" : `${stdout}${stderr}`)
      )
    )
    expect(output).toBe("")
  })
})
