/**
 * The OpenTelemetry SDK side of {@link startTelemetry}: tracer and meter providers exporting over
 * OTLP/HTTP. Loaded only when an endpoint is configured, so a process without one never loads the
 * SDK, its exporters and their protobuf code (a third of a runtime's start).
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

/** Where to export and how, already decided from the environment. */
export interface OtlpProvidersConfig {
  readonly serviceName: string
  readonly tracesUrl: string | undefined
  readonly metricsUrl: string | undefined
  readonly captureMessageContent: boolean
  readonly metricIntervalMs: number
}

/** The providers registered; `registered` is false when another distribution had registered its own first. */
export interface OtlpProviders {
  flush(): Promise<void>
  shutdown(): Promise<void>
  readonly registered: boolean
}

/** Registers the global tracer and meter providers for the URLs given. */
export function registerOtlpProviders(config: OtlpProvidersConfig): OtlpProviders {
  const resource = resourceFromAttributes({ 'service.name': config.serviceName }).merge(
    detectResources({ detectors: [envDetector] }),
  )
  let tracer: NodeTracerProvider | undefined
  if (config.tracesUrl !== undefined) {
    const exporter: SpanExporter = new OTLPTraceExporter({ url: config.tracesUrl })
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
          config.captureMessageContent ? exporter : new ContentFilteringExporter(exporter),
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
  if (config.metricsUrl !== undefined) {
    meters = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: config.metricsUrl }),
          exportIntervalMillis: config.metricIntervalMs,
        }),
      ],
    })
    if (!metrics.setGlobalMeterProvider(meters)) {
      void meters.shutdown()
      meters = undefined
    }
  }
  return {
    registered: tracer !== undefined || meters !== undefined,
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
