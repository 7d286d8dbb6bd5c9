/**
 * Compiles the library and the benchmark scripts to plain JavaScript under build/bench/ before a
 * run, with TypeScript's own transpiler (no type check, so a tree mid-edit still runs).
 *
 * Why not run the servers through tsx: tsx compiles with esbuild's `keepNames`, which wraps every
 * function expression in a `__name(...)` call. Closures created per request then pay for it, which
 * would charge the library for a cost that its published JavaScript does not have. Compiled like
 * this, the library runs as users get it, and CPU profiles keep real line numbers.
 *
 * Imports of `effect-session` and `effect-session/X` in benchmark files are rewritten to the
 * compiled `src/index.js` and `src/X.js`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { root } from "./processes.js"
import { baselineServers } from "./servers.js"

/** The top-level benchmark scripts that run as their own processes. */
const benchScripts = ["load", "memory", "stall", "redis-commands", "micro", "plumbing", "steps"]

/** Where `npx tsx bench/lib/build.ts` puts the compiled tree (build/ is git-ignored). */
export const defaultOutDir = join(root, "build", "bench", "dev")

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

/**
 * Compiles src/ and bench/ into `outDir`; returns the number of files written. Scripts run as
 * `<outDir>/bench/<script>.js`. With `baseline` (a checkout of an earlier revision, from
 * BENCH_BASELINE), its src/ is compiled too, with `-baseline` copies of the effect-session
 * servers that use it: an A/B of two revisions in one run.
 */
export const build = (outDir: string = defaultOutDir, baseline?: string): number => {
  rmSync(outDir, { recursive: true, force: true })
  const written = baseline === undefined ? 0 : buildBaseline(outDir, baseline)
  const bench = join(root, "bench")
  const files = [
    ...walk(join(root, "src")),
    ...walk(join(bench, "lib")),
    ...walk(join(bench, "servers")),
    ...benchScripts.map((name) => join(bench, `${name}.ts`)).filter((file) => existsSync(file))
  ]
  for (const file of files) {
    const rel = relative(root, file)
    const target = join(outDir, rel.replace(/\.ts$/, ".js"))
    let source = readFileSync(file, "utf8")
    if (rel.startsWith("bench")) {
      const toSrc = relative(dirname(target), join(outDir, "src")).split("\\").join("/")
      source = source
        .replace(/(from |import\()"effect-session"/g, `$1"${toSrc}/index.js"`)
        .replace(/(from |import\()"effect-session\/([A-Za-z]+)"/g, `$1"${toSrc}/$2.js"`)
    }
    const output = ts.transpileModule(source, { compilerOptions, fileName: file })
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, output.outputText)
  }
  // The compiled files are ES modules like their sources.
  writeFileSync(join(outDir, "package.json"), "{ \"type\": \"module\" }\n")
  return written + files.length
}

const emit = (file: string, target: string, rewrite: (source: string) => string) => {
  const output = ts.transpileModule(rewrite(readFileSync(file, "utf8")), { compilerOptions, fileName: file })
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, output.outputText)
}

/**
 * Compiles a baseline checkout's library sources (`<baseline>/<srcRel>`) into `<into>/src`, and
 * its effect-free core (`<baseline>/packages/core/src`, when it has one) into `<into>/core`, with
 * the library's `effect-session-core` imports pointed at that copy: the baseline runs on its own
 * core, not on this tree's. Returns the number of files written.
 */
const buildBaselineSource = (baseline: string, srcRel: string, into: string): number => {
  const coreSrc = join(baseline, "packages", "core", "src")
  const cores = existsSync(coreSrc) ? walk(coreSrc) : []
  for (const file of cores) emit(file, join(into, "core", relative(coreSrc, file).replace(/\.ts$/, ".js")), (s) => s)
  const sources = walk(join(baseline, srcRel))
  for (const file of sources) {
    const target = join(into, "src", relative(join(baseline, srcRel), file).replace(/\.ts$/, ".js"))
    const toCore = relative(dirname(target), join(into, "core")).split("\\").join("/")
    emit(
      file,
      target,
      (s) => cores.length === 0 ? s : s.replace(/(from |import\()"effect-session-core"/g, `$1"${toCore}/index.js"`)
    )
  }
  return cores.length + sources.length
}

const buildBaseline = (outDir: string, baseline: string): number => {
  const sources = buildBaselineSource(baseline, "src", join(outDir, "baseline"))
  const toBaseline = (target: string) => (source: string) => {
    const toSrc = relative(dirname(target), join(outDir, "baseline", "src")).split("\\").join("/")
    return source
      .replace(/(from |import\()"effect-session"/g, `$1"${toSrc}/index.js"`)
      .replace(/(from |import\()"effect-session\/([A-Za-z]+)"/g, `$1"${toSrc}/$2.js"`)
      .replace(/"\.\.\/lib\/effect-count\.js"/g, "\"../lib/effect-count-baseline.js\"")
  }
  const count = join(outDir, "bench", "lib", "effect-count-baseline.js")
  emit(join(root, "bench", "lib", "effect-count.ts"), count, toBaseline(count))
  const ids = baselineServers.filter((id) => !id.startsWith("effect4-"))
  for (const id of ids) {
    const target = join(outDir, "bench", "servers", `${id}-baseline.js`)
    emit(join(root, "bench", "servers", `${id}.ts`), target, toBaseline(target))
  }
  return sources + 1 + ids.length
}

/**
 * Compiles the effect 4 rows (packages/effect4/src and packages/effect4/bench, with the
 * shared bench/lib/config.ts) into `outDir`, laid out as in the repository; imports of
 * `effect-session-v4` are rewritten to the compiled packages/effect4/src/index.js.
 */
export const buildEffect4 = (outDir: string, baseline?: string): number => {
  rmSync(outDir, { recursive: true, force: true })
  const pkg = join(root, "packages", "effect4")
  const files = [
    join(root, "bench", "lib", "config.ts"),
    ...(existsSync(join(pkg, "src")) ? walk(join(pkg, "src")) : []),
    ...walk(join(pkg, "bench", "lib")),
    ...walk(join(pkg, "bench", "servers"))
  ]
  for (const file of files) {
    const rel = relative(root, file)
    const target = join(outDir, rel.replace(/\.ts$/, ".js"))
    let source = readFileSync(file, "utf8")
    if (rel.startsWith(join("packages", "effect4", "bench"))) {
      const toSrc = relative(dirname(target), join(outDir, "packages", "effect4", "src")).split("\\").join("/")
      source = source
        .replace(/(from |import\()"effect-session-v4"/g, `$1"${toSrc}/index.js"`)
        .replace(/from "effect-session-v4\/([A-Za-z]+)"/g, `from "${toSrc}/$1.js"`)
    }
    const output = ts.transpileModule(source, { compilerOptions, fileName: file })
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, output.outputText)
  }
  const written = baseline === undefined ? 0 : buildEffect4Baseline(outDir, baseline)
  writeFileSync(join(outDir, "package.json"), "{ \"type\": \"module\" }\n")
  return files.length + written
}

/**
 * The effect 4 `-baseline` rows: the baseline's packages/effect4/src (on its own core) compiled
 * into `<outDir>/packages/effect4/baseline`, and copies of this tree's servers and their route
 * that import it. A baseline without the effect 4 package gets none (its rows then fail to start).
 */
const buildEffect4Baseline = (outDir: string, baseline: string): number => {
  if (!existsSync(join(baseline, "packages", "effect4", "src"))) return 0
  const pkgOut = join(outDir, "packages", "effect4")
  const sources = buildBaselineSource(baseline, join("packages", "effect4", "src"), join(pkgOut, "baseline"))
  const bench = join(root, "packages", "effect4", "bench")
  const toBaseline = (target: string) => (source: string) => {
    const toSrc = relative(dirname(target), join(pkgOut, "baseline", "src")).split("\\").join("/")
    return source
      .replace(/(from |import\()"effect-session-v4"/g, `$1"${toSrc}/index.js"`)
      .replace(/from "effect-session-v4\/([A-Za-z]+)"/g, `from "${toSrc}/$1.js"`)
      .replace(/"\.\.\/lib\/count\.js"/g, "\"../lib/count-baseline.js\"")
  }
  const count = join(pkgOut, "bench", "lib", "count-baseline.js")
  emit(join(bench, "lib", "count.ts"), count, toBaseline(count))
  const ids = baselineServers.filter((id) => id.startsWith("effect4-"))
  for (const id of ids) {
    const target = join(pkgOut, "bench", "servers", `${id}-baseline.js`)
    emit(join(bench, "servers", `${id}.ts`), target, toBaseline(target))
  }
  return sources + 1 + ids.length
}

// `npx tsx bench/lib/build.ts`: compile to build/bench/dev/ (for bench/micro.ts and experiments)
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.stdout.write(`compiled ${build()} files to ${relative(root, defaultOutDir)}\n`)
}
