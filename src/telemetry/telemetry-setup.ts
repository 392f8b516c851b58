/**
 * Starts OpenTelemetry for one process: traces and metrics over OTLP/HTTP when an endpoint is
 * configured (the standard OTEL_EXPORTER_OTLP_* variables), nothing otherwise. A provider that is
 * already registered (the AWS Distro for OpenTelemetry, loaded with `--require`) is left in
 * charge: this project's spans and Strands' then go to it.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { ContentFilteringExporter } from './content-filter.ts'

/** What {@link startTelemetry} reads (the matching variables of `src/config.ts`). */
export interface TelemetryConfig {
  /** The service's name in traces, unless OTEL_SERVICE_NAME gives one. */
  readonly serviceName: string
  readonly env: {
    readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined
    readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined
    readonly OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?: string | undefined
    readonly OTEL_SDK_DISABLED: boolean
    readonly OTEL_SERVICE_NAME?: string | undefined
    readonly OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: boolean
  }
  /** How often metrics are sent (default 60 s, the OpenTelemetry default). */
  readonly metricIntervalMs?: number
}

/** Started telemetry: `shutdown` sends what is buffered and stops. */
export interface Telemetry {
  readonly enabled: boolean
  /** Sends buffered spans and metrics now. */
  flush(): Promise<void>
  shutdown(): Promise<void>
}

const DISABLED: Telemetry = {
  enabled: false,
  flush: async () => {},
  shutdown: async () => {},
}

/** Registers the global tracer and meter providers when an OTLP endpoint is configured. */
export function startTelemetry(config: TelemetryConfig): Telemetry {
  const env = config.env
  const tracesUrl =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? joinPath(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'v1/traces')
  const metricsUrl =
    env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? joinPath(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'v1/metrics')
  if (env.OTEL_SDK_DISABLED || (tracesUrl === undefined && metricsUrl === undefined)) return DISABLED
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME ?? config.serviceName,
  }).merge(detectResources({ detectors: [envDetector] }))
  let tracer: NodeTracerProvider | undefined
  if (tracesUrl !== undefined) {
    const exporter: SpanExporter = new OTLPTraceExporter({ url: tracesUrl })
    tracer = new NodeTracerProvider({
      resource,
      // A caller's trace context joins the trace, but its "not sampled" flag cannot switch this
      // service's spans off (nor those of a task it starts, recorded hours later).
      sampler: new ParentBasedSampler({
        root: new AlwaysOnSampler(),
        remoteParentNotSampled: new AlwaysOnSampler(),
      }),
      spanProcessors: [
        new BatchSpanProcessor(
          env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
            ? exporter
            : new ContentFilteringExporter(exporter),
        ),
      ],
    })
    if (trace.setGlobalTracerProvider(tracer)) {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
      propagation.setGlobalPropagator(
        new CompositePropagator({
          propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
        }),
      )
    } else {
      // Another distribution registered first (ADOT with --require): it exports, not this.
      void tracer.shutdown()
      tracer = undefined
    }
  }
  let meters: MeterProvider | undefined
  if (metricsUrl !== undefined) {
    meters = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: metricsUrl }),
          exportIntervalMillis: config.metricIntervalMs ?? 60_000,
        }),
      ],
    })
    if (!metrics.setGlobalMeterProvider(meters)) {
      void meters.shutdown()
      meters = undefined
    }
  }
  if (tracer === undefined && meters === undefined) return DISABLED
  return {
    enabled: true,
    flush: async () => {
      await Promise.all([tracer?.forceFlush(), meters?.forceFlush()])
    },
    shutdown: async () => {
      await Promise.allSettled([tracer?.shutdown(), meters?.shutdown()])
      if (tracer !== undefined) {
        trace.disable()
        context.disable()
        propagation.disable()
      }
      if (meters !== undefined) metrics.disable()
    },
  }
}

function joinPath(base: string | undefined, path: string): string | undefined {
  if (base === undefined) return undefined
  return `${base.replace(/\/+$/, '')}/${path}`
}

/**
 * Starts telemetry, then the service with `start`; a service that fails to start stops telemetry
 * again (so its spans about the failure go out) and rethrows.
 */
export async function startWithTelemetry<T>(
  config: TelemetryConfig,
  start: () => Promise<T>,
): Promise<{ readonly service: T; readonly telemetry: Telemetry }> {
  const telemetry = startTelemetry(config)
  try {
    return { service: await start(), telemetry }
  } catch (error) {
    await telemetry.shutdown()
    throw error
  }
}
