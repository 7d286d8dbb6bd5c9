/** Small statistics the benchmark scripts share. */

/** The median of `xs` (the mean of the two middle values for an even count); `xs` is not changed. */
export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
