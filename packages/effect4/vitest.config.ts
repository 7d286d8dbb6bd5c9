import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const src = fileURLToPath(new URL("./src/", import.meta.url))
// The shared Effect-free core, from source: tests always see its current code, built or not.
const core = fileURLToPath(new URL("../core/src/", import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-session-v4$/, replacement: `${src}index.ts` },
      { find: /^effect-session-v4\/(.*)$/, replacement: `${src}$1.ts` },
      { find: /^effect-session-core$/, replacement: `${core}index.ts` }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Server tests bind loopback ports; two cores, so keep the pool small.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
