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

/** The path of `to` as an import specifier written in a file of directory `from`. */
const importPath = (from: string, to: string): string => relative(from, to).split("\\").join("/")

/** `source` with its imports of `pkg` and `pkg/X` pointed at the compiled `<toSrc>/index.js` and `<toSrc>/X.js`. */
const pointImports = (source: string, pkg: string, toSrc: string): string =>
  source
    .replace(new RegExp(`(from |import\\()"${pkg}"`, "g"), `$1"${toSrc}/index.js"`)
    .replace(new RegExp(`(from |import\\()"${pkg}/([A-Za-z]+)"`, "g"), `$1"${toSrc}/$2.js"`)

/** Transpiles `file`, after `rewrite`, to `target`. */
const emit = (file: string, target: string, rewrite: (source: string) => string = (s) => s) => {
  const output = ts.transpileModule(rewrite(readFileSync(file, "utf8")), { compilerOptions, fileName: file })
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, output.outputText)
}

/**
 * Compiles `files` (paths in this tree) into `outDir`, laid out as in the repository; in those
 * under `benchDir`, imports of `pkg` point at the compiled `srcDir`. Returns how many it wrote.
 */
const emitTree = (
  files: ReadonlyArray<string>,
  outDir: string,
  benchDir: string,
  pkg: string,
  srcDir: string
): number => {
  for (const file of files) {
    const rel = relative(root, file)
    const target = join(outDir, rel.replace(/\.ts$/, ".js"))
    emit(
      file,
      target,
      rel.startsWith(benchDir) ? (source) => pointImports(source, pkg, importPath(dirname(target), srcDir)) : undefined
    )
  }
  return files.length
}

/**
 * Compiles src/ and bench/ into `outDir`; returns the number of files written. Scripts run as
 * `<outDir>/bench/<script>.js`. With `baseline` (a checkout of an earlier revision, from
 * BENCH_BASELINE), its src/ is compiled too, with `-baseline` copies of the effect-session
 * servers that use it: an A/B of two revisions in one run.
 */
export const build = (outDir: string = defaultOutDir, baseline?: string): number => {
  rmSync(outDir, { recursive: true, force: true })
  const written = baseline === undefined ? 0 : buildBaselineRows(baseline, {
    srcRel: "src",
    pkg: "effect-session",
    bench: join(root, "bench"),
    out: outDir,
    count: "effect-count",
    ids: baselineServers.filter((id) => !id.startsWith("effect4-"))
  })
  const bench = join(root, "bench")
  const files = [
    ...walk(join(root, "src")),
    ...walk(join(bench, "lib")),
    ...walk(join(bench, "servers")),
    ...benchScripts.map((name) => join(bench, `${name}.ts`)).filter((file) => existsSync(file))
  ]
  emitTree(files, outDir, "bench", "effect-session", join(outDir, "src"))
  // The compiled files are ES modules like their sources.
  writeFileSync(join(outDir, "package.json"), "{ \"type\": \"module\" }\n")
  return written + files.length
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
  for (const file of cores) emit(file, join(into, "core", relative(coreSrc, file).replace(/\.ts$/, ".js")))
  const sources = walk(join(baseline, srcRel))
  for (const file of sources) {
    const target = join(into, "src", relative(join(baseline, srcRel), file).replace(/\.ts$/, ".js"))
    emit(
      file,
      target,
      cores.length === 0
        ? undefined
        : (source) => pointImports(source, "effect-session-core", importPath(dirname(target), join(into, "core")))
    )
  }
  return cores.length + sources.length
}

/**
 * The `-baseline` rows of one Effect line: the baseline's library (`<baseline>/<srcRel>`, on its
 * own core) compiled into `<out>/baseline`, and `-baseline` copies of this tree's servers `ids`
 * (from `<bench>/servers`) and of the route they share (`<bench>/lib/<count>.ts`), with their
 * imports of `pkg` pointed at that copy. Returns the number of files written.
 */
const buildBaselineRows = (baseline: string, line: {
  readonly srcRel: string
  readonly pkg: string
  readonly bench: string
  readonly out: string
  readonly count: string
  readonly ids: ReadonlyArray<string>
}): number => {
  const sources = buildBaselineSource(baseline, line.srcRel, join(line.out, "baseline"))
  const toBaseline = (target: string) => (source: string) =>
    pointImports(source, line.pkg, importPath(dirname(target), join(line.out, "baseline", "src")))
      .replaceAll(`"../lib/${line.count}.js"`, `"../lib/${line.count}-baseline.js"`)
  const count = join(line.out, "bench", "lib", `${line.count}-baseline.js`)
  emit(join(line.bench, "lib", `${line.count}.ts`), count, toBaseline(count))
  for (const id of line.ids) {
    const target = join(line.out, "bench", "servers", `${id}-baseline.js`)
    emit(join(line.bench, "servers", `${id}.ts`), target, toBaseline(target))
  }
  return sources + 1 + line.ids.length
}

/**
 * Compiles the effect 4 rows (packages/effect4/src and packages/effect4/bench, with the
 * shared bench/lib/config.ts) into `outDir`, laid out as in the repository; imports of
 * `effect-session-v4` are rewritten to the compiled packages/effect4/src/index.js. With `baseline`,
 * the effect 4 `-baseline` rows too (none when the baseline has no effect 4 package: its rows then
 * fail to start).
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
  emitTree(
    files,
    outDir,
    join("packages", "effect4", "bench"),
    "effect-session-v4",
    join(outDir, "packages", "effect4", "src")
  )
  const written = baseline === undefined || !existsSync(join(baseline, "packages", "effect4", "src"))
    ? 0
    : buildBaselineRows(baseline, {
      srcRel: join("packages", "effect4", "src"),
      pkg: "effect-session-v4",
      bench: join(pkg, "bench"),
      out: join(outDir, "packages", "effect4"),
      count: "count",
      ids: baselineServers.filter((id) => id.startsWith("effect4-"))
    })
  writeFileSync(join(outDir, "package.json"), "{ \"type\": \"module\" }\n")
  return files.length + written
}

// `npx tsx bench/lib/build.ts`: compile to build/bench/dev/ (for bench/micro.ts and experiments)
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.stdout.write(`compiled ${build()} files to ${relative(root, defaultOutDir)}\n`)
}
