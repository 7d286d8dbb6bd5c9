/**
 * Flash data (Laravel's): a value flashed in one request is readable in the next, then gone. The
 * metadata keeps two lists of keys: `fn` (flashed by this request, for the next) and `fo` (flashed
 * by the previous one, removed at the end of this one). At the end of each request they age: `fo`
 * goes, `fn` becomes `fo`.
 */
import type { Meta } from "./meta.js"

const addTo = (list: Array<string> | undefined, key: string): Array<string> =>
  list === undefined ? [key] : list.includes(key) ? list : [...list, key]

const removeFrom = (list: Array<string> | undefined, keys: ReadonlyArray<string>): Array<string> | undefined => {
  if (list === undefined) return undefined
  const next = list.filter((k) => !keys.includes(k))
  return next.length === 0 ? undefined : next
}

/** `key` was put for the next request only. */
export const flash = (meta: Meta, key: string): void => {
  meta.fn = addTo(meta.fn, key)
  meta.fo = removeFrom(meta.fo, [key])
}

/** `key` was put for this request only (Laravel's `flash.now`). */
export const now = (meta: Meta, key: string): void => {
  meta.fo = addTo(meta.fo, key)
  meta.fn = removeFrom(meta.fn, [key])
}

/** Keep every flashed key for one more request. */
export const reflash = (meta: Meta): void => {
  for (const key of meta.fo ?? []) meta.fn = addTo(meta.fn, key)
  delete meta.fo
}

/** Keep the given flashed keys for one more request. */
export const keep = (meta: Meta, keys: ReadonlyArray<string>): void => {
  for (const key of keys) if (meta.fo?.includes(key)) meta.fn = addTo(meta.fn, key)
  meta.fo = removeFrom(meta.fo, keys)
}

/** Forget the flash bookkeeping (a `flush`). */
export const clear = (meta: Meta): void => {
  delete meta.fn
  delete meta.fo
}

/**
 * Ages the flash lists at the end of a request (Laravel's `ageFlashData`) and returns the keys whose
 * values must now be removed: those flashed by the previous request.
 */
export const age = (meta: Meta): ReadonlyArray<string> => {
  const expired = meta.fo ?? []
  if (meta.fn !== undefined) meta.fo = meta.fn
  else delete meta.fo
  delete meta.fn
  return expired
}
