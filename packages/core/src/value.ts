/**
 * The plain-JSON check: what a session may hold. Values in external stores must round-trip exactly
 * through JSON, so a function, a cycle, a bigint, a class instance or a non-finite number is
 * refused when it is put, not silently turned into `{}` or `null` later.
 */

/**
 * Why `value` is not plain JSON data, or `undefined` when it is. A value whose reading throws (a
 * getter, a `Proxy` trap) is not plain data either: the answer says so, the exception never
 * escapes.
 */
export const check = (value: unknown): string | undefined => {
  try {
    return walk(value, 0, undefined, false) === REFUSED ? explain(value) : undefined
  } catch (cause) {
    return threw(cause)
  }
}

/**
 * What `copyChecked` answers for a value that may not be stored: why not, as `check` says it.
 *
 * @example
 * ```ts
 * import { Value } from "effect-session-core"
 *
 * const answer = Value.copyChecked(() => 1)
 * if (answer instanceof Value.Refusal) console.log(answer.problem) // "the value is a function: …"
 * ```
 */
export class Refusal {
  constructor(readonly problem: string) {}
}

const REFUSED: unique symbol = Symbol("refused")

/**
 * A copy of `value` that may be stored, or a `Refusal` saying why it may not be (as `check` would).
 * Unlike `check` followed by a copy, it reads each property once: a getter or `Proxy` that answers
 * differently on a second read cannot get a value past the check that is not the value stored
 * (`Session.put` uses it). The copy is the one `StoredRecord.copyJson` makes: `-0` is `0`, a
 * property holding `undefined` is left out, as JSON leaves it out.
 *
 * @example
 * ```ts
 * import { Value } from "effect-session-core"
 *
 * const copied = Value.copyChecked({ cart: [1, 2] })
 * if (copied instanceof Value.Refusal) console.log(copied.problem)
 * else console.log(copied) // { cart: [1, 2] }, a copy
 * ```
 */
export const copyChecked = (value: unknown): unknown => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value
    case "number":
      if (Number.isFinite(value)) return value === 0 ? 0 : value
      break
    case "object": {
      if (value === null) return null
      try {
        const copy = walk(value, 0, undefined, true)
        if (copy !== REFUSED) return copy
      } catch (cause) {
        return new Refusal(threw(cause))
      }
    }
  }
  // Said as `check` says it (a second walk, only for a value refused); a value that read as
  // refused but checks as fine changed while it was read.
  return new Refusal(check(value) ?? "the value changed while it was being read: store plain JSON data")
}

const threw = (cause: unknown): string =>
  `reading the value threw (${cause instanceof Error ? cause.message : String(cause)}): ` +
  `store plain JSON data, or use a Schema-typed key`

/**
 * Why a record value cannot be stored under `key` (`undefined`, or anything `check` refuses), as
 * the message of a store's error, or `undefined` when it can.
 */
export const unstorable = (key: string, value: unknown): string | undefined => {
  const problem = value === undefined ? "the value is undefined" : check(value)
  return problem === undefined ? undefined : `session value for key ${JSON.stringify(key)}: ${problem}`
}

/** Deep enough for any real session value; deeper input is refused rather than overflowing the stack. */
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

/**
 * The one walk that says whether `v` is plain JSON data, reading each property once: `REFUSED`
 * when it is not; otherwise, when `copying` (`copyChecked`), the copy `StoredRecord.copyJson` would
 * make, and when not (`check`), `v` itself, allocating nothing for the small values sessions hold
 * (`check` runs on every store write). `stack` holds the objects being visited, for cycles (made
 * on the first object); `explain` walks again, only for a value refused, to say where and why.
 */
const walk = (v: unknown, depth: number, stack: Array<object> | undefined, copying: boolean): unknown => {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v
    case "number":
      // JSON has no -0: its text is "0"
      return Number.isFinite(v) ? (copying && v === 0 ? 0 : v) : REFUSED
    case "object": {
      if (v === null) return null
      if (depth > MAX_DEPTH || (stack !== undefined && stack.includes(v))) return REFUSED
      const inner = stack ?? []
      inner.push(v)
      let result: unknown = v
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) return REFUSED
        const length = v.length
        const elements: Array<unknown> | undefined = copying ? [] : undefined
        for (let i = 0; i < length; i++) {
          const element: unknown = v[i]
          const walked = element === undefined ? REFUSED : walk(element, depth + 1, inner, copying)
          if (walked === REFUSED) return REFUSED
          elements?.push(walked)
        }
        // Every index held an element, so more own keys are properties JSON drops.
        if (Object.keys(v).length !== length || Object.getOwnPropertySymbols(v).length > 0) return REFUSED
        if (elements !== undefined) result = elements
      } else {
        const proto = Object.getPrototypeOf(v)
        if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(v).length > 0) return REFUSED
        const object: Record<string, unknown> | undefined = copying ? {} : undefined
        for (const key in v) {
          if (!Object.prototype.hasOwnProperty.call(v, key)) continue
          const property: unknown = (v as Record<string, unknown>)[key]
          if (property === undefined) continue // omitted, as JSON does
          const walked = walk(property, depth + 1, inner, copying)
          if (walked === REFUSED) return REFUSED
          if (object === undefined) continue
          // as `StoredRecord.setOwn` (which imports this module): a key named "__proto__" stays data
          if (key === "__proto__") {
            Object.defineProperty(object, key, { value: walked, enumerable: true, writable: true, configurable: true })
          } else object[key] = walked
        }
        if (object !== undefined) result = object
      }
      inner.pop()
      return result
    }
    default:
      return REFUSED
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
          if (Object.keys(v).length !== v.length || Object.getOwnPropertySymbols(v).length > 0) {
            return `${formatPath(path)} is an array with properties beside its elements, which JSON would drop`
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
          if (property === undefined) continue // omitted, as JSON does: documented
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
