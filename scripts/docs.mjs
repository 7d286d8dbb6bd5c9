#!/usr/bin/env node
/**
 * `npm run docs`: the API reference, generated from the JSDoc by @effect/docgen, whose ```ts
 * examples are type-checked (and run) against src/. Configuration: docgen.json.
 *
 * docgen 0.5 is run from a staging directory (build/docgen) rather than the repository root, for
 * two reasons of its own:
 * - it requires a "homepage" in package.json (the staged package.json supplies one if ours lacks it);
 * - it rewrites `from "effect-session"` in examples to `from '../../src'`, relative to
 *   <outDir>/examples, so it only resolves when outDir is one level deep. The staged outDir is
 *   "reference" beside a `src` link; the result is copied to docgen.json's outDir (docs/reference).
 *
 * - it runs every example with `tsx` after type-checking them. Examples written for the vitest
 *   runner (the store conformance suite, the testing kit) cannot run outside it, so the staged
 *   PATH has a `tsx` that runs the others and leaves those out (they are still type-checked).
 *
 * `npm run docs -- --check` fails when the committed reference differs from the generated one.
 */
/* global console, process */
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const check = process.argv.includes("--check")
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const config = JSON.parse(readFileSync(join(root, "docgen.json"), "utf8"))
const outDir = join(root, config.outDir ?? "docs")
const srcDir = config.srcDir ?? "src"

const stage = join(root, "build", "docgen")
rmSync(stage, { recursive: true, force: true })
mkdirSync(stage, { recursive: true })
symlinkSync(join(root, srcDir), join(stage, "src"), "dir")
symlinkSync(join(root, "node_modules"), join(stage, "node_modules"), "dir")
const homepage = pkg.homepage ?? pkg.repository?.url ?? `https://www.npmjs.com/package/${pkg.name}`
writeFileSync(join(stage, "package.json"), JSON.stringify({ name: pkg.name, type: "module", homepage }, null, 2))
const { $schema: _schema, ...rest } = config
writeFileSync(
  join(stage, "docgen.json"),
  JSON.stringify(
    {
      ...rest,
      srcDir: "src",
      outDir: "reference",
      exclude: (config.exclude ?? []).map((p) => p.replace(new RegExp(`^${srcDir}/`), "src/"))
    },
    null,
    2
  )
)

const bin = join(root, "node_modules", ".bin")
const shims = join(stage, "bin")
mkdirSync(shims)
// docgen calls `tsx --tsconfig <examples>/tsconfig.json <examples>/index.ts`, an index that imports
// every example: drop the ones that need the vitest runner, then run the real tsx.
writeFileSync(
  join(shims, "tsx"),
  `#!/usr/bin/env node
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
/* global console, process */
import { spawnSync } from "node:child_process"
const args = process.argv.slice(2)
const index = args[args.length - 1]
const importsVitest = (file) => /from ["'](@effect\\/vitest|vitest)["']/.test(readFileSync(file, "utf8"))
const src = ${JSON.stringify(join(root, srcDir))}
const vitestModules = readdirSync(src).filter((f) => f.endsWith(".ts") && importsVitest(join(src, f))).map((f) => f.slice(0, -3))
const needsVitest = (file) => {
  const code = readFileSync(file, "utf8")
  return importsVitest(file) || vitestModules.some((m) => code.includes("/src/" + m + "'"))
}
const lines = readFileSync(index, "utf8").split("\\n").filter((line) => {
  const m = /^import '\\.\\/(.+)'$/.exec(line)
  return m === null || !needsVitest(join(dirname(index), m[1] + ".ts"))
})
writeFileSync(index, lines.join("\\n"))
const r = spawnSync(${JSON.stringify(join(bin, "tsx"))}, args, { stdio: "inherit" })
process.exit(r.status ?? 1)
`,
  { mode: 0o755 }
)
const result = spawnSync(join(bin, "docgen"), [], {
  cwd: stage,
  stdio: "inherit",
  env: { ...process.env, PATH: `${shims}:${bin}:${process.env.PATH}` }
})
if (result.status !== 0) {
  console.error(`docgen failed (exit ${result.status ?? result.signal})`)
  process.exit(1)
}

const generated = join(stage, "reference")
// docgen's prettier pass turns the modules' opening front-matter fence into "***": put it back.
const modules = join(generated, "modules")
for (const file of existsSync(modules) ? readdirSync(modules) : []) {
  const path = join(modules, file)
  const text = readFileSync(path, "utf8")
  if (text.startsWith("***\n\n")) writeFileSync(path, `---\n${text.slice(5)}`)
}
// docgen's home page is empty: list the modules, so the folder reads well on GitHub too.
const moduleFiles = existsSync(modules) ? readdirSync(modules).filter((f) => f.endsWith(".ts.md")).sort() : []
writeFileSync(
  join(generated, "index.md"),
  [
    "---",
    "title: Home",
    "nav_order: 1",
    "---",
    "",
    `# ${pkg.name} API reference`,
    "",
    "Generated from the JSDoc in `src/` by `npm run docs` (@effect/docgen); every example is type-checked.",
    "",
    ...moduleFiles.map((f) => `- [${f.slice(0, -6)}](modules/${f})`),
    ""
  ].join("\n")
)
if (check) {
  const diff = spawnSync("diff", ["-r", "-q", outDir, generated], { encoding: "utf8" })
  if (diff.status !== 0) {
    console.error(`${config.outDir} is out of date: run npm run docs and commit it.\n${diff.stdout}${diff.stderr}`)
    process.exit(1)
  }
  console.log(`${config.outDir} is up to date`)
} else {
  if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true })
  cpSync(generated, outDir, { recursive: true })
  console.log(`wrote ${config.outDir}`)
}
