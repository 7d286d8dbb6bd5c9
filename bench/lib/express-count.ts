/** The express + express-session app, with the store given by the server. */
import express from "express"
import session from "express-session"
import { COOKIE_NAME, ROUTE, SECRET, TTL_MILLIS } from "./config.js"

declare module "express-session" {
  interface SessionData {
    n: number
  }
}

export const makeApp = (store?: session.Store) => {
  const app = express()
  app.use(session({
    name: COOKIE_NAME,
    secret: SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, secure: false, sameSite: "lax", path: "/", maxAge: TTL_MILLIS },
    ...(store === undefined ? {} : { store })
  }))
  app.get(ROUTE, (req, res) => {
    const n = (req.session.n ?? 0) + 1
    req.session.n = n
    res.send(String(n))
  })
  return app
}
