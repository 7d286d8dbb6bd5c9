/**
 * The record rules the stores apply, under the names the shared core (`effect-session-core`:
 * `Patch.apply`, `Patch.refuses`, `StoredRecord.*`, `Value.unstorable`) gives them. The core's
 * versions are being written on the `core` branch; until they are merged here, this module holds
 * them, and afterwards it only re-exports the core (one copy of each rule).
 */
import type { SessionData, SessionPatch } from "../SessionStore.js"

/** The key a rotation sets on the record it retires: when its grace ends (ms). */
export const RETIRED_KEY = "__session.retired"

/** Sets `key` as an own, enumerable data property ("__proto__" is plain data). */
export const setOwn = (target: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    target[key] = value
  }
}

/** A deep copy of plain JSON data. */
export const copyJson = (value: unknown): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (Array.isArray(value)) return value.map(copyJson)
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) setOwn(copy, key, copyJson((value as Record<string, unknown>)[key]))
  return copy
}

/** Whether a store's value can be a record: a plain object. */
export const isRecord = (u: unknown): u is SessionData => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** Whether a rotation retired `record`: readable during its grace, never changed. */
export const isRetired = (record: SessionData): boolean => Object.prototype.hasOwnProperty.call(record, RETIRED_KEY)

/** `record` as a rotation leaves it for its grace period. */
export const retire = (record: SessionData, until: number): SessionData => {
  const next: Record<string, unknown> = { ...record }
  next[RETIRED_KEY] = until
  return next
}

/** `SessionStore.applyPatch`: clear, remove, set, add, on a new record. */
export const applyPatch = (record: SessionData, patch: SessionPatch): SessionData => {
  const next: Record<string, unknown> = patch.clear ? {} : { ...record }
  for (const key of patch.remove) delete next[key]
  for (const [key, value] of patch.set) setOwn(next, key, value)
  for (const [key, delta] of patch.add) {
    const current = Object.prototype.hasOwnProperty.call(next, key) ? next[key] : undefined
    setOwn(next, key, (typeof current === "number" ? current : 0) + delta)
  }
  return next
}

/** Whether a store must refuse to patch `record`: a retired record is read-only. */
export const refuses = (record: SessionData): boolean => isRetired(record)

/** Why `value` is not plain JSON data, or `undefined`. */
export const check = (value: unknown): string | undefined => isPlainJson(value, 0, undefined) ? undefined : explain(value)

/** Why a record value cannot be stored under `key`, as an error message, or `undefined`. */
export const unstorable = (key: string, value: unknown): string | undefined => {
  const problem = value === undefined ? "the value is undefined" : check(value)
  return problem === undefined ? undefined : `session value for key ${JSON.stringify(key)}: ${problem}`
}

const MAX_DEPTH = 512

const describe = (value: unknown): string => {
  if (value === null) return "null"
  switch (typeof value) {
    case "function":
      return "a function"
    case "symbol":
      return "a symbol"
    case "bigint":
      return "a bigint"
    case "undefined":
      return "undefined"
    case "number":
      return String(value)
    case "object": {
      const name = (value as object).constructor?.name
      return name ? `a ${name}` : "an object with a custom prototype"
    }
    default:
      return typeof value
  }
}

const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.length === 0 ? "the value" : path.map((p) => typeof p === "number" ? `[${p}]` : `.${p}`).join("")

const isPlainJson = (v: unknown, depth: number, stack: Array<object> | undefined): boolean => {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(v)
    case "object": {
      if (v === null) return true
      if (depth > MAX_DEPTH || (stack !== undefined && stack.includes(v))) return false
      const inner = stack ?? []
      inner.push(v)
      let ok = true
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) ok = false
        for (let i = 0; ok && i < v.length; i++) ok = v[i] !== undefined && isPlainJson(v[i], depth + 1, inner)
      } else {
        const proto = Object.getPrototypeOf(v)
        if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(v).length > 0) ok = false
        else {
          for (const key in v) {
            if (!Object.prototype.hasOwnProperty.call(v, key)) continue
            const property = (v as Record<string, unknown>)[key]
            if (property !== undefined && !isPlainJson(property, depth + 1, inner)) {
              ok = false
              break
            }
          }
        }
      }
      inner.pop()
      return ok
    }
    default:
      return false
  }
}

const explain = (value: unknown): string | undefined => {
  const ancestors = new Set<object>()
  const path: Array<string | number> = []
  const visit = (v: unknown, depth: number): string | undefined => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return undefined
      case "number":
        return Number.isFinite(v) ? undefined : `${formatPath(path)} is ${v}, which JSON cannot represent`
      case "object": {
        if (v === null) return undefined
        if (depth > MAX_DEPTH) return `${formatPath(path)} is nested more than ${MAX_DEPTH} levels deep`
        if (ancestors.has(v)) return `${formatPath(path)} is a cycle back to one of its parents`
        if (Array.isArray(v)) {
          if (Object.getPrototypeOf(v) !== Array.prototype) return `${formatPath(path)} is ${describe(v)}`
          ancestors.add(v)
          for (let i = 0; i < v.length; i++) {
            const element = v[i]
            path.push(i)
            const problem = element === undefined
              ? `${formatPath(path)} is undefined (JSON would turn it into null)`
              : visit(element, depth + 1)
            path.pop()
            if (problem !== undefined) return problem
          }
          ancestors.delete(v)
          return undefined
        }
        const proto = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) {
          return `${formatPath(path)} is ${describe(v)}: store plain JSON data, or use a Schema-typed key`
        }
        if (Object.getOwnPropertySymbols(v).length > 0) return `${formatPath(path)} has symbol keys`
        ancestors.add(v)
        for (const key of Object.keys(v)) {
          const property = (v as Record<string, unknown>)[key]
          if (property === undefined) continue
          path.push(key)
          const problem = visit(property, depth + 1)
          path.pop()
          if (problem !== undefined) return problem
        }
        ancestors.delete(v)
        return undefined
      }
      default:
        return `${formatPath(path)} is ${describe(v)}: store plain JSON data, or use a Schema-typed key`
    }
  }
  return visit(value, 0)
}
