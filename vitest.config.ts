import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const src = fileURLToPath(new URL("./src/", import.meta.url))
// The shared Effect-free core, from source: tests always see its current code, built or not.
const core = fileURLToPath(new URL("./packages/core/src/", import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-session$/, replacement: `${src}index.ts` },
      { find: /^effect-session\/(.*)$/, replacement: `${src}$1.ts` },
      { find: /^effect-session-core$/, replacement: `${core}index.ts` }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "packages/core/test/**/*.test.ts"],
    // Server tests bind loopback ports; two cores, so keep the pool small.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
