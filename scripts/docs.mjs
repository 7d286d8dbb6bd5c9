#!/usr/bin/env node
/**
 * `npm run docs`: the API references, generated from the JSDoc by @effect/docgen, whose ```ts
 * examples are type-checked (and run) against each package's src/. One reference per package of
 * `packages` below, each configured by the docgen.json beside its package.json:
 * - the root package (effect-session, effect 3): docgen.json, into docs/reference;
 * - packages/effect4 (effect-session-v4, effect 4): packages/effect4/docgen.json, into
 *   docs/reference-v4 (beside the other, so that every document of the project lives under docs/).
 *
 * docgen 0.5 is run from a staging directory (<package>/build/docgen) rather than the package
 * itself, for two reasons of its own:
 * - it requires a "homepage" in package.json (the staged package.json supplies one if ours lacks it);
 * - it rewrites `from "<package name>"` in examples to `from '../../src'`, relative to
 *   <outDir>/examples, so it only resolves when outDir is one level deep. The staged outDir is
 *   "reference" beside a `src` link; the result is copied to docgen.json's outDir.
 * The staging directory sits inside the package, and its node_modules links to the package's, so
 * examples resolve their imports as the package's own code does: effect 3 for the root, effect 4
 * (packages/effect4/node_modules) for effect-session-v4, and hoisted packages from the root.
 *
 * - it runs every example with `tsx` after type-checking them. Examples written for the vitest
 *   runner (the store conformance suite, the testing kit) cannot run outside it, so the staged
 *   PATH has a `tsx` that runs the others and leaves those out (they are still type-checked).
 *   A package whose `tsx` entry is set runs its examples through that script instead: effect 4's
 *   @effect/platform-node needs Node >= 22.19, so effect-session-v4's examples run on Node 22
 *   (packages/effect4/scripts/node22.mjs fetches it when the current Node is older). docgen and
 *   tsc themselves run on the current Node.
 *
 * `npm run docs -- --check` fails when a committed reference differs from the generated one.
 * `npm run docs -- packages/effect4` (or `.`) only does the packages named.
 */
/* global console, process */
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")

/**
 * The documented packages. `dir`: the package, relative to the repository root; `tsx`: a script
 * run with the current Node as `<script> tsx <args>` in place of the repository's tsx.
 */
const packages = [
  { dir: "." },
  { dir: "packages/effect4", tsx: "packages/effect4/scripts/node22.mjs" }
]

const args = process.argv.slice(2)
const check = args.includes("--check")
const selected = args.filter((a) => !a.startsWith("--")).map((a) => relative(root, resolve(a)) || ".")
for (const dir of selected) {
  if (!packages.some((p) => p.dir === dir)) {
    console.error(`${dir} is not a documented package (${packages.map((p) => p.dir).join(", ")})`)
    process.exit(1)
  }
}

const bin = join(root, "node_modules", ".bin")

const docgen = ({ dir, tsx }) => {
  const pkgDir = join(root, dir)
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"))
  const config = JSON.parse(readFileSync(join(pkgDir, "docgen.json"), "utf8"))
  const outDir = join(pkgDir, config.outDir ?? "docs")
  const outName = relative(root, outDir)
  const srcDir = config.srcDir ?? "src"
  console.log(`== ${pkg.name}: ${outName}`)

  const stage = join(pkgDir, "build", "docgen")
  rmSync(stage, { recursive: true, force: true })
  mkdirSync(stage, { recursive: true })
  symlinkSync(join(pkgDir, srcDir), join(stage, "src"), "dir")
  symlinkSync(join(pkgDir, "node_modules"), join(stage, "node_modules"), "dir")
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

  const shims = join(stage, "bin")
  mkdirSync(shims)
  // docgen calls `tsx --tsconfig <examples>/tsconfig.json <examples>/index.ts`, an index that imports
  // every example: drop the ones that need the vitest runner, then run the real tsx.
  const run = tsx === undefined
    ? `spawnSync(${JSON.stringify(join(bin, "tsx"))}, args, { stdio: "inherit" })`
    : `spawnSync(process.execPath, [${JSON.stringify(join(root, tsx))}, "tsx", ...args], { stdio: "inherit" })`
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
const src = ${JSON.stringify(join(pkgDir, srcDir))}
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
const r = ${run}
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
    console.error(`docgen failed for ${pkg.name} (exit ${result.status ?? result.signal})`)
    return false
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
  const srcName = relative(root, join(pkgDir, srcDir))
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
      `Generated from the JSDoc in \`${srcName}/\` by \`npm run docs\` (@effect/docgen); every example is type-checked.`,
      "",
      ...moduleFiles.map((f) => `- [${f.slice(0, -6)}](modules/${f})`),
      ""
    ].join("\n")
  )
  if (check) {
    const diff = spawnSync("diff", ["-r", "-q", outDir, generated], { encoding: "utf8" })
    if (diff.status !== 0) {
      console.error(`${outName} is out of date: run npm run docs and commit it.\n${diff.stdout}${diff.stderr}`)
      return false
    }
    console.log(`${outName} is up to date`)
  } else {
    if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true })
    cpSync(generated, outDir, { recursive: true })
    console.log(`wrote ${outName}`)
  }
  return true
}

// every package is done (so that one run reports them all), then the run fails if any failed
const failed = packages.filter((p) => selected.length === 0 || selected.includes(p.dir)).filter((p) => !docgen(p))
if (failed.length > 0) {
  console.error(`docs failed for ${failed.map((p) => p.dir).join(", ")}`)
  process.exit(1)
}
