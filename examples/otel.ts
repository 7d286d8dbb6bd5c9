/**
 * The demo app with its telemetry exported through OpenTelemetry, by @effect/opentelemetry.
 *
 *   npx tsx --tsconfig tsconfig.test.json examples/otel.ts      # http://127.0.0.1:3000
 *
 * Every request is an `http.server` span (from `HttpServer.serve`) whose children include
 * `effect-session.load` and `effect-session.save`; the session counters and the store-latency
 * histogram are read every 5 seconds. Both go to the console here; in production swap the
 * exporters for OTLP ones (`@opentelemetry/exporter-trace-otlp-http`,
 * `@opentelemetry/exporter-metrics-otlp-http`) pointing at your collector.
 */
import { NodeSdk } from "@effect/opentelemetry"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base"
import { Layer } from "effect"
import { MemoryStoreLive } from "effect-session"
import { createServer } from "node:http"
import { app } from "./demo.js"
import { recordingStore } from "./recording-store.js"

/** Effect's tracer and metrics, bridged to an OpenTelemetry SDK for the whole program. */
export const TelemetryLive = NodeSdk.layer(() => ({
  resource: { serviceName: "effect-session-demo", serviceVersion: "0.1.0" },
  spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter()),
  metricReader: new PeriodicExportingMetricReader({
    exporter: new ConsoleMetricExporter(),
    exportIntervalMillis: 5_000
  })
}))

export const ServerLive = HttpServer.serve(app).pipe(
  HttpServer.withLogAddress,
  Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.env.PORT ?? 3000), host: "127.0.0.1" })),
  // the store outside the server: shutdown lets in-flight requests save before it closes
  Layer.provide(recordingStore(MemoryStoreLive)),
  // provided last, so the server, the middleware and the store all report to it
  Layer.provide(TelemetryLive)
)

if (import.meta.url === `file://${process.argv[1]}`) {
  NodeRuntime.runMain(Layer.launch(ServerLive))
}
