/** express 5 + express-session + connect-redis 9 on a node-redis 5 client. */
import { RedisStore } from "connect-redis"
import { createClient } from "redis"
import { exitOnSignal, port, redisPrefix, redisUrl } from "../lib/config.js"
import { makeApp } from "../lib/express-count.js"

const client = createClient({ url: redisUrl() })
await client.connect()
const store = new RedisStore({ client, prefix: `${redisPrefix()}connect:` })
const server = makeApp(store).listen(port(), "127.0.0.1")
exitOnSignal((done) => server.close(() => void client.quit().finally(done)))
