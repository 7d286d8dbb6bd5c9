// The record helpers live in the core (`StoredRecord`); re-exported here for the stores' imports.
import { StoredRecord } from "effect-session-core"

export const setOwn = StoredRecord.setOwn
export const copyJson = StoredRecord.copyJson
