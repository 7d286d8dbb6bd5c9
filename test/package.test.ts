/**
 * The published package, as a user installs it: `npm run build`, `npm pack`, then a fresh ESM
 * project installs the tarball (with the peers, from the local npm cache where it has them), compiles a
 * consumer against its types with `tsc` (NodeNext), and runs it with node.
 *
 * The build runs in a copy of the package (package.json, tsconfigs, src), so the working tree's
 * dist/ is never rewritten while other suites run.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"

const root = new URL("..", import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const installed = (name: string): string =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version

const work = mkdtempSync(join(tmpdir(), "effect-session-pack-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const run = (command: string, args: Array<string>, cwd: string): string => {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      stdio: "pipe",
      timeout: 240_000,
      env: { ...process.env, npm_config_update_notifier: "false" }
    })
  } catch (e) {
    const error = e as { stdout?: string; stderr?: string; message: string }
    throw new Error(
      `${command} ${args.join(" ")} failed in ${cwd}:\n${error.stdout ?? ""}${error.stderr ?? error.message}`
    )
  }
}

const consumer = `import { HttpApp, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { MemoryStoreLive, Session, SessionConfigError, SessionStoreError } from "effect-session"
import * as MemoryStore from "effect-session/MemoryStore"
import type { Options } from "effect-session/Session"

const options: Options = { ttl: "1 hour" }

const app = Session.middleware(options)(
  Effect.gen(function*() {
    const visits = yield* Session.increment("visits")
    return HttpServerResponse.text(String(visits))
  })
)

const { dispose, handler } = HttpApp.toWebHandlerLayer(app, MemoryStore.layer({ ttl: "1 hour" }))
const first = await handler(new Request("http://localhost/"))
const setCookie = first.headers.get("set-cookie") ?? ""
const second = await handler(new Request("http://localhost/", { headers: { cookie: setCookie.split(";")[0]! } }))
await dispose()

console.log(JSON.stringify({
  first: await first.text(),
  second: await second.text(),
  setCookie,
  memoryStoreLive: MemoryStoreLive !== undefined,
  storeError: new SessionStoreError({ reason: "Unavailable" })._tag,
  configError: Session.validateOptions({ ttl: -1 }).pipe((e) => e._tag === "Left" && e.left instanceof SessionConfigError)
}))
`

describe("npm package", () => {
  it("packs, installs into a fresh ESM project, type-checks and runs", { timeout: 300_000 }, () => {
    // 1. build (in a copy) and pack
    const source = join(work, "source")
    mkdirSync(source)
    for (const file of ["package.json", "tsconfig.base.json", "tsconfig.build.json", "README.md", "LICENSE"]) {
      if (existsSync(join(root, file))) cpSync(join(root, file), join(source, file))
    }
    cpSync(join(root, "src"), join(source, "src"), { recursive: true })
    // the Effect-free core is a workspace package of its own, published beside this one
    cpSync(join(root, "packages", "core"), join(source, "packages", "core"), {
      recursive: true,
      filter: (path) => !/(^|\/)(dist|node_modules|test)$/.test(path)
    })
    symlinkSync(join(root, "node_modules"), join(source, "node_modules"), "dir")
    run("npm", ["run", "build"], source)
    const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], source))[0] as {
      filename: string
      files: Array<{ path: string }>
    }
    const files = packed.files.map((f) => f.path)
    expect(files).toEqual(expect.arrayContaining([
      "package.json",
      "README.md",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/MemoryStore.js",
      "dist/MemoryStore.d.ts",
      "dist/Session.js",
      "dist/internal/lifecycle.js",
      "src/index.ts"
    ]))
    expect(files.filter((f) => /(^|\/)(test|bench|examples|node_modules)\/|\.test\.ts$|tsbuildinfo/.test(f))).toEqual(
      []
    )
    const tarball = join(work, packed.filename)
    const core = JSON.parse(
      run("npm", ["pack", "--json", "--pack-destination", work, "-w", "effect-session-core"], source)
    )[0] as { filename: string; files: Array<{ path: string }> }
    expect(core.files.map((f) => f.path)).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts"]))
    const coreTarball = join(work, core.filename)

    // 2. a fresh project installs the tarball and the peers, from the npm cache where it has them (a machine whose cache was filled by `npm ci` has the tarballs but not the registry metadata `npm install` needs)
    const app = join(work, "consumer")
    mkdirSync(app)
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    run("npm", [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      tarball,
      coreTarball,
      `effect@${installed("effect")}`,
      `@effect/platform@${installed("@effect/platform")}`,
      `@types/node@${installed("@types/node")}`
    ], app)
    const manifest = JSON.parse(readFileSync(join(app, "node_modules", "effect-session", "package.json"), "utf8"))
    expect(manifest.version).toBe(pkg.version)

    // 3. compile a consumer against the package's own .d.ts (NodeNext), then run it
    writeFileSync(join(app, "main.ts"), consumer)
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          // @effect/platform's own .d.ts name DOM types (Storage, MessagePort)
          lib: ["ES2022", "DOM"],
          types: ["node"],
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          outDir: "out"
        },
        files: ["main.ts"]
      })
    )
    run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], app)
    const output = JSON.parse(run(process.execPath, [join(app, "out", "main.js")], app))
    expect(output).toEqual({
      first: "1",
      second: "2",
      setCookie: expect.stringMatching(
        /^lagodev_session=[A-Za-z0-9_-]{43,}; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Lax$/
      ),
      memoryStoreLive: true,
      storeError: "SessionStoreError",
      configError: true
    })
  })
})
