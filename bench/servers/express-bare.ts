/** Bare express 5: the same route, no session. */
import express from "express"
import { exitOnSignal, port, ROUTE } from "../lib/config.js"

const app = express()
app.get(ROUTE, (_req, res) => {
  res.send("1")
})
const server = app.listen(port(), "127.0.0.1")
exitOnSignal((done) => server.close(done))
