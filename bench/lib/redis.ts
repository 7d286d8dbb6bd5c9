/**
 * A private redis-server for the run (`--save "" --appendonly no`, on a free port, killed at the
 * end), or, when redis-server is not installed, whatever answers on 6379 with a unique key prefix.
 */
import { Redis } from "ioredis"
import { type ChildProcess, spawn } from "node:child_process"
import { freePort, stop, waitForPort, which } from "./processes.js"

export interface RedisHandle {
  readonly url: string
  readonly prefix: string
  /** "private redis-server 7.x on port N" or "shared Redis on 6379" */
  readonly description: string
  /** Removes every key this run wrote. */
  readonly clear: () => Promise<void>
  /** `INFO commandstats` as command name → calls. */
  readonly commandStats: () => Promise<Map<string, number>>
  readonly close: () => Promise<void>
}

const parseCommandStats = (info: string): Map<string, number> => {
  const stats = new Map<string, number>()
  for (const line of info.split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (match !== null) stats.set(match[1]!, Number(match[2]))
  }
  return stats
}

/** Deletes every key under `prefix` (SCAN, so a shared Redis is never blocked by a KEYS). */
export const removeKeys = async (client: Redis, prefix: string): Promise<void> => {
  let cursor = "0"
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    if (keys.length > 0) await client.del(...keys)
    cursor = next
  } while (cursor !== "0")
}

/** Removes the keys a script wrote under `prefix` to the Redis at `url`, then disconnects. */
export const removeKeysAt = async (url: string, prefix: string): Promise<void> => {
  const client = new Redis(url)
  try {
    await removeKeys(client, prefix)
  } finally {
    await client.quit()
  }
}

export const startRedis = async (cpu: number | undefined): Promise<RedisHandle | undefined> => {
  const binary = which("redis-server")
  let child: ChildProcess | undefined
  let port = 6379
  let prefix = `bench:${process.pid}:`
  if (binary !== undefined) {
    port = await freePort()
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    child = cpu === undefined
      ? spawn(binary, args, { stdio: "ignore" })
      : spawn("taskset", ["-c", String(cpu), binary, ...args], { stdio: "ignore" })
    await waitForPort(port, child)
    prefix = "bench:"
  }
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await client.connect()
    await client.ping()
  } catch {
    client.disconnect()
    if (child !== undefined) await stop(child)
    return undefined
  }
  const version = /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? "?"
  const clear = async () => {
    if (child !== undefined) {
      await client.flushall()
      return
    }
    await removeKeys(client, prefix)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    prefix,
    description: child !== undefined
      ? `private redis-server ${version} (port ${port}, no persistence)`
      : `shared Redis ${version} on 6379 (keys under ${prefix})`,
    clear,
    commandStats: async () => parseCommandStats(await client.info("commandstats")),
    close: async () => {
      await clear().catch(() => {})
      client.disconnect()
      if (child !== undefined) await stop(child)
    }
  }
}
