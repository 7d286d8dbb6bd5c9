/** The SVG chart for docs/benchmarks.svg: requests per second, a pair of bars per server. */
import type { Report } from "./report.js"
import { servers } from "./servers.js"

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

export const chart = (report: Report): string => {
  const rowsShown = servers.filter((spec) => report.measurements.some((m) => m.spec.id === spec.id))
  const labelWidth = 330
  const plotWidth = 520
  const barHeight = 13
  const rowHeight = barHeight * 2 + 12
  const top = 46
  const height = top + rowsShown.length * rowHeight + 30
  const width = labelWidth + plotWidth + 90
  const max = Math.max(1, ...report.measurements.map((m) => m.result?.requestsPerSecond ?? 0))
  const step = max > 40_000 ? 10_000 : max > 16_000 ? 5_000 : max > 8_000 ? 2_000 : 1_000
  const scale = (v: number) => (v / (Math.ceil(max / step) * step)) * plotWidth
  const colors = { returning: "#2563eb", new: "#93c5fd" } as const
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="20" font-size="14" font-weight="600">Requests per second, GET /count (higher is better)</text>`,
    `<rect x="${labelWidth}" y="28" width="10" height="10" fill="${colors.returning}"/><text x="${
      labelWidth + 14
    }" y="37">returning users</text>`,
    `<rect x="${labelWidth + 120}" y="28" width="10" height="10" fill="${colors.new}"/><text x="${
      labelWidth + 134
    }" y="37">new sessions</text>`
  ]
  for (let v = 0; v <= Math.ceil(max / step) * step; v += step) {
    const x = labelWidth + scale(v)
    out.push(
      `<line x1="${x}" y1="${top - 2}" x2="${x}" y2="${height - 26}" stroke="#e5e7eb"/>`,
      `<text x="${x}" y="${height - 12}" text-anchor="middle" fill="#6b7280">${v >= 1000 ? `${v / 1000}k` : v}</text>`
    )
  }
  rowsShown.forEach((spec, i) => {
    const y = top + i * rowHeight
    const ours = spec.id.startsWith("effect-session")
    // ours in bold; the floors (references, not peers) in grey italics
    const style = ours ? ` font-weight="700"` : spec.reference === true ? ` font-style="italic" fill="#6b7280"` : ""
    out.push(
      `<text x="${labelWidth - 8}" y="${y + barHeight + 4}" text-anchor="end"${style}>${escape(spec.label)}</text>`
    )
    ;(["returning", "new"] as const).forEach((scenario, j) => {
      const m = report.measurements.find((x) => x.spec.id === spec.id && x.scenario === scenario)
      const by = y + j * barHeight
      if (m?.result === undefined) {
        out.push(`<text x="${labelWidth + 4}" y="${by + barHeight - 3}" fill="#6b7280">pending</text>`)
        return
      }
      const w = Math.max(1, scale(m.result.requestsPerSecond))
      out.push(
        `<rect x="${labelWidth}" y="${by}" width="${w.toFixed(1)}" height="${barHeight - 1}" fill="${
          colors[scenario]
        }"/>`,
        `<text x="${labelWidth + w + 4}" y="${by + barHeight - 3}" fill="#374151">${
          Math.round(m.result.requestsPerSecond).toLocaleString("en-US")
        }</text>`
      )
    })
  })
  out.push("</svg>")
  return `${out.join("\n")}\n`
}
