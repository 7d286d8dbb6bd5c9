/** Child processes for the orchestrator: spawn, pin, wait for a port, stop, collect JSON. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as net from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { isEffect4, type ServerSpec } from "./servers.js"

/** The repository root (bench/lib/../..). */
export const root = fileURLToPath(new URL("../../", import.meta.url))

/** Whether `taskset` can pin processes here (Linux with at least two cores). */
export const canPin = (cores: number): boolean => {
  if (cores < 2) return false
  try {
    execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

export interface NodeProcessOptions {
  /** the benchmark script, relative to bench/ and without extension: `servers/effect-bare`, `load` */
  readonly script: string
  /** the compiled script's path, when it is not `<runDir>/bench/<script>.js` (the effect 4 rows) */
  readonly path?: string
  readonly args?: ReadonlyArray<string>
  /** extra `node` flags (`--expose-gc`, `--cpu-prof`, ...) */
  readonly nodeFlags?: ReadonlyArray<string>
  readonly env?: Record<string, string>
  /** the CPU to pin to, when pinning is possible */
  readonly cpu?: number | undefined
  /** give the child a stdin pipe (bench/paired.ts talks to its loads); else it has none */
  readonly stdin?: boolean | undefined
}

/**
 * The compiled tree this run uses: its own directory, so that two runs (or an experiment with
 * `npx tsx bench/lib/build.ts`) never rebuild each other's files mid-run.
 */
export const runDir = join(root, "build", "bench", `run-${process.pid}`)

/**
 * The compiled tree of the effect 4 rows: inside packages/effect4, so that their `effect` is the
 * package's effect 4 and not the root's effect 3. It mirrors the repository's layout, so the
 * servers' relative imports (bench/lib/config.ts) hold there too.
 */
export const runDir4 = join(root, "packages", "effect4", "build", "bench", `run-${process.pid}`)

/** Whether this Node can run effect 4's @effect/platform-node (it declares Node >= 22.19). */
export const nodeRunsEffect4 = (): boolean => {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number]
  return major > 22 || (major === 22 && minor >= 19)
}

/** `node <script>`, from the compiled tree that lib/build.ts wrote into `runDir`. */
export const spawnNode = (options: NodeProcessOptions): ChildProcess => {
  const script = options.path ?? join(runDir, "bench", `${options.script}.js`)
  const nodeArgs = [...(options.nodeFlags ?? []), script, ...(options.args ?? [])]
  const [command, args] = options.cpu === undefined
    ? [process.execPath, nodeArgs]
    : ["taskset", ["-c", String(options.cpu), process.execPath, ...nodeArgs]]
  return spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      ...options.env
    },
    stdio: [options.stdin === true ? "pipe" : "ignore", "pipe", "pipe"]
  })
}

/**
 * A benchmark server (`servers/<id>`) on `port`, from the compiled tree of its Effect line, with
 * Redis's address and key prefix when one is given.
 */
export const spawnServer = (spec: ServerSpec, options: {
  readonly port: number
  readonly cpu: number | undefined
  readonly nodeFlags?: ReadonlyArray<string>
  readonly redis?: { readonly url: string; readonly prefix: string } | undefined
}): ChildProcess =>
  spawnNode({
    script: `servers/${spec.id}`,
    ...(isEffect4(spec) ? { path: join(runDir4, "packages", "effect4", "bench", "servers", `${spec.id}.js`) } : {}),
    cpu: options.cpu,
    ...(options.nodeFlags === undefined ? {} : { nodeFlags: options.nodeFlags }),
    env: {
      PORT: String(options.port),
      ...(options.redis === undefined ? {} : { REDIS_URL: options.redis.url, REDIS_PREFIX: options.redis.prefix })
    }
  })

/** The number in environment variable `name`, or `fallback` when it is unset or empty. */
export const numberEnv = (name: string, fallback: number): number => {
  const value = process.env[name]
  return value === undefined || value === "" ? fallback : Number(value)
}

/** Runs a node script to completion; resolves with the JSON object on its last stdout line. */
export const runJson = <A>(options: NodeProcessOptions): Promise<A> =>
  new Promise((resolve, reject) => {
    const child = spawnNode(options)
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (chunk: Buffer) => stdout += chunk.toString())
    child.stderr!.on("data", (chunk: Buffer) => stderr += chunk.toString())
    child.on("error", reject)
    child.on("close", (code) => {
      const lines = stdout.trim().split("\n")
      const last = lines[lines.length - 1] ?? ""
      if (code !== 0 || !last.startsWith("{")) {
        reject(new Error(`${options.script} ${(options.args ?? []).join(" ")} exited ${code}\n${stderr}${stdout}`))
      } else {
        resolve(JSON.parse(last) as A)
      }
    })
  })

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject())
    })
  })

const connects = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/** Waits until something accepts connections on `port`, or the child dies, or time runs out. */
export const waitForPort = async (port: number, child: ChildProcess, timeoutMillis = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMillis
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`)
    }
    if (await connects(port)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listened on ${port} within ${timeoutMillis} ms`)
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited after `graceMillis`. */
export const stop = (child: ChildProcess, graceMillis = 5_000): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMillis)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill("SIGTERM")
  })

/** The first of `names` that is an executable on PATH, if any. */
export const which = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  }
  return undefined
}
