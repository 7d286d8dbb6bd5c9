/**
 * Sets `key` on a plain record as an own, enumerable data property. A key named "__proto__" goes
 * through `defineProperty`, since plain assignment would call the prototype setter instead of
 * storing it.
 */
export const setOwn = (target: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    target[key] = value
  }
}
