/**
 * Where a request's garbage comes from: runs bench/plumbing.ts under V8's sampling heap profiler,
 * with the objects that young- and old-generation collections freed included, and prints the
 * bytes allocated per request by the function that allocated them (after V8's inlining: a
 * function's figure includes what it inlined). Pick one case, as garbage from every case selected
 * is summed:
 *
 *   node scripts/node22.mjs tsx bench/lib/build.ts
 *   PLUMBING_CASES=session/returning node scripts/node22.mjs build/bench/dev/bench/allocations.js [variant]
 *
 * The count per request divides by every request the plumbing run served, priming included
 * (2 × 1,000 requests), so it is a little low; compare builds with the same settings. Sampling
 * every 512 bytes, the profile stays small enough for the inspector: keep PLUMBING_REQUESTS ×
 * PLUMBING_ROUNDS near the defaults below. ALLOCATIONS_TOP (40) sets how many functions to print.
 */
import { Session } from "node:inspector/promises"

process.env.PLUMBING_REQUESTS ??= "4000"
process.env.PLUMBING_ROUNDS ??= "10"
const top = Number(process.env.ALLOCATIONS_TOP ?? 40)
const selected = (process.env.PLUMBING_CASES ?? "").split(",").filter((c) => c !== "")
if (selected.length !== 1) throw new Error("set PLUMBING_CASES to one case, e.g. session/returning")

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: ReadonlyArray<ProfileNode>
}

const inspector = new Session()
inspector.connect()
await inspector.post("HeapProfiler.enable")
await inspector.post("HeapProfiler.startSampling", {
  samplingInterval: 512,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true
})
await import("./plumbing.js")
const { profile } = await inspector.post("HeapProfiler.stopSampling") as { profile: { head: ProfileNode } }
inspector.disconnect()

const requests = Number(process.env.PLUMBING_REQUESTS) * (Number(process.env.PLUMBING_ROUNDS) + 1) + 2 * 1000
const bySite = new Map<string, number>()
const visit = (node: ProfileNode) => {
  const { functionName, lineNumber, url } = node.callFrame
  const file = url.replace(/^.*node_modules\//, "").replace(/^.*\/build\/bench\/[^/]+\//, "").replace(
    /^.*\/packages\//,
    ""
  )
  const site = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`
  if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize)
  for (const child of node.children) visit(child)
}
visit(profile.head)
const total = [...bySite.values()].reduce((a, b) => a + b, 0)
process.stdout.write(`${selected[0]}: ${Math.round(total / requests)} bytes allocated per request\n`)
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${String(Math.round(bytes / requests)).padStart(7)}  ${site}\n`)
}
