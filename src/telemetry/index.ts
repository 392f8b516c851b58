/** Traces and metrics (OpenTelemetry): setup, trace context across processes, the project's metrics. */
export { ContentFilteringExporter } from './content-filter.ts'
export {
  countDeliveryFailure,
  countMemoryCalls,
  recordDeliveryLatency,
  recordQueueWait,
  recordTaskDuration,
  withMemoryCallCount,
} from './longrun-metrics.ts'
export {
  startTelemetry,
  startWithTelemetry,
  type Telemetry,
  type TelemetryConfig,
} from './telemetry-setup.ts'
export {
  contextOf,
  currentTraceCarrier,
  failSpan,
  inSpan,
  longrunTracer,
  type SpanOptions,
  type TraceCarrier,
  traceCarrierOf,
} from './trace-context.ts'
