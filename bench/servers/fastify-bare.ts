/** Bare fastify 5: the same route, no session. */
import Fastify from "fastify"
import { exitOnSignal, port, ROUTE } from "../lib/config.js"

const app = Fastify({ logger: false })
app.get(ROUTE, async () => "1")
await app.listen({ port: port(), host: "127.0.0.1" })
exitOnSignal((done) => void app.close().then(done))
