/**
 * A real OTLP/HTTP receiver on a free port: takes the JSON that the OpenTelemetry OTLP/HTTP
 * exporters send to /v1/traces and /v1/metrics, and keeps the spans and metric names it got.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A span as OTLP/JSON carries it (ids in hex), with its service's name. */
export interface ReceivedSpan {
  readonly service: string
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly kind: number
  readonly attributes: Record<string, unknown>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Record<string, unknown> }>
  readonly status: { readonly code?: number }
}

export interface OtlpReceiver {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string
  readonly spans: ReceivedSpan[]
  /** Metric names received, with the service that sent them. */
  readonly metrics: Array<{ service: string; name: string }>
  /** Every request body, as received (for content checks over all of it). */
  readonly bodies: string[]
  close(): Promise<void>
}

interface KeyValue {
  key: string
  value: Record<string, unknown>
}

interface OtlpSpan {
  name: string
  traceId: string
  spanId: string
  parentSpanId?: string
  kind: number
  attributes?: KeyValue[]
  events?: Array<{ name: string; attributes?: KeyValue[] }>
  status?: { code?: number }
}
interface OtlpResource {
  attributes?: KeyValue[]
}
interface OtlpTraces {
  resourceSpans?: Array<{ resource?: OtlpResource; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>
}
interface OtlpMetrics {
  resourceMetrics?: Array<{
    resource?: OtlpResource
    scopeMetrics?: Array<{ metrics?: Array<{ name: string }> }>
  }>
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, Object.values(kv.value)[0]]))
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const metrics: Array<{ service: string; name: string }> = []
  const bodies: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      bodies.push(body)
      if (req.url === '/v1/traces') {
        for (const resource of (JSON.parse(body) as OtlpTraces).resourceSpans ?? []) {
          const service = String(attributesOf(resource.resource?.attributes)['service.name'])
          for (const scope of resource.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                service,
                name: span.name,
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
                kind: span.kind,
                attributes: attributesOf(span.attributes),
                events: (span.events ?? []).map((event) => ({
                  name: event.name,
                  attributes: attributesOf(event.attributes),
                })),
                status: span.status ?? {},
              })
            }
          }
        }
      } else if (req.url === '/v1/metrics') {
        for (const resource of (JSON.parse(body) as OtlpMetrics).resourceMetrics ?? []) {
          const service = String(attributesOf(resource.resource?.attributes)['service.name'])
          for (const scope of resource.scopeMetrics ?? [])
            for (const metric of scope.metrics ?? []) metrics.push({ service, name: metric.name })
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
