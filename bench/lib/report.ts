/** Turns one run's numbers into the stdout summary and docs/benchmarks.md. */
import type { LoadResult } from "../load.js"
import { bareOf, type Scenario, servers, type ServerSpec } from "./servers.js"
import { median } from "./stats.js"

export interface Measurement {
  readonly spec: ServerSpec
  readonly scenario: Scenario
  readonly result?: LoadResult
  /** req/s of every round; `result` is the best */
  readonly rounds?: ReadonlyArray<number>
  readonly pending?: string
}

export interface MemoryResult {
  readonly store: string
  readonly count: number
  readonly bytesPerSession: number
}

export interface StallResult {
  readonly store: string
  readonly count: number
  readonly removed: number
  readonly cleanupMillis: number
  readonly monitorMaxMillis: number
  readonly immediateMaxGapMillis: number
  readonly stallMillis: number
  /** every run's stall, when the store ran several times (the worst is reported) */
  readonly runs?: ReadonlyArray<number>
}

export interface RedisCommandsResult {
  readonly kinds: ReadonlyArray<{
    readonly kind: string
    readonly description: string
    readonly requests: number
    readonly commandsPerRequest: number
    readonly writesPerRequest: number
    readonly roundTripsPerRequest: number
    readonly commands: Readonly<Record<string, number>>
    /** commands Redis ran per request (`INFO commandstats`), those inside Lua scripts included */
    readonly executedPerRequest: number
    readonly executed: Readonly<Record<string, number>>
  }>
}

export interface Report {
  readonly started: Date
  readonly finished: Date
  readonly command: string
  readonly machine: {
    readonly cores: number
    readonly cpu: string
    readonly memoryGiB: number
    readonly node: string
    readonly platform: string
    readonly pinned: boolean
    readonly redis: string | undefined
    /** 1-minute load average at the start and at the end of the HTTP runs */
    readonly loadAverage: readonly [number, number]
    /** git commit measured */
    readonly revision: string
  }
  readonly settings: {
    readonly durationSeconds: number
    readonly warmupSeconds: number
    readonly connections: number
    readonly users: number
    readonly quick: boolean
    readonly rounds: number
  }
  readonly measurements: ReadonlyArray<Measurement>
  readonly side: {
    readonly memory: Array<MemoryResult>
    readonly stall: Array<StallResult>
    redisCommands: RedisCommandsResult | undefined
  }
}

const rps = (report: Report, id: string, scenario: Scenario): number | undefined =>
  report.measurements.find((m) => m.spec.id === id && m.scenario === scenario)?.result?.requestsPerSecond

const cpu = (report: Report, id: string, scenario: Scenario): number | undefined =>
  report.measurements.find((m) => m.spec.id === id && m.scenario === scenario)?.result?.cpuMicrosPerRequest

/**
 * `id`'s req/s over `base`'s in each interleaved round (retries left out): measured minutes apart
 * at most, so on a machine whose speed drifts these pairs are steadier than two best windows.
 */
const byRound = (report: Report, id: string, base: string, scenario: Scenario): Array<number> => {
  const of = (server: string) =>
    report.measurements.find((m) => m.spec.id === server && m.scenario === scenario)?.rounds
  const a = of(id)
  const b = of(base)
  if (a === undefined || b === undefined) return []
  const n = Math.min(a.length, b.length, report.settings.rounds)
  return Array.from({ length: n }, (_, i) => a[i]! / b[i]!)
}

/**
 * "0.38× (0.35× by CPU per request; by round 0.36×, 0.38×)": the ratio of best windows, the same
 * from CPU cost, and the ratio within each round.
 */
const both = (report: Report, id: string, base: string, scenario: Scenario): string => {
  const byCpu = ratio(cpu(report, base, scenario), cpu(report, id, scenario))
  const r = fmtRatio(ratio(rps(report, id, scenario), rps(report, base, scenario)))
  const rounds = byRound(report, id, base, scenario)
  const extra = [
    byCpu === undefined ? "" : `${fmtRatio(byCpu)} by CPU per request`,
    rounds.length > 1 ? `by round ${rounds.map(fmtRatio).join(", ")}` : ""
  ].filter((x) => x !== "")
  return extra.length === 0 ? r : `${r} (${extra.join("; ")})`
}

/**
 * The A/B lines of a `BENCH_BASELINE` run: each `-baseline` row's partner over it, round by round,
 * and the median of those pairs. Both servers of a pair are measured in the same round, so the
 * pair's ratio is also the change in their ratio to any other server of that round (the bare
 * server's, as issue bounds are stated): on a machine whose speed drifts between rounds, that
 * median is steadier than the ratio of two best windows, which is shown with it.
 */
const abLines = (report: Report): Array<string> => {
  const lines: Array<string> = []
  for (const m of report.measurements) {
    if (!m.spec.id.endsWith("-baseline")) continue
    const id = m.spec.id.slice(0, -"-baseline".length)
    const rounds = byRound(report, id, m.spec.id, m.scenario)
    if (rounds.length === 0) continue
    lines.push(
      `  ${id.padEnd(30)} ${m.scenario.padEnd(9)} median ${fmtRatio(median(rounds))}  best windows ${
        fmtRatio(ratio(rps(report, id, m.scenario), rps(report, m.spec.id, m.scenario)))
      }  by round ${rounds.map(fmtRatio).join(", ")}`
    )
  }
  return lines.length === 0
    ? []
    : ["", "this build over BENCH_BASELINE's, req/s in the same round (= the change of its ratio to bare):", ...lines]
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b

const fmtRatio = (r: number | undefined) => r === undefined ? "–" : `${r.toFixed(2)}×`
const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US")

export interface Row {
  readonly label: string
  readonly id: string
  readonly scenario: Scenario
  readonly rps: string
  readonly p50: string
  readonly p99: string
  /** server CPU time per request in the reported round, µs */
  readonly cpu: string
  readonly vsOwnBare: string
  readonly vsEffectBare: string
  /** every round's req/s, when there were several */
  readonly rounds: string
  readonly notes: string
}

export const rows = (report: Report): Array<Row> =>
  report.measurements.map((m) => {
    if (m.result === undefined) {
      return {
        label: m.spec.label,
        id: m.spec.id,
        scenario: m.scenario,
        rps: "pending",
        p50: "",
        p99: "",
        cpu: "",
        vsOwnBare: "",
        vsEffectBare: "",
        rounds: "",
        notes: m.pending ?? ""
      }
    }
    const r = m.result
    const notes = [
      r.cpuShare !== undefined && r.cpuShare < 0.9
        ? (r.loadShare ?? 0) >= 0.9
          ? `load generator saturated (server used ${r.cpuShare} core)`
          : `server had ${r.cpuShare} core`
        : "",
      r.errors > 0 ? `${r.errors} errors` : "",
      r.non2xx > 0 ? `${r.non2xx} non-2xx` : "",
      r.lost !== undefined && r.lost > 0 ? `${r.lost} lost increments` : ""
    ].filter((s) => s !== "").join(", ")
    return {
      label: m.spec.label,
      id: m.spec.id,
      scenario: m.scenario,
      rps: fmtInt(r.requestsPerSecond),
      p50: String(r.p50),
      p99: String(r.p99),
      cpu: r.cpuMicrosPerRequest === undefined ? "–" : String(Math.round(r.cpuMicrosPerRequest)),
      vsOwnBare: m.spec.session
        ? fmtRatio(ratio(r.requestsPerSecond, rps(report, bareOf(m.spec.framework), m.scenario)))
        : "1.00×",
      vsEffectBare: fmtRatio(ratio(r.requestsPerSecond, rps(report, "effect-bare", m.scenario))),
      rounds: m.rounds !== undefined && m.rounds.length > 1 ? m.rounds.map(fmtInt).join(" / ") : "",
      notes
    }
  })

interface Target {
  readonly target: string
  readonly measured: string
  readonly met: boolean | undefined
  /**
   * The same ratio for the reference row that bounds it (`bench/servers/effect-floor-*.ts`), and
   * whether that floor itself reaches the target: when it does not, no library built that way can.
   */
  readonly floor?: { readonly text: string; readonly met: boolean | undefined } | undefined
}

/** A throughput target's ratio for a floor row in place of ours, when that row was measured. */
const floorOf = (
  report: Report,
  floorId: string,
  baseId: string,
  scenario: Scenario,
  ok: (v: number) => boolean
): Target["floor"] => {
  const value = ratio(rps(report, floorId, scenario), rps(report, baseId, scenario))
  if (value === undefined) return undefined
  const label = servers.find((s) => s.id === floorId)?.label ?? floorId
  return { text: `${fmtRatio(value)} for the ${label.replace(/^floor: /, "floor (")})`, met: ok(value) }
}

const check = (value: number | undefined, ok: (v: number) => boolean): boolean | undefined =>
  value === undefined ? undefined : ok(value)

/** A throughput target: `ours` at least `goal` times `peer` (bench/paired.ts reads them by CPU). */
export interface ThroughputTarget {
  readonly label: string
  readonly scenario: Scenario
  readonly ours: string
  readonly peer: string
  /** how the measured text names the peer */
  readonly peerName: string
  readonly goal: number
  /** whether the effect 4 floor rows bound it (quoted in its measured text) */
  readonly floors?: boolean
}

/**
 * The effect 4 package's throughput targets (issue 16). The effect 3 package has none of its own
 * any more: its earlier ones sat closer to the platform's own ceiling than any library served as a
 * Context service can reach (see its floor rows).
 */
export const throughputTargets: ReadonlyArray<ThroughputTarget> = [
  ...(["returning", "new"] as const).map((scenario): ThroughputTarget => {
    const goal = scenario === "returning" ? 1.2 : 1.0
    return {
      label: `effect 4 MemoryStore, ${scenario}: ≥ ${goal.toFixed(1)}× @fastify/session`,
      scenario,
      ours: "effect4-session-memory",
      peer: "fastify-session",
      peerName: "@fastify/session",
      goal,
      floors: true
    }
  }),
  {
    label: "effect 4 MemoryStore, returning: ≥ 0.70× bare effect 4",
    scenario: "returning",
    ours: "effect4-session-memory",
    peer: "effect4-bare",
    peerName: "bare effect 4",
    goal: 0.7,
    floors: true
  },
  {
    label: "effect 4 RedisStore, returning: ≥ 2.0× express-session + connect-redis",
    scenario: "returning",
    ours: "effect4-session-redis",
    peer: "express-session-redis",
    peerName: "connect-redis",
    goal: 2
  }
]

export const targets = (report: Report): Array<Target> => {
  const list: Array<Target> = []
  for (const t of throughputTargets) {
    const ok = (v: number) => v >= t.goal
    list.push({
      target: t.label,
      measured: `${both(report, t.ours, t.peer, t.scenario)} ${t.peerName}`,
      met: check(ratio(rps(report, t.ours, t.scenario), rps(report, t.peer, t.scenario)), ok),
      ...(t.floors === true
        ? {
          floor: floorOf(report, "effect4-floor-required", t.peer, t.scenario, ok) ??
            floorOf(report, "effect4-floor-memory", t.peer, t.scenario, ok)
        }
        : {})
    })
  }
  const heap = report.side.memory.find((m) => m.store === "effect-session")?.bytesPerSession
  list.push({
    target: "≤ 300 heap bytes per small stored session",
    measured: heap === undefined ? "–" : `${heap} B`,
    met: check(heap, (v) => v <= 300)
  })
  const stall = report.side.stall.find((s) => s.store === "effect-session")
  list.push({
    target: `no event-loop stall over 10 ms sweeping ${
      stall === undefined ? "1,000,000" : fmtInt(stall.count)
    } expired`,
    measured: stall === undefined ? "–" : `${stall.stallMillis} ms`,
    met: check(stall?.stallMillis, (v) => v <= 10)
  })
  const kinds = report.side.redisCommands?.kinds
  const kind = (name: string) => kinds?.find((k) => k.kind === name)
  const read = kind("read")
  list.push({
    target: "Redis: one round trip to load",
    measured: read === undefined
      ? "–"
      : `${read.roundTripsPerRequest} round trip(s), ${read.commandsPerRequest} command(s)`,
    met: check(read?.roundTripsPerRequest, (v) => v <= 1)
  })
  const unchanged = kind("unchanged")
  list.push({
    target: "Redis: zero writes for an unchanged session",
    measured: unchanged === undefined ? "–" : `${unchanged.writesPerRequest} write(s)`,
    met: check(unchanged?.writesPerRequest, (v) => v === 0)
  })
  const changed = kind("changed")
  const saveTrips = changed === undefined || read === undefined
    ? undefined
    : Math.round((changed.roundTripsPerRequest - read.roundTripsPerRequest) * 100) / 100
  list.push({
    target: "Redis: one round trip to save a change",
    measured: changed === undefined
      ? "–"
      : `${saveTrips} round trip for the save (${changed.roundTripsPerRequest} per request with the load), ${changed.writesPerRequest} write command(s)`,
    met: check(saveTrips, (v) => v <= 1)
  })
  return list
}

/** A markdown table: the first column and the last `leftAtEnd` columns left-aligned, numbers right-aligned. */
const table = (header: ReadonlyArray<string>, body: ReadonlyArray<ReadonlyArray<string>>, leftAtEnd = 0): string =>
  [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => i === 0 || i >= header.length - leftAtEnd ? "---" : "---:").join(" | ")} |`,
    ...body.map((cells) => `| ${cells.join(" | ")} |`)
  ].join("\n")

const metMark = (met: boolean | undefined) => met === undefined ? "pending" : met ? "yes" : "**no**"

/** The Met column: a missed target whose floor misses it too is out of reach, and says so. */
const targetMark = (t: Target): string =>
  t.met === false && t.floor?.met === false ? "**no**; out of reach (the floor misses it too)" : metMark(t.met)

const measuredText = (t: Target): string => t.floor === undefined ? t.measured : `${t.measured}; ${t.floor.text}`

/** Plain-text summary for stdout. */
export const summary = (report: Report): string => {
  const lines = [
    "",
    "server                                           scenario   req/s    p50   p99  cpu µs  ×own  ×Effect  rounds"
  ]
  for (const row of rows(report)) {
    lines.push(
      `${row.label.padEnd(48)} ${row.scenario.padEnd(9)} ${row.rps.padStart(7)} ${row.p50.padStart(5)} ${
        row.p99.padStart(5)
      } ${row.cpu.padStart(7)} ${row.vsOwnBare.padStart(5)} ${row.vsEffectBare.padStart(7)}  ${row.rounds} ${row.notes}`
    )
  }
  lines.push(...abLines(report))
  lines.push("", "heap bytes per session:")
  for (const m of report.side.memory) lines.push(`  ${m.store.padEnd(18)} ${m.bytesPerSession} B (${fmtInt(m.count)})`)
  lines.push("longest event-loop stall while removing expired sessions:")
  for (const s of report.side.stall) {
    lines.push(
      `  ${s.store.padEnd(18)} ${s.stallMillis} ms for ${fmtInt(s.count)} (cleanup took ${s.cleanupMillis} ms)`
    )
  }
  if (report.side.redisCommands !== undefined) {
    lines.push("Redis per request (effect-session RedisStore):")
    for (const k of report.side.redisCommands.kinds) {
      lines.push(
        `  ${
          k.kind.padEnd(10)
        } ${k.commandsPerRequest} commands, ${k.writesPerRequest} writes, ${k.roundTripsPerRequest} round trips  ${
          JSON.stringify(k.commands)
        }`
      )
    }
  }
  lines.push("", "targets:")
  for (const t of targets(report)) lines.push(`  [${targetMark(t)}] ${t.target}: ${measuredText(t)}`)
  return lines.join("\n")
}

/** docs/benchmarks.md */
export const render = (report: Report): string => {
  const { machine, settings } = report
  const all = rows(report)
  const byScenario = (scenario: Scenario) =>
    table(
      ["Server", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "× own bare", "× bare Effect", "Rounds (req/s)", "Notes"],
      all.filter((r) => r.scenario === scenario).map((r) => [
        r.label,
        r.rps,
        r.p50,
        r.p99,
        r.cpu,
        r.vsOwnBare,
        r.vsEffectBare,
        r.rounds,
        r.notes
      ]),
      1
    )
  const memory = table(
    ["Store", "Sessions", "Heap bytes per session"],
    report.side.memory.map((m) => [m.store, fmtInt(m.count), fmtInt(m.bytesPerSession)])
  )
  const stall = table(
    [
      "Store",
      "Expired sessions",
      "Cleanup",
      "Longest stall (worst run)",
      "monitorEventLoopDelay max",
      "setImmediate max gap",
      "Stall in each run"
    ],
    report.side.stall.map((s) => [
      s.store === "effect-session" ? "effect-session MemoryStore `sweep`" : "express-session MemoryStore `all()`",
      fmtInt(s.count),
      `${s.cleanupMillis} ms`,
      `${s.stallMillis} ms`,
      `${s.monitorMaxMillis} ms`,
      `${s.immediateMaxGapMillis} ms`,
      (s.runs ?? [s.stallMillis]).map((x) => `${x} ms`).join(", ")
    ])
  )
  const redis = report.side.redisCommands === undefined
    ? "_Pending: the Redis store (`src/RedisStore.ts`) was not available for this run._"
    : table(
      ["Request", "Commands sent", "Writes", "Round trips", "Sent", "Run by Redis (Lua included)"],
      report.side.redisCommands.kinds.map((k) => [
        `${k.kind}: ${k.description}`,
        String(k.commandsPerRequest),
        String(k.writesPerRequest),
        String(k.roundTripsPerRequest),
        Object.entries(k.commands).map(([name, n]) => `${name} ${n}`).join(", "),
        k.executedPerRequest === 0
          ? "0"
          : `${k.executedPerRequest}: ${Object.entries(k.executed).map(([name, n]) => `${name} ${n}`).join(", ")}`
      ]),
      2
    )
  const goals = table(
    ["Target", "Measured", "Met"],
    targets(report).map((t) => [t.target, measuredText(t), targetMark(t)]),
    2
  )
  return `# Benchmarks

<!-- Generated by \`${report.command}\` (bench/run.ts). Do not edit by hand: rerun it. -->

Measured ${report.finished.toISOString().slice(0, 10)} with \`${report.command}\`${
    settings.quick ? " (a quick smoke run: short windows, not for comparison)" : ""
  }.

- Code: effect-session at ${machine.revision}; peers as pinned in package-lock.json (express 5, express-session 1.19,
  connect-redis 9 with redis 5, fastify 5, @fastify/session 11, @fastify/cookie 11); autocannon 8.
- Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}.
- ${
    machine.pinned
      ? "Each server runs in a fresh process pinned to CPU 0 (`taskset -c 0`); the load generator (autocannon 8, its own process) is pinned to CPU 1."
      : "Processes are not pinned (no `taskset`, or a single core): server and load generator share the CPUs."
  }
- Redis: ${machine.redis ?? "not available"}${machine.pinned ? ", pinned to CPU 1 with the load generator" : ""}.
- 1-minute load average ${machine.loadAverage[0].toFixed(1)} when the HTTP runs started, ${
    machine.loadAverage[1].toFixed(1)
  } when they ended (the benchmark's own server and load generator account for about 2). A window
  in which the server used less than 0.9 of its core is flagged in Notes: either the load generator
  was saturated (it cannot send faster: the server's req/s is then a lower bound) or other work
  on the machine took the CPU.
- Load: \`GET /count\` over ${settings.connections} keep-alive connections, ${settings.warmupSeconds} s warm-up, then ${settings.durationSeconds} s measured;
  ${
    settings.rounds > 1
      ? `every server was measured ${settings.rounds} times, interleaved (all servers, then all again), and again when its best window gave it less than 0.9 of its core; the best window is reported and every window is listed.`
      : "one round per server."
  }
  Each handler reads the session's integer \`n\` (0 if absent), stores \`n + 1\` and answers it; the bare
  servers, which have no session, build the same kind of response per request (a count of their own).
  *Returning*: ${
    fmtInt(settings.users)
  } users, each with its own cookie jar (primed first), requests spread round-robin over them;
  after the window every user is asked once more and the counts must add up (no lost increments).
  *New*: no cookie, so every request creates a session.
- Cookie settings are the same everywhere: name \`sid\`, HttpOnly, SameSite=Lax, Path=/, Max-Age 2 h, not Secure (plain HTTP).

![Requests per second by server and scenario](benchmarks.svg)

## Returning users

${byScenario("returning")}

## New sessions

${byScenario("new")}

"× own bare" is the session server's throughput over the same framework with no session (bare
effect 4 for the effect 4 rows);
"× bare Effect" is over \`@effect/platform\` with no session, the ceiling for any Effect server.
"CPU µs/req" is the server process's CPU time (user + system, from \`/proc\`) per request in the
reported window: unlike req/s it hardly moves when other work shares the machine, so it is the
better guide to what each library costs. In the targets below, "by round" is the ratio within each
round (the two servers measured minutes apart at most), which drifts less with the machine's speed
than a ratio of two best windows. [performance.md](performance.md) explains where the time goes.

The rows named "floor" are references, not peers: they bound what a target can ask for.
"Map session as a Context service" (on effect 3, and again on effect 4 through
\`HttpRouter.middleware\`) is a \`Map\` keyed by the raw cookie value, served the way
effect-session serves a session (a \`Context\` service that a middleware provides per request, read
and written through Effect accessors), with none of the library's work: no hashing of the ID, no
copies, no checks, no expiry. "Redis GET + SET in the handler" is the least a Redis session can do
on this stack: one \`GET\` and one \`SET\` from the handler itself, no middleware, no hashing, no
atomic patch. "effect 4 session doing only what DESIGN.md requires" adds to the effect 4 \`Map\`
floor the work every store-backed session must do: the ID's shape checked, the store keyed by the
ID's SHA-256 and reached only through its Effect operations, expiry from \`Clock\`, a copy on read,
a patch of the changed key; it leaves out what effect-session adds beyond that (change tracking,
metadata and absolute lifetime, flash data, value checks, metrics, locking, the lifecycle's race
rules). "the required floor plus metadata, value checks, change tracking and metrics" (the
complete floor) adds to that, as cheaply as it could be written and with the core's own rules, the
rest of what DESIGN.md and the effect 4 issue ask of a returning request: the record's metadata
read and checked at the load (absolute lifetime, retired records), deep copies, the value check at
\`put\`, change tracking of any keys, flash ageing, renewal, store latency metrics and typed store
failures ([performance.md](performance.md#the-complete-floor)).
A target that its floor misses too is marked out of reach: no library built that way
(and DESIGN.md requires the Context service and the hashed ID) can meet it on this stack.

## Targets

${goals}

## Heap per stored session

${memory}

Each store is driven directly (no HTTP) with what its own middleware stores for a session holding \`{ n: 1 }\`,
under IDs of the shape that library issues; heap after a forced GC, before and after the fill.
@fastify/session's default store keeps live \`Session\` objects, which also point at their request: here
they share one stub request, so its figure is a lower bound.

## Event-loop stall while expired sessions are removed

${stall}

The store is filled with sessions that expire after 1 ms, then cleaned up while
\`perf_hooks.monitorEventLoopDelay\` (resolution 1 ms) and a \`setImmediate\` chain watch the event loop;
the stall is the larger of the two maxima (garbage-collection pauses count: users feel them too).
Each store runs three times, in fresh processes, and the worst run is reported. express-session's
MemoryStore has no sweeper: \`all()\` is its cleanup pass (synchronous).

## Redis commands per request

${redis}

Commands sent, writes and round trips are counted by a TCP proxy between the server and Redis that
decodes the client's RESP (a round trip is one separate write by the client); "run by Redis" is the
\`INFO commandstats\` delta, which also counts the commands a Lua script runs.

## Reproduce

\`\`\`sh
npm run bench                  # full run, rewrites this page and benchmarks.svg
npm run bench -- --quick       # 1-2 minute smoke run
BENCH_DURATION=30 npm run bench
BENCH_ONLY=effect-bare,effect-session-memory BENCH_PROFILE=effect-session-memory npm run bench
\`\`\`
`
}
