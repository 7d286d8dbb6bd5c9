/**
 * The published package, as a user meets it.
 *
 * - The README's links work where it is read: on the repository and on the npm page (the tarball
 *   holds no docs/, so doc links are absolute repository links that must map to real files).
 * - From a clean checkout of HEAD (`git archive`), `npm pack` builds (the `prepack` script) and
 *   packs dist/; a fresh ESM project installs the tarball with the README's install command,
 *   compiles against its types under `moduleResolution` "nodenext" and "node" (`typesVersions`),
 *   and runs the README's example: started as a user starts it, it logs its URL, and requests
 *   over HTTP get a session cookie and a counter that goes up.
 *
 * The checkout links the working tree's node_modules (a full `npm ci` of the dev dependencies
 * would add minutes and test npm, not us). It tests HEAD: commit before running it.
 */
import { describe, expect, it } from "@effect/vitest"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"

const root = new URL("..", import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const REPOSITORY = "https://github.com/effect-session/effect-session"
const readme = readFileSync(join(root, "README.md"), "utf8")

const work = mkdtempSync(join(tmpdir(), "effect-session-pack-"))
const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) child.kill("SIGKILL")
  rmSync(work, { recursive: true, force: true })
})

/**
 * Runs a command to completion. Asynchronous on purpose: a synchronous child process would block
 * the test worker's event loop for minutes, and vitest's worker RPC would time out.
 */
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
      env: { ...process.env, npm_config_update_notifier: "false" }
    }, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr })
      else reject(new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}${stderr || error.message}`))
    })
  })

/** The public modules: one per src/X.ts (the barrel is "index"). */
const publicModules = readdirSync(join(root, "src")).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3))

/** Markdown links and their targets, code blocks left out. */
const links = (markdown: string): Array<string> =>
  [...markdown.replace(/```[\s\S]*?```/g, "").matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)

/** The ```lang block that follows `heading` in the README. */
const readmeBlock = (heading: string, lang: string): string => {
  const section = readme.slice(readme.indexOf(`## ${heading}`))
  const match = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(section)
  if (match === null) throw new Error(`README: no ${lang} block under "## ${heading}"`)
  return match[1]!
}

describe("package metadata", () => {
  it("names the repository, homepage, bugs and keywords, for the npm page", () => {
    expect(pkg.repository).toEqual({ type: "git", url: `git+${REPOSITORY}.git` })
    expect(pkg.homepage).toMatch(new RegExp(`^${REPOSITORY}`))
    expect(pkg.bugs).toEqual({ url: `${REPOSITORY}/issues` })
    expect(pkg.keywords).toEqual(expect.arrayContaining(["effect", "session"]))
  })

  it("builds before packing (prepack), so the tarball always has dist/", () => {
    expect(pkg.scripts.prepack).toMatch(/npm run build/)
  })

  it("typesVersions maps every public module, for moduleResolution \"node\"", () => {
    expect(Object.keys(pkg.typesVersions["*"]).sort()).toEqual([...publicModules].sort())
    for (const module of publicModules) {
      expect(pkg.typesVersions["*"][module]).toEqual([`./dist/${module}.d.ts`])
    }
  })

  it("every link in the README resolves, on the repository and on npm", () => {
    const found = links(readme)
    expect(found.length).toBeGreaterThan(10)
    for (const link of found) {
      if (link.startsWith("#")) {
        const anchor = link.slice(1)
        const headings = [...readme.matchAll(/^#+ (.*)$/gm)].map((m) =>
          m[1]!.toLowerCase().replace(/[^\w\s-]/g, "").trim().replace(/\s/g, "-")
        )
        expect(headings, link).toContain(anchor)
      } else if (link.startsWith(REPOSITORY)) {
        // a repository link must name a file (or folder) that exists at that path
        const match = /^https:\/\/github\.com\/effect-session\/effect-session\/(?:blob|tree)\/main\/([^#?]*)/.exec(link)
        expect(match, `${link}: link to /blob/main/<path> or /tree/main/<path>`).not.toBeNull()
        expect(existsSync(join(root, match![1]!)), link).toBe(true)
      } else if (/^https?:\/\//.test(link)) {
        continue // another site
      } else {
        // a relative link works on the repository only if it is in the tarball too
        const path = link.split("#")[0]!
        expect(existsSync(join(root, path)), link).toBe(true)
        const shipped = ["README.md", "LICENSE", "package.json", ...(pkg.files as Array<string>)]
        expect(
          shipped.some((entry) => path === entry || path.startsWith(`${entry}/`)),
          `${link} is not in the npm tarball`
        ).toBe(
          true
        )
      }
    }
  })
})

describe("npm package", () => {
  it(
    "packs from a clean checkout, installs with the README's command, compiles (nodenext and node) and runs the README's example",
    { timeout: 600_000 },
    async () => {
      // 1. a clean checkout of HEAD: nothing built, nothing untracked
      const source = join(work, "source")
      mkdirSync(source)
      await run("sh", ["-c", `git archive --format=tar HEAD | tar -x -C '${source}'`], root)
      expect(existsSync(join(source, "dist"))).toBe(false)
      symlinkSync(join(root, "node_modules"), join(source, "node_modules"), "dir")
      const packOutput = (await run("npm", ["pack", "--json", "--pack-destination", work], source)).stdout
      // lifecycle output (prepack's build) may come first: the JSON is the array that ends it
      const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m)))[0] as {
        filename: string
        files: Array<{ path: string }>
      }
      const files = packed.files.map((f) => f.path)
      expect(files).toEqual(expect.arrayContaining([
        "package.json",
        "README.md",
        "LICENSE",
        "dist/index.js",
        "dist/index.d.ts",
        ...publicModules.flatMap((m) => [`dist/${m}.js`, `dist/${m}.d.ts`]),
        "dist/internal/lifecycle.js",
        "src/index.ts"
      ]))
      expect(files.filter((f) => /(^|\/)(test|bench|examples|node_modules|docs)\/|\.test\.ts$|tsbuildinfo/.test(f)))
        .toEqual([])
      const tarball = join(work, packed.filename)
      // the Effect-free core is a package of its own (a dependency, published beside this one)
      const coreOutput =
        (await run("npm", ["pack", "--json", "--pack-destination", work, "-w", "effect-session-core"], source))
          .stdout
      const core = JSON.parse(coreOutput.slice(coreOutput.search(/^\[/m)))[0] as {
        filename: string
        files: Array<{ path: string }>
      }
      expect(core.files.map((f) => f.path)).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts"]))
      const coreTarball = join(work, core.filename)

      // 2. a fresh project installs it with the README's install command (the tarball for the name)
      const app = join(work, "consumer")
      mkdirSync(app)
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
      const install = readmeBlock("Install", "sh").trim().split(/\s+/)
      expect(install.slice(0, 3)).toEqual(["npm", "install", "effect-session"])
      const installOutput = await run("npm", [
        ...install.slice(1).map((arg) => arg === "effect-session" ? tarball : arg),
        coreTarball,
        `@types/node@${JSON.parse(readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8")).version}`,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=warn"
      ], app)
      expect(installOutput.stdout + installOutput.stderr).not.toMatch(/ERESOLVE|EBADENGINE/)
      const manifest = JSON.parse(readFileSync(join(app, "node_modules", "effect-session", "package.json"), "utf8"))
      expect(manifest.version).toBe(pkg.version)
      const effectVersion =
        JSON.parse(readFileSync(join(app, "node_modules", "effect", "package.json"), "utf8")).version
      expect(effectVersion).toMatch(/^3\./) // not npm's "latest", effect 4

      // 3. the README's example, on a free port, and every public module imported by name
      const example = readmeBlock("Example", "ts")
      expect(example).toContain("{ port: 3000 }")
      writeFileSync(join(app, "main.ts"), example.replace("{ port: 3000 }", "{ port: 0 }"))
      writeFileSync(
        join(app, "modules.ts"),
        publicModules.filter((m) => m !== "index").map((m) => `import * as ${m} from "effect-session/${m}"`).join(
          "\n"
        ) +
          `\nimport * as Root from "effect-session"\nexport { ${
            [...publicModules.filter((m) => m !== "index"), "Root"].join(", ")
          } }\n`
      )
      const tsc = async (compilerOptions: object, files: Array<string>) => {
        writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, files }))
        await run(
          process.execPath,
          [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
          app
        )
      }
      const common = {
        target: "ES2022",
        // @effect/platform's own .d.ts name DOM types (Storage, MessagePort)
        lib: ["ES2022", "DOM"],
        types: ["node"],
        strict: true,
        exactOptionalPropertyTypes: true
      }
      // "node" (node10): the sub-modules resolve through typesVersions. The optional peers
      // (ioredis, @effect/sql, vitest) are not installed here, so the libraries' own .d.ts are
      // not checked in this pass; what matters is that no import is TS2307.
      await tsc({ ...common, module: "ES2022", moduleResolution: "node", skipLibCheck: true, noEmit: true }, [
        "main.ts",
        "modules.ts"
      ])
      // "nodenext": through `exports`, with the package's own .d.ts checked (skipLibCheck false;
      // the root module needs no optional peer)...
      writeFileSync(
        join(app, "root.ts"),
        `import * as Root from "effect-session"\nimport type { Options } from "effect-session/Session"\n` +
          `const options: Options = { ttl: "1 hour" }\nexport { options, Root }\n`
      )
      await tsc({ ...common, module: "NodeNext", moduleResolution: "NodeNext", skipLibCheck: false, noEmit: true }, [
        "root.ts"
      ])
      // ...and the example emitted to run (skipLibCheck as most apps have it: @effect/platform-node's
      // own .d.ts name `ws`, whose types are not a dependency of it)
      await tsc({ ...common, module: "NodeNext", moduleResolution: "NodeNext", skipLibCheck: true, outDir: "out" }, [
        "main.ts"
      ])

      // 4. start it as a user would: it says where it listens
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
      const port = new URL(url).port
      const first = await fetch(`http://127.0.0.1:${port}/`)
      expect(await first.text()).toBe("Hello stranger, visit #1")
      const setCookie = first.headers.get("set-cookie") ?? ""
      expect(setCookie).toMatch(
        /^lagodev_session=[A-Za-z0-9_-]{43,}; Max-Age=7200; Path=\/; HttpOnly; Secure; SameSite=Lax$/
      )
      const cookie = setCookie.split(";")[0]!
      const second = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } })
      expect(await second.text()).toBe("Hello stranger, visit #2")
      const third = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } })
      expect(await third.text()).toBe("Hello stranger, visit #3")

      // 5. SIGTERM: a graceful shutdown, not a hang
      const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)))
      server.kill("SIGTERM")
      const code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))])
      expect(code).not.toBe("hung")
    }
  )
})
