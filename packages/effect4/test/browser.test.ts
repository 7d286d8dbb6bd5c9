/**
 * The effect 4 demo app (examples/demo.ts) in a real browser: Debian's headless Chromium driven
 * by playwright-core (the root's devDependency), on a loopback port. What a user sees (the
 * counter, the flash message, who is signed in, the countdowns) and what the browser itself keeps
 * (its own cookie jar) are asserted, not our parsing of headers. The countdowns run on the page's
 * clock, which the test drives (`page.clock`) instead of waiting.
 *
 * Without /usr/bin/chromium the suite is skipped with a message, unless
 * EFFECT_SESSION_REQUIRE_SERVICES=1 or CI=true, where a missing browser is a failure.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, ManagedRuntime } from "effect"
import { MemoryStoreLive, Session } from "effect-session-v4"
import { HttpRouter, HttpServer } from "effect/http"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium, type Cookie, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { App } from "../examples/demo.js"

/** The page's own `document`, in functions that `page.evaluate` runs in the browser. */
declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null }

const CHROMIUM = process.env.EFFECT_SESSION_CHROMIUM ?? "/usr/bin/chromium"
const COOKIE = "lagodev_session"
const TWO_HOURS_S = 7200
const THIRTY_DAYS_S = 30 * 24 * 3600
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

// As the demo composes it: the store outermost, so it outlives the server.
const ServerLive = HttpRouter.serve(App, { disableListenLog: true, disableLogger: true }).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
  Layer.provide(MemoryStoreLive)
)

const suite = () => {
  let runtime: ManagedRuntime.ManagedRuntime<HttpServer.HttpServer, unknown>
  let base = ""
  let profile = ""
  let context: BrowserContext

  beforeAll(async () => {
    runtime = ManagedRuntime.make(ServerLive)
    const address = await runtime.runPromise(HttpServer.HttpServer.use((server) => Effect.succeed(server.address)))
    if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
    base = `http://127.0.0.1:${address.port}`
    // A fresh profile: no cookies, no cache, nothing from another run.
    profile = mkdtempSync(join(tmpdir(), "effect-session-v4-chromium-"))
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS })
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

  const storeKey = async (page: Page) => (await page.locator("#store-key").textContent())!.replace("…", "")

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

  it(
    "login regenerates the session ID, shows the old and new store-key hashes, and the flash exactly once",
    async () => {
      const page = await freshPage()
      await page.reload()
      expect(await visits(page)).toBe(2)
      const before = (await sessionCookie())!.value

      await page.fill("#login input[name=name]", "Ada")
      await submit(page, "#login")

      const flash = (await page.locator("#flash").textContent())!
      expect(flash).toMatch(/^Welcome, Ada! Your session got a new ID: its store key was (\S+)…, it is now (\S+)…\.$/)
      expect(await page.locator("#user").textContent()).toBe("Ada")
      expect(await visits(page)).toBe(3) // the data moved to the new ID
      const after = (await sessionCookie())!.value
      expect(after).not.toBe(before)
      // the page shows the hashes (store keys) of the old and the new ID, never an ID
      const [, shownBefore, shownAfter] = /was (\S+)…, it is now (\S+)…/.exec(flash)!
      expect(Session.storageKey(before).startsWith(shownBefore!)).toBe(true)
      expect(Session.storageKey(after).startsWith(shownAfter!)).toBe(true)
      expect(shownBefore).not.toBe(shownAfter)
      expect(await storeKey(page)).toBe(shownAfter)
      const html = await page.content()
      expect(html).not.toContain(before)
      expect(html).not.toContain(after)

      await page.reload()
      expect(await page.locator("#flash").count()).toBe(0)
      expect(await page.locator("#user").textContent()).toBe("Ada")
      expect(await visits(page)).toBe(4)
      await page.close()

      // the pre-login ID is dead: presenting it starts a new, anonymous session
      expect(await acceptsOldCookie(before)).toEqual({ visits: 1, user: false })
    },
    60_000
  )

  it("logout (Session.invalidate): a new cookie and CSRF token, and the old cookie no longer works", async () => {
    const page = await freshPage()
    await page.fill("#login input[name=name]", "Grace")
    await submit(page, "#login")
    expect(await page.locator("#user").textContent()).toBe("Grace")
    const signedIn = (await sessionCookie())!.value
    const tokenBefore = await page.locator("meta[name=csrf-token]").getAttribute("content")

    await submit(page, "#logout")
    expect(await page.locator("meta[name=csrf-token]").getAttribute("content")).not.toBe(tokenBefore)
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

  it("remember me gives the session its own, longer lifetime: a 30-day cookie and countdown", async () => {
    const page = await freshPage()
    await page.fill("#login input[name=name]", "Lin")
    await page.check("#login input[name=remember]")
    await submit(page, "#login")
    expect(await page.locator("#user").textContent()).toBe("Lin")
    expect(await page.locator("#remembered").count()).toBe(1)
    const cookie = (await sessionCookie())!
    expect(Math.abs(cookie.expires - (Date.now() / 1000 + THIRTY_DAYS_S))).toBeLessThan(60)
    expect(await page.locator("#idle").textContent()).toMatch(/^(29d 23:59:\d\d|30d 0:00:00)$/)
    // it stays remembered on later requests
    await page.reload()
    expect(Math.abs((await sessionCookie())!.expires - (Date.now() / 1000 + THIRTY_DAYS_S))).toBeLessThan(60)
    await page.close()

    // without the box ticked, the default two hours
    const other = await freshPage()
    await other.fill("#login input[name=name]", "Kim")
    await submit(other, "#login")
    expect(await other.locator("#remembered").count()).toBe(0)
    expect(Math.abs((await sessionCookie())!.expires - (Date.now() / 1000 + TWO_HOURS_S))).toBeLessThan(60)
    await other.close()
  }, 60_000)

  it("the idle and absolute expiry count down on the page, and say when the session has expired", async () => {
    await context.clearCookies()
    const page = await context.newPage()
    await page.clock.install() // the page's clock: starts at the real time, moves when the test says
    await page.goto(`${base}/`)
    const seconds = async (selector: string) => {
      const text = (await page.locator(selector).textContent())!
      const match = /^(?:(\d+)d )?(\d+):(\d\d):(\d\d)$/.exec(text)
      if (match === null) return text
      const [, d, h, m, s] = match
      return Number(d ?? 0) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s)
    }
    const idle = await seconds("#idle")
    const absolute = await seconds("#absolute")
    expect(idle).toBeGreaterThan(2 * 3600 - 10)
    expect(idle).toBeLessThanOrEqual(2 * 3600)
    expect(absolute).toBeGreaterThan(8 * 3600 - 10)
    expect(absolute).toBeLessThanOrEqual(8 * 3600)

    await page.clock.runFor(5_000)
    expect(await seconds("#idle")).toBe((idle as number) - 5)
    expect(await seconds("#absolute")).toBe((absolute as number) - 5)

    await page.clock.runFor(2 * 3600 * 1000)
    expect(await page.locator("#idle").textContent()).toBe("expired: reload for a new session")
    expect(await seconds("#absolute")).toBeGreaterThan(5 * 3600)
    await page.close()
  }, 60_000)

  it("the note form is protected by Csrf: the form's token and the X-CSRF-Token header pass, none is 419", async () => {
    const page = await freshPage()
    await page.fill("#note-form input[name=note]", "buy milk")
    await submit(page, "#note-form")
    expect(await page.locator("#flash").textContent()).toBe("Note saved.")
    expect(await page.locator("#note").textContent()).toBe("buy milk")

    // a script sends the token from the meta tag in a header, as fetch-based front-ends do
    const status = await page.evaluate(async () => {
      const token = document.querySelector("meta[name=csrf-token]")!.getAttribute("content")!
      const response = await fetch("/note", {
        method: "POST",
        headers: { "x-csrf-token": token, "content-type": "application/x-www-form-urlencoded" },
        body: "note=from+script",
        redirect: "manual"
      })
      return response.type === "opaqueredirect" ? 303 : response.status
    })
    expect(status).toBe(303)
    await page.reload()
    expect(await page.locator("#note").textContent()).toBe("from script")

    // no token at all: refused, nothing saved
    const refused = await page.evaluate(async () => {
      const response = await fetch("/note", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "note=forged"
      })
      return response.status
    })
    expect(refused).toBe(419)
    await page.reload()
    expect(await page.locator("#note").textContent()).toBe("from script")
    await page.close()
  }, 60_000)

  it("a forged CSRF token on login is refused and changes nothing", async () => {
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
  describe("effect 4 demo app in headless Chromium", suite)
} else if (required) {
  describe("effect 4 demo app in headless Chromium", () => {
    it(`needs ${CHROMIUM} (CI / EFFECT_SESSION_REQUIRE_SERVICES=1)`, () => {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`)
    })
  })
} else {
  console.warn(`[effect-session] SKIPPING browser tests: ${CHROMIUM} not found (apt-get install -y chromium)`)
  describe.skip(`effect 4 demo app in headless Chromium (skipped: ${CHROMIUM} not found)`, suite)
}
