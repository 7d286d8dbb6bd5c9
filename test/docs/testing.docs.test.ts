/**
 * docs/testing.md cannot drift from code that runs: every ```ts block in it is announced by an
 * `<!-- example: name -->` line and must be byte-identical to the `// #region name` …
 * `// #endregion` of a test file beside this one (test/docs/testing.*.test.ts), which vitest runs.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const here = new URL(".", import.meta.url).pathname
const guide = readFileSync(new URL("../../docs/testing.md", import.meta.url), "utf8")

const exampleFiles = readdirSync(here).filter((f) => /^testing\..+\.test\.ts$/.test(f) && f !== "testing.docs.test.ts")

/** name → region text (the lines between the markers, each with its newline). */
const regions = new Map<string, { readonly file: string; readonly code: string }>()
for (const file of exampleFiles) {
  const text = readFileSync(join(here, file), "utf8")
  for (const match of text.matchAll(/^\/\/ #region (\S+)\n([\s\S]*?)^\/\/ #endregion$/gm)) {
    const name = match[1]!
    if (regions.has(name)) throw new Error(`region "${name}" is defined twice (${regions.get(name)!.file}, ${file})`)
    regions.set(name, { file, code: match[2]! })
  }
}

/** Every fenced block of the guide, with the example name announced just before it (if any). */
const blocks = [...guide.matchAll(/(?:<!-- example: (\S+) -->\n)?```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  name: m[1],
  lang: m[2]!,
  code: m[3]!
}))
const tsBlocks = blocks.filter((b) => b.lang === "ts")

describe("docs/testing.md examples are the tests in test/docs", () => {
  it("the guide has the three examples, and each example file has its region", () => {
    expect(tsBlocks.length).toBeGreaterThanOrEqual(3)
    expect(exampleFiles.length).toBeGreaterThanOrEqual(3)
    expect(regions.size).toBeGreaterThanOrEqual(exampleFiles.length)
  })

  it("every ts block is announced and byte-identical to its region", () => {
    for (const block of tsBlocks) {
      expect(block.name, `a ts block without <!-- example: name -->:\n${block.code.slice(0, 200)}`).toBeDefined()
      const region = regions.get(block.name!)
      expect(region, `no region "${block.name}" in test/docs/testing.*.test.ts`).toBeDefined()
      expect(block.code, `docs/testing.md block "${block.name}" differs from ${region!.file}`).toBe(region!.code)
    }
  })

  it("every region is shown in the guide exactly once", () => {
    const shown = tsBlocks.map((b) => b.name)
    for (const name of regions.keys()) {
      expect(shown.filter((n) => n === name), `region "${name}" shown in docs/testing.md`).toHaveLength(1)
    }
  })

  it("each example file is nothing but its region (what the guide shows is the whole test)", () => {
    for (const file of exampleFiles) {
      const text = readFileSync(join(here, file), "utf8")
      const match = /^\/\/ #region (\S+)\n[\s\S]*?^\/\/ #endregion\n$/m.exec(text)
      expect(match?.index, `${file} must start with its #region line`).toBe(0)
      expect(match![0].length, `${file} must end with #endregion`).toBe(text.length)
    }
  })
})
