/**
 * The load generator, run in its own process (pinned to the core the server does not use).
 * `tsx bench/load.ts <json options>` prints one JSON line: the measured window's numbers.
 *
 * - `returning`: first primes one cookie jar per user (a request without a cookie, keeping the
 *   `Set-Cookie`), then spreads requests over the users round-robin across all connections, so
 *   that concurrent requests almost never share a session. Afterwards it asks each user once more
 *   and checks that the counts add up: every measured request really continued its session.
 * - `new`: no cookie at all, so every request creates a session.
 */
import autocannon from "autocannon"
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import * as http from "node:http"
import { COOKIE_NAME, ROUTE } from "./lib/config.js"

export interface LoadOptions {
  readonly port: number
  readonly scenario: "returning" | "new"
  readonly connections: number
  readonly warmupSeconds: number
  readonly durationSeconds: number
  readonly users: number
  /** whether the server answers with the session's count (false for the bare servers) */
  readonly counts: boolean
  /** the server's process id, to read its CPU time from /proc (Linux) */
  readonly serverPid?: number | undefined
  /**
   * For several loads that must measure in one window (bench/paired.ts): after priming and the
   * warm-up, print `ready` on stderr and go on warming up until a line `go <Date.now() ms>` arrives
   * on stdin; the measured window opens at that time. Without it, the window opens right after
   * the warm-up.
   */
  readonly gated?: boolean | undefined
}

export interface LoadResult {
  readonly requestsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly total: number
  readonly errors: number
  readonly non2xx: number
  /** server CPU time (user + system) per request in the measured window, µs; Linux only */
  readonly cpuMicrosPerRequest?: number
  /** share of one core the server got in the measured window (1 = a whole core) */
  readonly cpuShare?: number
  /** share of one core this load generator used in the measured window */
  readonly loadShare?: number
  /** gated: how late the measured window opened after the time it was told, ms */
  readonly lateMillis?: number
  /** returning: requests whose increment is missing from the sessions' counts (should be 0) */
  readonly lost?: number
  readonly check?: string
}

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100
  } catch {
    return 100
  }
})()

/** A process's user + system CPU time in µs, from /proc/<pid>/stat; undefined elsewhere. */
const serverCpuMicros = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // fields after the command name (which may contain spaces) in parentheses
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1e6
  } catch {
    return undefined
  }
}

// Each phase (priming, checking) gets its own keep-alive agent: sockets left idle through the
// measured window would be closed by the server's keep-alive timeout and reset on reuse.
let agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
const newAgent = () => {
  agent.destroy()
  agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
}

const get = (port: number, cookie: string | undefined) =>
  new Promise<{ status: number; body: string; setCookie: Array<string> }>((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path: ROUTE, method: "GET", agent, headers: cookie === undefined ? {} : { cookie } },
      (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => body += chunk)
        response.on(
          "end",
          () => resolve({ status: response.statusCode ?? 0, body, setCookie: response.headers["set-cookie"] ?? [] })
        )
      }
    )
    request.on("error", reject)
    request.end()
  })

/** Runs `task` over `items` with at most `limit` in flight. */
const pool = async <A, B>(items: ReadonlyArray<A>, limit: number, task: (a: A) => Promise<B>): Promise<Array<B>> => {
  const results = new Array<B>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await task(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

const sessionCookie = (setCookie: ReadonlyArray<string>): string => {
  for (const header of setCookie) {
    const pair = header.split(";", 1)[0]!
    if (pair.startsWith(`${COOKIE_NAME}=`)) return pair
  }
  throw new Error(`no ${COOKIE_NAME} cookie in the priming response: ${JSON.stringify(setCookie)}`)
}

const cannon = (options: LoadOptions, seconds: number, cookies: ReadonlyArray<string> | undefined) => {
  let next = 0
  const request: autocannon.Request = cookies === undefined
    ? { method: "GET", path: ROUTE }
    : {
      method: "GET",
      path: ROUTE,
      setupRequest: (req) => {
        req.headers = { ...req.headers, cookie: cookies[next++ % cookies.length]! }
        return req
      }
    }
  return autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    duration: seconds,
    requests: [request]
  })
}

const main = async (options: LoadOptions): Promise<LoadResult> => {
  let cookies: Array<string> | undefined
  if (options.scenario === "returning" && !options.counts) {
    // a bare server sets no cookie: send cookies of the same size, so the requests are the same
    cookies = Array.from({ length: options.users }, () => `${COOKIE_NAME}=${randomBytes(32).toString("base64url")}`)
  } else if (options.scenario === "returning") {
    const primed = await pool(Array.from({ length: options.users }), 32, () => get(options.port, undefined))
    cookies = primed.map((reply) => {
      if (reply.status !== 200) throw new Error(`priming request answered ${reply.status}`)
      return sessionCookie(reply.setCookie)
    })
    if (options.counts) {
      const probe = await get(options.port, cookies[0])
      if (probe.body !== "2") throw new Error(`a returning user's second request answered ${probe.body}, not 2`)
    }
  }
  const warm = options.warmupSeconds > 0 ? await cannon(options, options.warmupSeconds, cookies) : undefined
  let warmed = warm?.requests.total ?? 0
  let lateMillis: number | undefined
  if (options.gated === true) {
    // Warm on in short stretches until told when the window opens, then until that time.
    let startAt: number | undefined
    process.stdin.setEncoding("utf8")
    process.stdin.on("data", (line: string) => {
      const match = /go (\d+)/.exec(line)
      if (match !== null) startAt = Number(match[1])
    })
    // The orchestrator went away without a word: stop, rather than load its server forever.
    process.stdin.on("end", () => {
      if (startAt === undefined) throw new Error("stdin closed before the window opened")
    })
    process.stderr.write("ready\n")
    // A stretch takes longer than its duration (connecting, closing): none starts within 1 s of
    // the window, which may leave the server idle for up to that second before it opens.
    while (startAt === undefined || Date.now() < startAt - 1000) {
      warmed += (await cannon(options, 0.5, cookies)).requests.total
    }
    const opensAt: number = startAt
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, opensAt - Date.now())))
    process.stdin.destroy()
    lateMillis = Math.max(0, Date.now() - opensAt)
  }
  const cpuBefore = serverCpuMicros(options.serverPid)
  const ownBefore = process.cpuUsage()
  const started = performance.now()
  const result = await cannon(options, options.durationSeconds, cookies)
  const cpuAfter = serverCpuMicros(options.serverPid)
  const elapsedMicros = (performance.now() - started) * 1000
  const own = process.cpuUsage(ownBefore)
  const loadShare = Math.round(((own.user + own.system) / elapsedMicros) * 100) / 100
  const cpu = cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0
    ? {}
    : {
      cpuMicrosPerRequest: Math.round(((cpuAfter - cpuBefore) / result.requests.total) * 10) / 10,
      cpuShare: Math.round(((cpuAfter - cpuBefore) / elapsedMicros) * 100) / 100
    }
  const base = {
    ...cpu,
    ...(lateMillis === undefined ? {} : { lateMillis }),
    loadShare,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    errors: result.errors,
    non2xx: result.non2xx
  }
  if (cookies === undefined || !options.counts) return base
  // Every request since priming added one to its user's count: the counts must add up.
  newAgent()
  const finals = await pool(cookies, 32, (cookie) => get(options.port, cookie))
  const sum = finals.reduce((acc, reply) => acc + Number(reply.body), 0)
  // priming + probe + warm-up + measured + this final round; requests still in flight when a
  // window closed are counted by the server but not by autocannon, so `sum` may exceed it a little.
  const expected = 2 * cookies.length + 1 + warmed + result.requests.total
  return { ...base, lost: Math.max(0, expected - sum), check: `sum of counts ${sum}, expected >= ${expected}` }
}

const options = JSON.parse(process.argv[2] ?? "{}") as LoadOptions
main(options).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    agent.destroy()
  },
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  }
)
