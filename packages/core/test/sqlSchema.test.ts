import { SqlSchema } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("SqlSchema.boundLockWaits", () => {
  it("bounds row-lock waits a little below the store's timeout: by a fifth, at most 1 s", () => {
    expect(SqlSchema.boundLockWaits("pg", 5000)).toBe("SET LOCAL lock_timeout = '4000ms'")
    expect(SqlSchema.boundLockWaits("pg", 1000)).toBe("SET LOCAL lock_timeout = '800ms'")
    expect(SqlSchema.boundLockWaits("pg", 60_000)).toBe("SET LOCAL lock_timeout = '59000ms'")
    expect(SqlSchema.boundLockWaits("pg", 1)).toBe("SET LOCAL lock_timeout = '1ms'")
  })

  it("MySQL/MariaDB counts whole seconds, at least 1", () => {
    expect(SqlSchema.boundLockWaits("mysql", 1000)).toBe("SET SESSION innodb_lock_wait_timeout = 1")
    expect(SqlSchema.boundLockWaits("mysql", 5000)).toBe("SET SESSION innodb_lock_wait_timeout = 4")
  })

  it("a timeout beyond a database's largest lock wait is clamped to it (PostgreSQL refuses more)", () => {
    const month = 30 * 24 * 60 * 60 * 1000
    expect(SqlSchema.boundLockWaits("pg", month)).toBe("SET LOCAL lock_timeout = '2147483647ms'")
    expect(SqlSchema.boundLockWaits("mysql", 1e15)).toBe("SET SESSION innodb_lock_wait_timeout = 1073741824")
  })

  it("SQLite (one writer, its busy timeout) has nothing to run", () => {
    expect(SqlSchema.boundLockWaits("sqlite", 5000)).toBeUndefined()
  })
})

describe("SqlSchema.checkTableName", () => {
  it("a table name that is not a string (untyped config) is a problem, not a TypeError", () => {
    expect(SqlSchema.checkTableName("sessions")).toBeUndefined()
    expect(SqlSchema.checkTableName(1 as never)).toBe("table must be a string (an SQL identifier), got number")
    expect(SqlSchema.checkTableName({} as never)).toContain("got object")
  })
})
