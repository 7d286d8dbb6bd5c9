/**
 * The testing kits' Effect-free rules (`SessionTest` in both lines): which seeds are valid, the
 * record a seeded session is stored as, and what a stored record says about the session the next
 * request will load.
 */
import * as Meta from "./meta.js"
import { isReserved, type SessionData, userData } from "./storedRecord.js"
import * as Value from "./value.js"

/** The session a test client starts from (`SessionTest.Options` without the Effect parts). */
export interface Seed {
  readonly data?: Readonly<Record<string, unknown>> | undefined
  readonly flash?: Readonly<Record<string, unknown>> | undefined
  readonly token?: string | undefined
  readonly isNew?: boolean | undefined
}

/** Why a seed is invalid: the option at fault and the message of the kit's `SessionConfigError`. */
export interface SeedProblem {
  readonly option: string
  readonly message: string
}

/** Whether the seed describes session content (`data`, `flash` or `token`). */
export const hasContent = (seed: Seed): boolean =>
  seed.data !== undefined || seed.flash !== undefined || seed.token !== undefined

/** Whether the client starts holding a stored session: with content, or with `isNew: false`. */
export const startsStored = (seed: Seed): boolean => hasContent(seed) || seed.isNew === false

/** The problem with a seed, or `undefined` when it can be stored. */
export const check = (seed: Seed): SeedProblem | undefined => {
  const data = seed.data ?? {}
  const flash = seed.flash ?? {}
  if (seed.isNew === true && hasContent(seed)) {
    return { option: "isNew", message: "isNew: true cannot have data, flash or token: a new session is empty" }
  }
  if (seed.token !== undefined && seed.token.length === 0) {
    return { option: "token", message: "token must not be empty" }
  }
  for (const [field, record] of [["data", data], ["flash", flash]] as const) {
    for (const key of Object.keys(record)) {
      if (isReserved(key)) {
        return {
          option: field,
          message: `${field}: the key ${JSON.stringify(key)} is reserved for the library's metadata`
        }
      }
      if (field === "flash" && Object.prototype.hasOwnProperty.call(data, key)) {
        return { option: "flash", message: `flash: ${JSON.stringify(key)} is also in data` }
      }
      const problem = Value.check(record[key])
      if (problem !== undefined) return { option: field, message: `${field}.${key}: ${problem}` }
    }
  }
  return undefined
}

/**
 * The record a seeded session is stored as at `now`: its data, the flash data "the previous
 * request" left (readable by the next request only), the token, and fresh metadata.
 */
export const record = (seed: Seed, now: number): SessionData => {
  const meta: Meta.Meta = Meta.fresh(now)
  if (seed.token !== undefined) meta.t = seed.token
  if (seed.flash !== undefined && Object.keys(seed.flash).length > 0) meta.fo = Object.keys(seed.flash)
  return { ...seed.data, ...seed.flash, ...Object.fromEntries(Meta.entries(meta)) }
}

/** A stored session as the next request will load it (the kits' `Outcome` fields). */
export interface Stored {
  /** the user data (no metadata); `{}` when there is no record */
  readonly data: Record<string, unknown>
  /** keys the next request can read once */
  readonly flashed: ReadonlyArray<string>
  /** the CSRF token, if the record has one */
  readonly token: string | undefined
}

/** Reads back a stored record (or none) at `now`. */
export const stored = (found: SessionData | undefined, now: number): Stored => {
  if (found === undefined) return { data: {}, flashed: [], token: undefined }
  const read = Meta.read(found, now)
  const meta: Partial<Meta.Meta> = read._tag === "Meta" ? read.meta : {}
  const data = userData(found)
  return {
    data,
    // The flash list may still name a key the request flashed and then forgot (ageing drops it
    // then): only a key the record holds is one the next request can read.
    flashed: Array.isArray(meta.fo) ? meta.fo.filter((key) => Object.prototype.hasOwnProperty.call(data, key)) : [],
    token: typeof meta.t === "string" ? meta.t : undefined
  }
}
