/**
 * Every ```ts example in the package's JSDoc (src/*.ts) and README, and every block written for
 * this package in the repository's guides, must type-check against effect 4 and the library as it
 * is: examples cannot drift from the API.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import ts from "typescript"

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
  })),
  // the repository's README and guides (docs/effect4.md, docs/migration.md, ...): their blocks for
  // this package; the effect 3 package's docs test checks the others
  ...["README.md", ...readdirSync(join(root, "../../docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]
    .flatMap((doc) =>
      [...readFileSync(join(root, "../..", doc), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)]
        .map((m, index) => ({ source: `repository/${doc}`, index, code: m[1]! }))
        .filter((b) => /from "effect-session-v4/.test(b.code))
    )
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

/** Every public export of src/*.ts, and every static of an exported class, with its JSDoc text. */
const documented = () => {
  const found: Array<{ readonly name: string; readonly doc: string }> = []
  for (const file of readdirSync(join(root, "src")).filter((f) => f.endsWith(".ts"))) {
    const source = ts.createSourceFile(
      file,
      readFileSync(join(root, "src", file), "utf8"),
      ts.ScriptTarget.Latest,
      true
    )
    const doc = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).map((d) => d.getText()).join("\n")
    const exported = (node: ts.Node) =>
      ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    for (const statement of source.statements) {
      if (!exported(statement)) continue
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) {
          found.push({ name: `${file}: ${d.name.getText()}`, doc: doc(statement) })
        }
      } else if (
        ts.isFunctionDeclaration(statement) || ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) || ts.isClassDeclaration(statement)
      ) {
        const name = statement.name?.getText() ?? "default"
        found.push({ name: `${file}: ${name}`, doc: doc(statement) })
        if (ts.isClassDeclaration(statement)) {
          for (const member of statement.members) {
            const modifiers = ts.canHaveModifiers(member) ? ts.getModifiers(member) ?? [] : []
            const isStatic = modifiers.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)
            const isPrivate = modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)
            if (isStatic && !isPrivate && member.name !== undefined) {
              found.push({ name: `${file}: ${name}.${member.name.getText()}`, doc: doc(member) })
            }
          }
        }
      }
    }
  }
  return found
}

describe("JSDoc", () => {
  it("every public export and every static has @since, @category and a ts example", () => {
    const exports = documented()
    expect(exports.length).toBeGreaterThan(100)
    const incomplete = exports.filter(({ doc }) => !/@since/.test(doc) || !/@category/.test(doc) || !/```ts/.test(doc))
    expect(incomplete.map((e) => e.name)).toEqual([])
  })
})
