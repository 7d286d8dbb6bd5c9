/**
 * Compiles this package's library and its in-process benchmark scripts to plain JavaScript under
 * packages/effect4/build/bench/, with TypeScript's own transpiler (no type check). Like the root's
 * bench/lib/build.ts: tsx compiles with esbuild's `keepNames`, which wraps every function
 * expression in a `__name(...)` call and so charges closures created per request with a cost the
 * published JavaScript does not have.
 *
 * `node scripts/node22.mjs tsx bench/lib/build.ts` (from packages/effect4) compiles src/ and the
 * scripts to build/bench/dev/. With `<src-dir> <name>` it compiles another revision's effect 4
 * `src` directory (e.g. from a `git worktree add`) to build/bench/variants/<name>/, for a script's
 * variant argument: an A/B of two revisions on the same effect and the same machine.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")
const scripts = ["plumbing", "allocations"]
const floors = ["floor", "floorComplete"]

const walk = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : []
  })

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  sourceMap: false
}

const emit = (file: string, target: string, rewrite: (source: string) => string = (s) => s) => {
  const output = ts.transpileModule(rewrite(readFileSync(file, "utf8")), { compilerOptions, fileName: file })
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, output.outputText)
}

/** Compiles `srcDir` (an effect 4 `src`) into `<outDir>/src`. Output stays inside this package, so `effect` resolves to its copy. */
export const buildSource = (srcDir: string, outDir: string): number => {
  rmSync(outDir, { recursive: true, force: true })
  const files = walk(srcDir)
  for (const file of files) emit(file, join(outDir, "src", relative(srcDir, file).replace(/\.ts$/, ".js")))
  writeFileSync(join(outDir, "package.json"), "{ \"type\": \"module\" }\n")
  return files.length
}

/** Compiles src/ and the benchmark scripts into build/bench/dev/. */
export const buildDev = (): number => {
  const outDir = join(pkg, "build", "bench", "dev")
  const count = buildSource(join(pkg, "src"), outDir)
  const root = join(pkg, "..", "..")
  emit(join(root, "bench", "lib", "config.ts"), join(outDir, "config.js"))
  for (const name of scripts) {
    emit(join(pkg, "bench", `${name}.ts`), join(outDir, "bench", `${name}.js`), (source) =>
      source
        .replace(/"\.\.\/\.\.\/\.\.\/bench\/lib\/config\.js"/g, "\"../config.js\"")
        .replace(/(from |import\()"effect-session-v4"/g, "$1\"../src/index.js\""))
  }
  // the floors' routes, which plumbing.ts runs beside the library
  for (const floor of floors) {
    emit(
      join(pkg, "bench", "lib", `${floor}.ts`),
      join(outDir, "bench", "lib", `${floor}.js`),
      (source) => source.replace(/"\.\.\/\.\.\/\.\.\/\.\.\/bench\/lib\/config\.js"/g, "\"../../config.js\"")
    )
  }
  return count + 1 + floors.length + scripts.length
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [srcDir, name] = process.argv.slice(2)
  if (srcDir !== undefined) {
    if (name === undefined || !/^[\w.-]+$/.test(name)) throw new Error("usage: build.ts [<src-dir> <name>]")
    const outDir = join(pkg, "build", "bench", "variants", name)
    process.stdout.write(`compiled ${buildSource(resolve(srcDir), outDir)} files to ${relative(pkg, outDir)}\n`)
  } else {
    process.stdout.write(`compiled ${buildDev()} files to ${relative(pkg, join(pkg, "build", "bench", "dev"))}\n`)
  }
}
