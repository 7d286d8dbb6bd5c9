/**
 * The published package, as an effect 4 user meets it: from a clean checkout of HEAD
 * (`git archive`), `npm pack` builds and packs `effect-session-v4` and `effect-session-core`; a
 * fresh ESM project installs both tarballs with the README's install command (the tarballs in
 * place of the names), with no ERESOLVE or EBADENGINE; the README's example compiles with `tsc`
 * (NodeNext, and "node" through `typesVersions`) and runs on Node 22, and requests over HTTP get
 * a session cookie and a counter that goes up.
 *
 * npm runs on the Node this suite runs on (Node 22: see scripts/node22.mjs), so engine checks
 * see the Node the package declares. The checkout links the working tree's node_modules. It
 * tests HEAD: commit before running it.
 */
import { describe, expect, it } from "@effect/vitest"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll } from "vitest"

const pkgRoot = new URL("..", import.meta.url).pathname
const repoRoot = join(pkgRoot, "..", "..")
const pkg = JSON.parse(readFileSync(join(pkgRoot, "package.json"), "utf8"))
const readme = readFileSync(join(pkgRoot, "README.md"), "utf8")

const work = mkdtempSync(join(tmpdir(), "effect-session-v4-pack-"))
const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) child.kill("SIGKILL")
  rmSync(work, { recursive: true, force: true })
})

/** npm's own CLI, run by this Node (22), so that engine checks see Node 22. */
const npmCli = (() => {
  for (
    const candidate of ["/usr/lib/node_modules/npm/bin/npm-cli.js", "/usr/local/lib/node_modules/npm/bin/npm-cli.js"]
  ) {
    try {
      readFileSync(candidate)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
})()

/** Runs a command to completion, asynchronously (a synchronous child would block vitest's worker). */
const run = (
  command: string,
  args: Array<string>,
  cwd: string
): Promise<{ readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    execFile(command, args, {
      cwd,
      encoding: "utf8",
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        npm_config_update_notifier: "false",
        // Node 22 first on PATH: npm's lifecycle scripts (prepack's build) run on it too
        PATH: `${dirname(process.execPath)}:${process.env.PATH}`
      }
    }, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr })
      else reject(new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}${stderr || error.message}`))
    })
  })

const npm = (args: Array<string>, cwd: string) =>
  npmCli === undefined ? run("npm", args, cwd) : run(process.execPath, [npmCli, ...args], cwd)

/** The first ```lang block of the README. */
const readmeBlock = (lang: string): string => {
  const match = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(readme)
  if (match === null) throw new Error(`README: no ${lang} block`)
  return match[1]!
}

/** The JSON array `npm pack --json` prints last (lifecycle output may come first). */
const packed = (stdout: string) =>
  JSON.parse(stdout.slice(stdout.search(/^\[/m)))[0] as { filename: string; files: Array<{ path: string }> }

const publicModules = readdirSync(join(pkgRoot, "src")).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3))

describe("package metadata", () => {
  it("typesVersions maps every public module, for moduleResolution \"node\"", () => {
    expect(Object.keys(pkg.typesVersions["*"]).sort()).toEqual([...publicModules].sort())
    for (const module of publicModules) expect(pkg.typesVersions["*"][module]).toEqual([`./dist/${module}.d.ts`])
  })

  it("builds before packing, and starts the demo on Node 22", () => {
    expect(pkg.scripts.prepack).toMatch(/npm run build/)
    expect(pkg.scripts.start).toBe("node scripts/node22.mjs tsx examples/demo.ts")
  })
})

describe("npm package", () => {
  it(
    "packs from a clean checkout, installs with the README's command, compiles and runs the README's example over HTTP",
    { timeout: 600_000 },
    async () => {
      // 1. a clean checkout of HEAD, linked to the installed dependencies
      const source = join(work, "source")
      mkdirSync(source)
      await run("sh", ["-c", `git archive --format=tar HEAD | tar -x -C '${source}'`], repoRoot)
      symlinkSync(join(repoRoot, "node_modules"), join(source, "node_modules"), "dir")
      symlinkSync(join(pkgRoot, "node_modules"), join(source, "packages", "effect4", "node_modules"), "dir")

      const core = packed(
        (await npm(["pack", "--json", "--pack-destination", work, "-w", "effect-session-core"], source)).stdout
      )
      expect(core.files.map((f) => f.path)).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts"]))
      const v4 = packed(
        (await npm(["pack", "--json", "--pack-destination", work, "-w", "effect-session-v4"], source)).stdout
      )
      const files = v4.files.map((f) => f.path)
      expect(files).toEqual(expect.arrayContaining([
        "package.json",
        "README.md",
        ...publicModules.flatMap((m) => [`dist/${m}.js`, `dist/${m}.d.ts`]),
        "dist/internal/state.js",
        "src/index.ts"
      ]))
      expect(files.filter((f) => /(^|\/)(test|examples|node_modules|scripts)\/|\.test\.ts$|tsbuildinfo/.test(f)))
        .toEqual([])

      // 2. a fresh project installs both tarballs with the README's command
      const app = join(work, "consumer")
      mkdirSync(app)
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
      const install = readmeBlock("sh").trim().split(/\s+/)
      expect(install.slice(0, 3)).toEqual(["npm", "install", "effect-session-v4"])
      const installed = await npm([
        ...install.slice(1).map((arg) => arg === "effect-session-v4" ? join(work, v4.filename) : arg),
        join(work, core.filename),
        `@types/node@${pkg.devDependencies["@types/node"]}`,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=warn"
      ], app)
      expect(installed.stdout + installed.stderr).not.toMatch(/ERESOLVE|EBADENGINE/)
      const manifest = JSON.parse(readFileSync(join(app, "node_modules/effect-session-v4/package.json"), "utf8"))
      expect(manifest.version).toBe(pkg.version)
      const effect = JSON.parse(readFileSync(join(app, "node_modules/effect/package.json"), "utf8"))
      expect(effect.version).toMatch(/^4\./)

      // 3. the README's example on a free port, and every public module imported by name
      const example = readmeBlock("ts")
      expect(example).toContain("{ port: 3000 }")
      writeFileSync(join(app, "main.ts"), example.replace("{ port: 3000 }", "{ port: 0 }"))
      writeFileSync(
        join(app, "modules.ts"),
        publicModules.filter((m) => m !== "index" && m !== "SessionStoreSuite")
          .map((m) => `import * as ${m} from "effect-session-v4/${m}"`).join("\n") +
          `\nimport * as Root from "effect-session-v4"\nexport { ${
            [...publicModules.filter((m) => m !== "index" && m !== "SessionStoreSuite"), "Root"].join(", ")
          } }\n`
      )
      const tsc = async (compilerOptions: object, files: Array<string>) => {
        writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, files }))
        await run(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], app)
      }
      const common = { target: "ES2022", lib: ["ES2022", "DOM"], types: ["node"], strict: true }
      // "node" (node10): the sub-modules resolve through typesVersions
      await tsc({ ...common, module: "ES2022", moduleResolution: "node", skipLibCheck: true, noEmit: true }, [
        "modules.ts"
      ])
      // "nodenext", with the package's own .d.ts checked (skipLibCheck false): the root module
      // needs nothing beyond the README's install (no vitest, no SQL driver)
      writeFileSync(
        join(app, "root.ts"),
        `import * as Root from "effect-session-v4"\nimport type { Options } from "effect-session-v4/Session"\n` +
          `const options: Options = { ttl: "1 hour" }\nexport { options, Root }\n`
      )
      await tsc({ ...common, module: "NodeNext", moduleResolution: "NodeNext", skipLibCheck: false, noEmit: true }, [
        "root.ts"
      ])
      // "nodenext", through `exports`: the example, emitted to run
      await tsc(
        { ...common, module: "NodeNext", moduleResolution: "NodeNext", skipLibCheck: true, outDir: "out" },
        ["main.ts", "modules.ts"]
      )

      // 4. start it on Node 22 as a user would: it says where it listens
      const server = spawn(process.execPath, [join(app, "out", "main.js")], {
        cwd: app,
        stdio: ["ignore", "pipe", "pipe"]
      })
      children.push(server)
      let output = ""
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "Listening on" line within 60 s:\n${output}`)), 60_000)
        const onData = (chunk: Buffer) => {
          output += chunk.toString()
          const match = /Listening on (http:\/\/[^\s"]+)/.exec(output)
          if (match !== null) {
            clearTimeout(timer)
            resolve(match[1]!)
          }
        }
        server.stdout!.on("data", onData)
        server.stderr!.on("data", onData)
        server.on("exit", (code) => reject(new Error(`the example exited (${code}):\n${output}`)))
      })
      const base = `http://127.0.0.1:${new URL(url).port}`
      const first = await fetch(`${base}/`)
      expect(await first.json()).toEqual({ views: 1 })
      const setCookie = first.headers.get("set-cookie") ?? ""
      expect(setCookie).toMatch(/^lagodev_session=[A-Za-z0-9_-]{43,}; Max-Age=7200; Path=\/; HttpOnly; SameSite=Lax$/)
      const cookie = setCookie.split(";")[0]!
      const second = await fetch(`${base}/`, { headers: { cookie } })
      expect(await second.json()).toEqual({ views: 2 })
      server.kill("SIGTERM")
    }
  )
})
