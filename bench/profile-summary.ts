/**
 * Summarises a `.cpuprofile` written by `node --cpu-prof` (see BENCH_PROFILE in run.ts):
 * `tsx bench/profile-summary.ts <file.cpuprofile | directory> [top]`. Given a directory, it reads
 * the main thread's profile (`CPU.*.0.*.cpuprofile`). Only samples between the first and the last
 * one inside Node's HTTP server count, which leaves out start-up (module loading) and shutdown.
 * Prints self time by package/file and by function.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

interface Node {
  readonly id: number
  readonly children?: ReadonlyArray<number>
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const input = process.argv[2]
if (input === undefined) throw new Error("usage: tsx bench/profile-summary.ts <file.cpuprofile | dir> [top]")
const top = Number(process.argv[3] ?? 30)
const file = statSync(input).isDirectory()
  ? join(input, readdirSync(input).filter((f) => /^CPU\..*\.0\.\d+\.cpuprofile$/.test(f)).sort().at(-1)!)
  : input
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))

// sample times (µs since start); the window starts at the first sample inside Node's HTTP server
// (the first request: start-up and module loading come before) and ends at the last one
const times: Array<number> = []
let t = 0
for (const delta of profile.timeDeltas) times.push(t += delta)
const inHttp = (i: number) => byId.get(profile.samples[i]!)!.callFrame.functionName === "parserOnIncoming"
let first = profile.samples.findIndex((_, i) => inHttp(i))
let last = profile.samples.length - 1
if (first === -1) first = 0 // not an HTTP server (bench/micro.ts): the whole profile
else while (last > 0 && !inHttp(last)) last--
const from = times[first]!
const to = times[last]! + 1

const self = new Map<number, number>()
profile.samples.forEach((id, i) => {
  if (times[i]! < from || times[i]! >= to) return
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
})
const total = [...self.values()].reduce((a, b) => a + b, 0)

/** package name, node: module, or repository-relative path */
const where = (url: string): string => {
  if (url === "") return "(native/vm)"
  const nm = url.lastIndexOf("node_modules/")
  if (nm !== -1) {
    const rest = url.slice(nm + "node_modules/".length).split("/")
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith("node:")) return url
  const src = url.indexOf("/src/")
  if (src !== -1) return url.slice(src + 1)
  const bench = url.indexOf("/bench/")
  return bench !== -1 ? url.slice(bench + 1) : url
}

/** effect/dist/esm/internal/fiberRuntime.js → effect/internal/fiberRuntime.js */
const fileOf = (url: string): string => {
  const nm = url.lastIndexOf("node_modules/")
  if (nm === -1) return where(url)
  return url.slice(nm + "node_modules/".length).replace("/dist/esm/", "/").replace("/dist/cjs/", "/")
}

const functions = new Map<string, number>()
const places = new Map<string, number>()
for (const [id, time] of self) {
  const frame = byId.get(id)!.callFrame
  const name = `${frame.functionName || "(anonymous)"}  ${fileOf(frame.url)}:${frame.lineNumber + 1}`
  functions.set(name, (functions.get(name) ?? 0) + time)
  const place = where(frame.url)
  places.set(place, (places.get(place) ?? 0) + time)
}

const pct = (x: number) => `${((100 * x) / total).toFixed(1).padStart(5)}%`
const print = (title: string, entries: Map<string, number>, n: number) => {
  process.stdout.write(`\n${title}\n`)
  for (const [name, x] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    process.stdout.write(`${pct(x)}  ${name}\n`)
  }
}
// Inclusive time (the function or anything it called) for the library's own functions and a few
// named costs, each counted once per sample however deep the recursion.
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
const interesting = (url: string, name: string) =>
  url.includes("/src/") || url.includes("/bench/servers/") || url.includes("/bench/lib/") ||
  url.startsWith("node:internal/crypto") ||
  (url.includes("effect/dist/esm/internal/tracer") && name !== "context") ||
  url.includes("effect/dist/esm/internal/metric") ||
  url.includes("effect/dist/esm/Metric") || url.includes("effect/dist/esm/internal/deferred")
const inclusive = new Map<string, number>()
profile.samples.forEach((id, i) => {
  if (times[i]! < from || times[i]! >= to) return
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)!.callFrame
    if (
      !interesting(frame.url, frame.functionName) &&
      !(frame.url === "" && /^(stringify|parse)$/.test(frame.functionName))
    ) continue
    seen.add(`${frame.functionName || "(anonymous)"}  ${fileOf(frame.url)}:${frame.lineNumber + 1}`)
  }
  for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0))
})

process.stdout.write(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled between ${(from / 1e6).toFixed(1)} s and ${
    (to / 1e6).toFixed(1)
  } s\n`
)
print("self time by package / file", places, 20)
print("self time by function", functions, top)
print("inclusive time: library code, crypto, JSON, tracing, metrics", inclusive, top)
