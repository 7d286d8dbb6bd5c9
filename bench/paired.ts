/**
 * Paired measurement: every selected server runs at the same time, on the same core, under its own
 * load, and the loads measure in the same window. A ratio of two servers' CPU time per request
 * from one window does not move with the machine's speed, which on a shared machine drifts by up
 * to 2× between the minutes of a sequential run (`npm run bench`): both servers see the same
 * drift. Each server gets a share of the core, so req/s here says nothing; CPU µs per request is
 * the measure. Servers sharing a core also slow each other down through the caches, unevenly (the
 * larger heap suffers more): pairing compares two builds of one server well, different servers
 * only roughly (docs/performance.md, "Measuring a change").
 *
 *   npm run bench:paired                                   # the effect 4 targets' servers
 *   BENCH_ONLY=effect4-bare,effect4-session-memory npm run bench:paired
 *   BENCH_ROUNDS=8 BENCH_DURATION=5 BENCH_SCENARIOS=returning npm run bench:paired
 *
 * Each round starts fresh server processes, primes and warms them all, then measures all of them
 * in one window (the `gated` option of load.ts). It prints each round, then each server's median CPU per
 * request, and each effect 4 target as the median of its per-round ratios. With BENCH_BASELINE,
 * the effect-session rows also run as built from that checkout (`-baseline`), paired with today's.
 */
import type { ChildProcess } from "node:child_process"
import { rmSync } from "node:fs"
import { cpus } from "node:os"
import { build, buildEffect4 } from "./lib/build.js"
import {
  canPin,
  freePort,
  nodeRunsEffect4,
  numberEnv,
  runDir,
  runDir4,
  spawnNode,
  spawnServer,
  stop,
  waitForPort
} from "./lib/processes.js"
import { type RedisHandle, startRedis } from "./lib/redis.js"
import { throughputTargets } from "./lib/report.js"
import { isEffect4, type Scenario, servers, type ServerSpec } from "./lib/servers.js"
import { median } from "./lib/stats.js"
import type { LoadOptions, LoadResult } from "./load.js"

const rounds = numberEnv("BENCH_ROUNDS", 5)
const durationSeconds = numberEnv("BENCH_DURATION", 5)
const warmupSeconds = numberEnv("BENCH_WARMUP", 3)
const connections = numberEnv("BENCH_CONNECTIONS", 32)
const users = numberEnv("BENCH_USERS", 1000)
const scenarioList = (process.env.BENCH_SCENARIOS ?? "returning,new").split(",").filter((s) => s !== "") as Array<
  Scenario
>
const defaultIds = [
  "effect4-bare",
  "effect4-floor-memory",
  "effect4-floor-required",
  "effect4-session-memory",
  "fastify-session"
]
const ids = process.env.BENCH_ONLY?.split(",").filter((s) => s !== "") ?? defaultIds
const selected: Array<ServerSpec> = servers.filter((spec) =>
  ids.includes(spec.id) || (spec.id.endsWith("-baseline") && ids.includes(spec.id.slice(0, -"-baseline".length)))
)
const pin = canPin(cpus().length)
const log = (line: string) => process.stderr.write(`${line}\n`)

/** One round of one scenario: every server started, loaded and measured at once. */
const measureTogether = async (
  scenario: Scenario,
  redis: RedisHandle | undefined
): Promise<Map<string, LoadResult>> => {
  if (selected.some((spec) => spec.redis === true)) await redis!.clear()
  const started = await Promise.all(selected.map(async (spec) => {
    const port = await freePort()
    // Servers that run at once keep their Redis keys apart.
    const server = spawnServer(spec, {
      port,
      cpu: pin ? 0 : undefined,
      redis: redis === undefined ? undefined : { url: redis.url, prefix: `${redis.prefix}${spec.id}:` }
    })
    let output = ""
    server.stdout!.on("data", (chunk: Buffer) => output += chunk.toString())
    server.stderr!.on("data", (chunk: Buffer) => output += chunk.toString())
    return { spec, port, server, output: () => output }
  }))
  const children: Array<ChildProcess> = []
  try {
    for (const s of started) await waitForPort(s.port, s.server)
    // Every load primes and warms its server, says `ready`, and warms on until all are ready;
    // then all of them are told when the one window opens.
    const loads = started.map((s) => {
      const options: LoadOptions = {
        port: s.port,
        scenario,
        connections,
        warmupSeconds,
        durationSeconds,
        users,
        counts: s.spec.session,
        serverPid: s.server.pid,
        gated: true
      }
      const child = spawnNode({
        script: "load",
        args: [JSON.stringify(options)],
        cpu: pin ? 1 : undefined,
        stdin: true
      })
      children.push(child)
      let stdout = ""
      let stderr = ""
      let announce: () => void = () => {}
      const ready = new Promise<void>((resolve) => announce = resolve)
      child.stdout!.on("data", (chunk: Buffer) => stdout += chunk.toString())
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString()
        if (/^ready$/m.test(stderr)) announce()
      })
      const done = new Promise<LoadResult>((resolve, reject) => {
        child.on("close", (code) => {
          const last = stdout.trim().split("\n").at(-1) ?? ""
          if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last) as LoadResult)
          else reject(new Error(`${s.spec.id} (${scenario}): load exited ${code}\n${stderr}${stdout}\n${s.output()}`))
        })
      })
      // Handled here too: a load stopped because another failed must not crash the cleanup.
      done.catch(() => undefined)
      return { child, ready: Promise.race([ready, done.then(() => undefined)]), done }
    })
    await Promise.all(loads.map((l) => l.ready))
    const startAt = Date.now() + 2000
    for (const l of loads) l.child.stdin!.end(`go ${startAt}\n`)
    const results = await Promise.all(loads.map((l) => l.done))
    return new Map(started.map((s, i) => [s.spec.id, results[i]!]))
  } finally {
    // A load that failed leaves the others waiting for the window: they stop with the servers.
    await Promise.all([...children, ...started.map((s) => s.server)].map((child) => stop(child)))
  }
}

const main = async () => {
  if (selected.some(isEffect4) && !nodeRunsEffect4()) {
    throw new Error(`effect 4 rows need Node >= 22.19 (this: ${process.version}); \`npm run bench:paired\` fetches it`)
  }
  log(
    `paired benchmark: ${selected.map((s) => s.id).join(", ")}; ${rounds} round(s) of ${durationSeconds} s, ` +
      `${connections} connections each${pin ? ", servers on CPU 0, loads on CPU 1" : ", unpinned"}`
  )
  build(runDir, process.env.BENCH_BASELINE || undefined)
  if (selected.some(isEffect4)) buildEffect4(runDir4, process.env.BENCH_BASELINE || undefined)
  const redis = selected.some((s) => s.redis === true) ? await startRedis(pin ? 1 : undefined) : undefined
  if (selected.some((s) => s.redis === true) && redis === undefined) {
    throw new Error("the Redis rows need a Redis server")
  }
  /** scenario → server → CPU µs per request, one per round */
  const cpu = new Map<string, Array<number>>()
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of scenarioList) {
        const results = await measureTogether(scenario, redis)
        const cells: Array<string> = []
        for (const spec of selected) {
          const r = results.get(spec.id)!
          if (r.cpuMicrosPerRequest === undefined) {
            throw new Error("no CPU time per request: paired runs need Linux /proc")
          }
          if (r.lost !== undefined && r.lost > 0) throw new Error(`${spec.id} lost ${r.lost} increments`)
          const key = `${scenario}/${spec.id}`
          cpu.set(key, [...(cpu.get(key) ?? []), r.cpuMicrosPerRequest])
          cells.push(
            `${spec.id} ${r.cpuMicrosPerRequest} µs${
              (r.lateMillis ?? 0) > 100 ? ` (window ${r.lateMillis} ms late)` : ""
            }`
          )
        }
        log(`[${round}/${rounds}] ${scenario.padEnd(9)} ${cells.join(" | ")}`)
      }
    }
  } finally {
    await redis?.close()
    rmSync(runDir, { recursive: true, force: true })
    rmSync(runDir4, { recursive: true, force: true })
  }
  const lines = ["", "CPU µs per request (median of rounds; the rounds):"]
  for (const scenario of scenarioList) {
    for (const spec of selected) {
      const all = cpu.get(`${scenario}/${spec.id}`)!
      lines.push(
        `  ${scenario.padEnd(9)} ${spec.id.padEnd(32)} ${median(all).toFixed(1).padStart(6)}  (${all.join(" / ")})`
      )
    }
  }
  /** `ours` in `peer`'s units: the peer's CPU per request over ours, round by round. */
  const ratios = (scenario: Scenario, ours: string, peer: string) => {
    const a = cpu.get(`${scenario}/${ours}`)
    const b = cpu.get(`${scenario}/${peer}`)
    return a === undefined || b === undefined ? undefined : a.map((x, i) => b[i]! / x)
  }
  const targetLines: Array<string> = []
  for (const t of throughputTargets) {
    const r = ratios(t.scenario, t.ours, t.peer)
    if (r === undefined) continue
    const m = median(r)
    targetLines.push(
      `  [${m >= t.goal ? "yes" : "**no**"}] ${t.label}: ${m.toFixed(2)}× (${r.map((x) => x.toFixed(2)).join(", ")})`
    )
    for (const floor of ["effect4-floor-memory", "effect4-floor-required", "effect4-floor-complete"]) {
      const f = t.floors === true ? ratios(t.scenario, floor, t.peer) : undefined
      if (f !== undefined) targetLines.push(`        ${floor}: ${median(f).toFixed(2)}×`)
    }
    const base = ratios(t.scenario, `${t.ours}-baseline`, t.peer)
    if (base !== undefined) targetLines.push(`        ${t.ours}-baseline: ${median(base).toFixed(2)}×`)
  }
  if (targetLines.length > 0) {
    lines.push(
      "",
      "targets, by CPU per request (median of the per-round ratios; the rounds). Servers sharing a core",
      "weigh on each other unevenly (a larger heap suffers more): see docs/performance.md before trusting these.",
      ...targetLines
    )
  }
  const abLines: Array<string> = []
  for (const spec of selected) {
    if (!spec.id.endsWith("-baseline")) continue
    for (const scenario of scenarioList) {
      const r = ratios(scenario, spec.id.slice(0, -"-baseline".length), spec.id)
      if (r !== undefined) {
        abLines.push(
          `  ${scenario.padEnd(9)} ${spec.id}: ${median(r).toFixed(3)}× (${r.map((x) => x.toFixed(2)).join(", ")})`
        )
      }
    }
  }
  if (abLines.length > 0) {
    lines.push(
      "",
      "this build against the baseline: the baseline's CPU per request over this build's (> 1: this build is faster)",
      ...abLines
    )
  }
  process.stdout.write(`${lines.join("\n")}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
