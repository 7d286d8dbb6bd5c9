/**
 * `npm run bench`: effect-session against the session libraries a user would pick instead, in
 * one run, on one machine. See bench/README.md for the method; results go to docs/benchmarks.md.
 *
 * Options (environment): BENCH_DURATION (measured seconds, default 10), BENCH_WARMUP (seconds,
 * default 3), BENCH_ROUNDS (default 2: every server is measured that many times, interleaved, and
 * the best round is reported), BENCH_RETRIES (default 2: a pair whose best window gave the server
 * less than 0.9 of its core is measured again, at most this often, 8 retries in all), BENCH_CONNECTIONS (64), BENCH_USERS (1000), BENCH_ONLY (comma-separated server ids;
 * partial and quick runs do not rewrite the docs unless BENCH_WRITE=1), BENCH_PROFILE (comma-separated
 * server ids to run under `node --cpu-prof`; profiles land in the OS temp dir), BENCH_QUICK=1 or
 * `npm run bench -- --quick` (one round of 2 s + 1 s windows, smaller side measurements: a smoke run).
 * BENCH_BASELINE=<a checkout of an earlier revision> adds `-baseline` rows of effect-session built
 * from that checkout (effect 3 and, when it has the package, effect 4; each on the checkout's own
 * effect-free core), measured in the same run (an A/B of a change).
 * `npm run bench -- --render` rewrites the docs from the last run's numbers (build/bench/last-report.json).
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir, totalmem } from "node:os"
import { join, relative } from "node:path"
import { build, buildEffect4 } from "./lib/build.js"
import { chart } from "./lib/chart.js"
import {
  canPin,
  freePort,
  nodeRunsEffect4,
  numberEnv,
  root,
  runDir,
  runDir4,
  runJson,
  spawnServer,
  stop,
  waitForPort
} from "./lib/processes.js"
import { type RedisHandle, startRedis } from "./lib/redis.js"
import { type Measurement, render, type Report, type StallResult, summary } from "./lib/report.js"
import { isEffect4, type Scenario, scenarios, servers, type ServerSpec } from "./lib/servers.js"
import type { LoadOptions, LoadResult } from "./load.js"

const quick = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1"
const durationSeconds = numberEnv("BENCH_DURATION", quick ? 2 : 10)
const warmupSeconds = numberEnv("BENCH_WARMUP", quick ? 1 : 3)
const connections = numberEnv("BENCH_CONNECTIONS", 64)
const users = numberEnv("BENCH_USERS", 1000)
const rounds = numberEnv("BENCH_ROUNDS", quick ? 1 : 2)
const retries = numberEnv("BENCH_RETRIES", quick ? 0 : 2)
const only = process.env.BENCH_ONLY?.split(",").filter((s) => s !== "")
const profile = new Set(process.env.BENCH_PROFILE?.split(",").filter((s) => s !== "") ?? [])
const write = (only === undefined && !quick) || process.env.BENCH_WRITE === "1"
const memoryCount = quick ? 20_000 : 100_000
const sweepCount = quick ? 200_000 : 1_000_000
const peerSweepCount = 20_000

const cores = cpus().length
const pin = canPin(cores)
const serverCpu = pin ? 0 : undefined
const loadCpu = pin ? 1 : undefined
const profileDir = join(tmpdir(), "effect-session-bench-profiles")

/** The commit measured, and whether src/ had uncommitted changes (they are measured too). */
const revision = (): string => {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim()
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: root }).toString().trim() !== ""
    return dirty ? `${commit} with uncommitted changes in src/` : commit
  } catch {
    return "unknown"
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`)

/** Why a row cannot be measured in this run, or `undefined` when it can. */
const pendingReason = (spec: ServerSpec, redisUp: boolean): string | undefined => {
  if (spec.requires !== undefined && !existsSync(join(root, spec.requires))) {
    return `${spec.requires} does not exist yet`
  }
  if (spec.redis === true && !redisUp) return "no Redis server"
  if (isEffect4(spec) && !nodeRunsEffect4()) {
    return `effect 4 needs Node >= 22.19 (this run: ${process.version}; \`npm run bench\` fetches Node 22 itself)`
  }
  return undefined
}

const measure = async (
  spec: (typeof servers)[number],
  scenario: Scenario,
  redis: RedisHandle | undefined
): Promise<LoadResult> => {
  if (spec.redis === true) await redis!.clear()
  const port = await freePort()
  const profiling = profile.has(spec.id)
  const runProfileDir = join(profileDir, `${spec.id}-${scenario}`)
  if (profiling) {
    rmSync(runProfileDir, { recursive: true, force: true })
    mkdirSync(runProfileDir, { recursive: true })
  }
  const server = spawnServer(spec, {
    port,
    cpu: serverCpu,
    // the main thread writes CPU.<date>.<pid>.0.*.cpuprofile; tsx's loader thread writes its own
    nodeFlags: profiling ? ["--cpu-prof", "--cpu-prof-dir", runProfileDir] : [],
    redis
  })
  let serverLog = ""
  server.stdout!.on("data", (chunk: Buffer) => serverLog += chunk.toString())
  server.stderr!.on("data", (chunk: Buffer) => serverLog += chunk.toString())
  try {
    await waitForPort(port, server)
    const options: LoadOptions = {
      port,
      scenario,
      connections,
      warmupSeconds,
      durationSeconds,
      users,
      counts: spec.session,
      serverPid: server.pid
    }
    return await runJson<LoadResult>({ script: "load", args: [JSON.stringify(options)], cpu: loadCpu })
  } catch (error) {
    throw new Error(`${spec.id} (${scenario}): ${error instanceof Error ? error.message : String(error)}\n${serverLog}`)
  } finally {
    await stop(server)
  }
}

/** The last full report, kept so that `--render` can rewrite the docs without measuring again. */
const lastReport = join(root, "build", "bench", "last-report.json")

const writeDocs = (report: Report) => {
  mkdirSync(join(root, "docs"), { recursive: true })
  writeFileSync(join(root, "docs/benchmarks.svg"), chart(report))
  writeFileSync(join(root, "docs/benchmarks.md"), render(report))
  log("wrote docs/benchmarks.md and docs/benchmarks.svg")
}

const main = async () => {
  if (process.argv.includes("--render")) {
    const saved = JSON.parse(readFileSync(lastReport, "utf8")) as Report
    const report: Report = { ...saved, started: new Date(saved.started), finished: new Date(saved.finished) }
    process.stdout.write(`${summary(report)}\n`)
    writeDocs(report)
    return
  }
  const started = new Date()
  log(
    `effect-session benchmark: ${rounds} round(s) of ${durationSeconds} s measured after ${warmupSeconds} s warm-up, ${connections} ` +
      `connections, ${users} returning users${pin ? ", server on CPU 0, load on CPU 1" : ", unpinned"}`
  )
  // the code measured is the code compiled now, whatever is committed while the run goes on
  const measuredRevision = revision()
  log(
    `compiled ${build(runDir, process.env.BENCH_BASELINE || undefined)} files to ${
      relative(root, runDir)
    } (the library runs as compiled JavaScript, as published)`
  )
  if (nodeRunsEffect4()) {
    log(
      `compiled ${buildEffect4(runDir4, process.env.BENCH_BASELINE || undefined)} effect 4 files to ${
        relative(root, runDir4)
      }`
    )
  }
  const redis = await startRedis(loadCpu)
  log(redis === undefined ? "Redis: not available, Redis rows skipped" : `Redis: ${redis.description}`)
  const measurements: Array<Measurement> = []
  const loadBefore = loadavg()[0]!
  try {
    // Rounds are interleaved (every server once, then again) and the best round counts: on a
    // shared machine, interference only ever slows a run down.
    const runs = new Map<string, Array<LoadResult>>()
    for (let round = 1; round <= rounds; round++) {
      for (const spec of servers) {
        if (only !== undefined && !only.includes(spec.id)) continue
        for (const scenario of scenarios) {
          if (pendingReason(spec, redis !== undefined) !== undefined) continue
          const result = await measure(spec, scenario, redis)
          const key = `${spec.id}/${scenario}`
          runs.set(key, [...(runs.get(key) ?? []), result])
          log(
            `${rounds > 1 ? `[${round}/${rounds}] ` : ""}${spec.id.padEnd(24)} ${scenario.padEnd(9)} ${
              Math.round(result.requestsPerSecond).toString().padStart(7)
            } req/s  p50 ${result.p50} ms  p99 ${result.p99} ms` +
              (result.cpuMicrosPerRequest === undefined
                ? ""
                : `  cpu ${result.cpuMicrosPerRequest} µs/req (${result.cpuShare} core)`) +
              (result.errors + result.non2xx > 0 ? `  errors ${result.errors} non-2xx ${result.non2xx}` : "") +
              (result.lost !== undefined && result.lost > 0 ? `  LOST ${result.lost}` : "") +
              `  (load ${loadavg()[0]!.toFixed(1)})`
          )
        }
      }
    }
    // A window in which neither the server nor the load generator got 0.9 of its core measured the
    // machine's other work, not the server: measure such a pair again (at most BENCH_RETRIES times each, 8 in all).
    let retriesLeft = 8
    for (const spec of servers) {
      for (const scenario of scenarios) {
        const key = `${spec.id}/${scenario}`
        const starved = () => {
          const best = (runs.get(key) ?? []).reduce<LoadResult | undefined>(
            (a, b) => a === undefined || b.requestsPerSecond > a.requestsPerSecond ? b : a,
            undefined
          )
          // a saturated load generator (fastify's bare server outruns it) is no reason to retry
          return best !== undefined && best.cpuShare !== undefined && best.cpuShare < 0.9 &&
            (best.loadShare ?? 0) < 0.9
        }
        for (let attempt = 0; attempt < retries && retriesLeft > 0 && starved(); attempt++) {
          retriesLeft--
          const result = await measure(spec, scenario, redis)
          runs.set(key, [...runs.get(key)!, result])
          log(
            `[retry] ${spec.id.padEnd(24)} ${scenario.padEnd(9)} ${
              Math.round(result.requestsPerSecond).toString().padStart(7)
            } req/s  cpu ${result.cpuMicrosPerRequest} µs/req (${result.cpuShare} core)`
          )
        }
      }
    }
    for (const spec of servers) {
      if (only !== undefined && !only.includes(spec.id)) continue
      for (const scenario of scenarios) {
        const pending = pendingReason(spec, redis !== undefined)
        if (pending !== undefined) {
          measurements.push({ spec, scenario, pending })
          continue
        }
        const all = runs.get(`${spec.id}/${scenario}`)!
        const best = all.reduce((a, b) => b.requestsPerSecond > a.requestsPerSecond ? b : a)
        measurements.push({ spec, scenario, result: best, rounds: all.map((r) => r.requestsPerSecond) })
      }
    }

    const side: Report["side"] = { memory: [], stall: [], redisCommands: undefined }
    if (only === undefined) {
      for (const store of ["effect-session", "express-session", "fastify-session"]) {
        side.memory.push(
          await runJson({ script: "memory", args: [store, String(memoryCount)], nodeFlags: ["--expose-gc"] })
        )
        log(`heap per session: ${JSON.stringify(side.memory[side.memory.length - 1])}`)
      }
      // A stall is a worst case, and garbage collection makes it vary: each store runs three
      // times (fresh processes) and the worst run is reported, with all three listed.
      for (const [store, count] of [["effect-session", sweepCount], ["express-session", peerSweepCount]] as const) {
        const runs: Array<StallResult> = []
        for (let i = 0; i < 3; i++) {
          runs.push(await runJson<StallResult>({ script: "stall", args: [store, String(count)] }))
        }
        const worst = runs.reduce((a, b) => b.stallMillis > a.stallMillis ? b : a)
        side.stall.push({ ...worst, runs: runs.map((r) => r.stallMillis) })
        log(`sweep stall: ${JSON.stringify(side.stall[side.stall.length - 1])}`)
      }
      if (redis !== undefined && existsSync(join(root, "src/RedisStore.ts"))) {
        await redis.clear()
        side.redisCommands = await runJson({
          script: "redis-commands",
          env: { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix }
        })
        log(`redis commands: ${JSON.stringify(side.redisCommands)}`)
      }
    }

    const report: Report = {
      started,
      finished: new Date(),
      command: quick ? "npm run bench -- --quick" : "npm run bench",
      machine: {
        cores,
        cpu: cpus()[0]?.model ?? "unknown",
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        pinned: pin,
        redis: redis?.description,
        loadAverage: [loadBefore, loadavg()[0]!],
        revision: measuredRevision
      },
      settings: { durationSeconds, warmupSeconds, connections, users, quick, rounds },
      measurements,
      side
    }
    writeFileSync(lastReport, JSON.stringify(report, null, 2))
    process.stdout.write(`${summary(report)}\n`)
    if (write) writeDocs(report)
    if (profile.size > 0) log(`CPU profiles in ${profileDir}`)
  } finally {
    await redis?.close()
    rmSync(runDir, { recursive: true, force: true })
    rmSync(runDir4, { recursive: true, force: true })
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exitCode = 1
})
