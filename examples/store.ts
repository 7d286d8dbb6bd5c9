/**
 * Chooses the demo's session store from the environment. (Redis and PostgreSQL options are added
 * with the stores.)
 */
import { MemoryStoreLive } from "effect-session"

export const storeLayerFromEnv = MemoryStoreLive
