/** The servers of one benchmark run, in the order they are measured and reported. */
/** `effect4` rows run effect 4 (`packages/effect4`); every other row runs on effect 3 or no Effect. */
export type Framework = "effect" | "effect4" | "express" | "fastify"

export interface ServerSpec {
  /** file name under bench/servers, and the row's stable id */
  readonly id: string
  readonly label: string
  readonly framework: Framework
  /** false for the bare servers (no session: the framework's ceiling) */
  readonly session: boolean
  /** needs the Redis server */
  readonly redis?: boolean
  /** a file that must exist for the row to run (else it is reported as pending) */
  readonly requires?: string
  /**
   * a reference row, not a peer: the least any session built a given way can cost here
   * (`bench/servers/effect-floor-*.ts`), which bounds what a target can ask for
   */
  readonly reference?: boolean
}

/**
 * With BENCH_BASELINE=<checkout of an earlier revision>, the effect-session rows run twice: as
 * built now and as built from that checkout (`-baseline`), interleaved in the same run.
 */
const baseline = process.env.BENCH_BASELINE

/** The servers that get a `-baseline` row (and a compiled copy that uses the baseline's src/). */
export const baselineServers: ReadonlyArray<string> = [
  "effect-session-memory",
  "effect-session-redis",
  "effect4-session-memory",
  "effect4-session-redis"
]

const withBaseline = (specs: ReadonlyArray<ServerSpec>): ReadonlyArray<ServerSpec> =>
  baseline === undefined || baseline === "" ?
    specs :
    specs.flatMap((spec) =>
      baselineServers.includes(spec.id)
        ? [spec, { ...spec, id: `${spec.id}-baseline`, label: `${spec.label}, baseline` }]
        : [spec]
    )

export const servers: ReadonlyArray<ServerSpec> = withBaseline([
  { id: "effect-bare", label: "@effect/platform, no session", framework: "effect", session: false },
  { id: "effect-map", label: "@effect/platform + hand-written Map session", framework: "effect", session: true },
  {
    id: "effect-floor-memory",
    label: "floor: Map session as a Context service",
    framework: "effect",
    session: true,
    reference: true
  },
  { id: "effect-session-memory", label: "effect-session, MemoryStore", framework: "effect", session: true },
  {
    id: "effect-session-redis",
    label: "effect-session, RedisStore (ioredis)",
    framework: "effect",
    session: true,
    redis: true,
    requires: "src/RedisStore.ts"
  },
  {
    id: "effect-floor-redis",
    label: "floor: Redis GET + SET in the handler",
    framework: "effect",
    session: true,
    redis: true,
    reference: true
  },
  { id: "effect4-bare", label: "effect 4 effect/http, no session", framework: "effect4", session: false },
  {
    id: "effect4-floor-memory",
    label: "floor: effect 4 Map session as a Context service",
    framework: "effect4",
    session: true,
    reference: true
  },
  {
    id: "effect4-floor-required",
    label: "floor: effect 4 session doing only what DESIGN.md requires",
    framework: "effect4",
    session: true,
    reference: true
  },
  {
    id: "effect4-floor-complete",
    label: "floor: the required floor plus metadata, value checks, change tracking and metrics",
    framework: "effect4",
    session: true,
    reference: true
  },
  {
    id: "effect4-session-memory",
    label: "effect-session-v4, MemoryStore",
    framework: "effect4",
    session: true,
    requires: "packages/effect4/src/MemoryStore.ts"
  },
  {
    id: "effect4-session-redis",
    label: "effect-session-v4, RedisStore (node-redis)",
    framework: "effect4",
    session: true,
    redis: true,
    requires: "packages/effect4/src/RedisStore.ts"
  },
  { id: "express-bare", label: "express 5, no session", framework: "express", session: false },
  { id: "express-session", label: "express-session, MemoryStore", framework: "express", session: true },
  {
    id: "express-session-redis",
    label: "express-session + connect-redis (node-redis)",
    framework: "express",
    session: true,
    redis: true
  },
  { id: "fastify-bare", label: "fastify 5, no session", framework: "fastify", session: false },
  { id: "fastify-session", label: "@fastify/session, default store", framework: "fastify", session: true }
])

export const bareOf = (framework: Framework): string => `${framework}-bare`

/** Whether a row runs effect 4: it is compiled into packages/effect4 and needs Node >= 22.19. */
export const isEffect4 = (spec: ServerSpec): boolean => spec.framework === "effect4"

export type Scenario = "returning" | "new"
export const scenarios: ReadonlyArray<Scenario> = ["returning", "new"]
