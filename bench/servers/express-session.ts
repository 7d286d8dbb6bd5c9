/** express 5 + express-session on its default MemoryStore. */
import { exitOnSignal, port } from "../lib/config.js"
import { makeApp } from "../lib/express-count.js"

const server = makeApp().listen(port(), "127.0.0.1")
exitOnSignal((done) => server.close(done))
