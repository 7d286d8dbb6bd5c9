/**
 * The record rules the stores apply, from the shared core (`effect-session-core`): one copy for
 * both Effect lines. Named here as the stores use them.
 */
import { Patch, StoredRecord, Value } from "effect-session-core"

export const RETIRED_KEY = StoredRecord.RETIRED_KEY
export const setOwn = StoredRecord.setOwn
export const copyJson = StoredRecord.copyJson
export const isRecord = StoredRecord.isRecord
export const fromParsed = StoredRecord.fromParsed
export const isRetired = StoredRecord.isRetired
export const retire = StoredRecord.retire
export const graceEnd = StoredRecord.graceEnd
export const applyPatch = Patch.apply
export const refuses = Patch.refuses
export const check = Value.check
export const unstorable = Value.unstorable
