/**
 * The demo app (examples/demo.ts) in a real browser: Debian's headless Chromium driven by
 * playwright-core, on a loopback port. What a user sees (the counter, the flash message, who is
 * signed in) and what the browser itself keeps (its own cookie jar) are asserted, not our parsing
 * of headers.
 *
 * Without /usr/bin/chromium the suite is skipped with a message, unless
 * EFFECT_SESSION_REQUIRE_SERVICES=1 or CI=true, where a missing browser is a failure
 * (`.ci/run` installs it: `apt-get install -y chromium`).
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, ManagedRuntime } from "effect"
import { MemoryStoreLive } from "effect-session"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium, type Cookie, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { app } from "../examples/demo.js"

const CHROMIUM = "/usr/bin/chromium"
const COOKIE = "lagodev_session"
const TWO_HOURS_S = 7200
const required = process.env.EFFECT_SESSION_REQUIRE_SERVICES === "1" || process.env.CI === "true"

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

const ServerLive = HttpServer.serve(app).pipe(
  Layer.provide(MemoryStoreLive),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

const suite = () => {
  let runtime: ManagedRuntime.ManagedRuntime<HttpServer.HttpServer, unknown>
  let base = ""
  let profile = ""
  let context: BrowserContext

  beforeAll(async () => {
    runtime = ManagedRuntime.make(ServerLive)
    const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
    if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
    base = `http://127.0.0.1:${address.port}`
    // A fresh profile: no cookies, no cache, nothing from another run.
    profile = mkdtempSync(join(tmpdir(), "effect-session-chromium-"))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS
    })
  }, 60_000)

  afterAll(async () => {
    await context?.close()
    await runtime?.dispose()
    if (profile) rmSync(profile, { recursive: true, force: true })
  }, 30_000)

  /** A page with no cookies: each test is a new visitor. */
  const freshPage = async (): Promise<Page> => {
    await context.clearCookies()
    const page = await context.newPage()
    await page.goto(`${base}/`)
    return page
  }

  const sessionCookie = async (): Promise<Cookie | undefined> =>
    (await context.cookies(base)).find((c) => c.name === COOKIE)

  const visits = async (page: Page) => Number(await page.locator("#visits").textContent())

  /** Whether a session cookie value is still accepted: in a clean jar, does it know who we are? */
  const acceptsOldCookie = async (value: string): Promise<{ visits: number; user: boolean }> => {
    await context.clearCookies()
    await context.addCookies([{ name: COOKIE, value, url: base }])
    const page = await context.newPage()
    await page.goto(`${base}/`)
    const result = { visits: await visits(page), user: (await page.locator("#user").count()) > 0 }
    await page.close()
    return result
  }

  const submit = async (page: Page, selector: string) => {
    await Promise.all([page.waitForNavigation(), page.click(`${selector} button[type=submit]`)])
  }

  it("the visit counter persists across reloads, in an HttpOnly, SameSite=Lax cookie", async () => {
    const page = await freshPage()
    expect(await visits(page)).toBe(1)
    await page.reload()
    expect(await visits(page)).toBe(2)
    await page.reload()
    expect(await visits(page)).toBe(3)

    const cookie = (await sessionCookie())!
    expect(cookie).toBeDefined()
    expect(cookie.httpOnly).toBe(true)
    expect(cookie.sameSite).toBe("Lax")
    expect(cookie.path).toBe("/")
    expect(cookie.secure).toBe(false) // the demo runs with insecure: true over plain HTTP
    expect(Math.abs(cookie.expires - (Date.now() / 1000 + TWO_HOURS_S))).toBeLessThan(60)
    // HttpOnly: page scripts cannot read it
    expect(await page.evaluate("document.cookie")).not.toContain(COOKIE)
    await page.close()
  }, 60_000)

  it("login regenerates the session ID and shows the flash exactly once", async () => {
    const page = await freshPage()
    await page.reload()
    expect(await visits(page)).toBe(2)
    const before = (await sessionCookie())!.value

    await page.fill("#login input[name=name]", "Ada")
    await submit(page, "#login")

    expect(await page.locator("#flash").textContent()).toBe("Welcome, Ada!")
    expect(await page.locator("#user").textContent()).toBe("Ada")
    expect(await visits(page)).toBe(3) // the data moved to the new ID
    const after = (await sessionCookie())!.value
    expect(after).not.toBe(before)

    await page.reload()
    expect(await page.locator("#flash").count()).toBe(0)
    expect(await page.locator("#user").textContent()).toBe("Ada")
    expect(await visits(page)).toBe(4)
    await page.close()

    // the pre-login ID is dead: presenting it starts a new, anonymous session
    expect(await acceptsOldCookie(before)).toEqual({ visits: 1, user: false })
  }, 60_000)

  it("logout destroys the session: the cookie is replaced and the old one no longer works", async () => {
    const page = await freshPage()
    await page.fill("#login input[name=name]", "Grace")
    await submit(page, "#login")
    expect(await page.locator("#user").textContent()).toBe("Grace")
    const signedIn = (await sessionCookie())!.value

    await submit(page, "#logout")
    expect(await page.locator("#flash").textContent()).toBe("You have been logged out.")
    expect(await page.locator("#user").count()).toBe(0)
    expect(await page.locator("#login").count()).toBe(1)
    expect(await visits(page)).toBe(1) // a brand-new session
    const cookies = (await context.cookies(base)).filter((c) => c.name === COOKIE)
    expect(cookies.map((c) => c.value)).not.toContain(signedIn)

    await page.reload()
    expect(await page.locator("#flash").count()).toBe(0)
    await page.close()

    expect(await acceptsOldCookie(signedIn)).toEqual({ visits: 1, user: false })
  }, 60_000)

  it("a CSRF token mismatch is refused and changes nothing", async () => {
    const page = await freshPage()
    await page.evaluate("document.querySelector('#login input[name=_token]').value = 'forged'")
    await page.fill("#login input[name=name]", "Mallory")
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/login")),
      page.click("#login button[type=submit]")
    ])
    expect(response.status()).toBe(419)
    await page.goto(`${base}/`)
    expect(await page.locator("#user").count()).toBe(0)
    await page.close()
  }, 60_000)
}

if (existsSync(CHROMIUM)) {
  describe("demo app in headless Chromium", suite)
} else if (required) {
  describe("demo app in headless Chromium", () => {
    it(`needs ${CHROMIUM} (CI / EFFECT_SESSION_REQUIRE_SERVICES=1)`, () => {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`)
    })
  })
} else {
  console.warn(`[effect-session] SKIPPING browser tests: ${CHROMIUM} not found (apt-get install -y chromium)`)
  describe.skip(`demo app in headless Chromium (skipped: ${CHROMIUM} not found)`, suite)
}
