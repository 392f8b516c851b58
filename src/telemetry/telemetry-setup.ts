/**
 * Starts OpenTelemetry for one process: traces and metrics over OTLP/HTTP when an endpoint is
 * configured (the standard OTEL_EXPORTER_OTLP_* variables), nothing otherwise. A provider that is
 * already registered (the AWS Distro for OpenTelemetry, loaded with `--require`) is left in
 * charge: this project's spans and Strands' then go to it.
 */

/** Metrics go out this often unless told otherwise: the OpenTelemetry default. */
const DEFAULT_METRIC_INTERVAL_MS = 60_000

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
  /** True when an endpoint is configured (and telemetry not disabled). */
  readonly enabled: boolean
  /**
   * Resolves once the providers are registered (the SDK is loaded in the background): spans and
   * metrics made before that are not exported. Rejects if the SDK cannot be loaded.
   */
  readonly ready: Promise<void>
  /** Sends buffered spans and metrics now. */
  flush(): Promise<void>
  shutdown(): Promise<void>
}

const DISABLED: Telemetry = {
  enabled: false,
  ready: Promise.resolve(),
  flush: async () => {},
  shutdown: async () => {},
}

/**
 * Registers the global tracer and meter providers when an OTLP endpoint is configured. The SDK is
 * loaded only then, and in the background (see {@link Telemetry.ready}): a process without an
 * endpoint starts without it.
 */
export function startTelemetry(config: TelemetryConfig): Telemetry {
  const env = config.env
  const tracesUrl =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? joinPath(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'v1/traces')
  const metricsUrl =
    env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? joinPath(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'v1/metrics')
  if (env.OTEL_SDK_DISABLED || (tracesUrl === undefined && metricsUrl === undefined)) return DISABLED
  const providers = import('./otlp-providers.ts').then(({ registerOtlpProviders }) =>
    registerOtlpProviders({
      serviceName: env.OTEL_SERVICE_NAME ?? config.serviceName,
      tracesUrl,
      metricsUrl,
      captureMessageContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
      metricIntervalMs: config.metricIntervalMs ?? DEFAULT_METRIC_INTERVAL_MS,
    }),
  )
  // A failed load is reported by `ready`; flush and shutdown then have nothing to do.
  const loaded = providers.catch(() => undefined)
  const ready = providers.then(() => {})
  // Whoever never awaits `ready` gets no unhandled rejection from it.
  ready.catch(() => {})
  return {
    enabled: true,
    ready,
    flush: async () => (await loaded)?.flush(),
    shutdown: async () => (await loaded)?.shutdown(),
  }
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
  await telemetry.ready
  try {
    return { service: await start(), telemetry }
  } catch (error) {
    await telemetry.shutdown()
    throw error
  }
}

function joinPath(base: string | undefined, path: string): string | undefined {
  if (base === undefined) return undefined
  return `${base.replace(/\/+$/, '')}/${path}`
}
