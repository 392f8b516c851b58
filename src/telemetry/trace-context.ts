/**
 * W3C trace context as this project carries it: across the MCP boundary (an HTTP `traceparent`
 * header and the request's `_meta`, which proxies such as AgentCore Runtime pass on untouched) and
 * with a task in its record, so a run that starts from a queue, or a result delivered hours later,
 * joins the trace of the call that started it. Without a registered tracer provider every helper
 * here does nothing.
 */
import {
  type Attributes,
  context,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'

/** `traceparent` (and `tracestate` when there is one): what is kept of a span to continue its trace. */
export type TraceCarrier = Readonly<Record<string, string>>

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/
/** The W3C limit on tracestate. */
const MAX_TRACESTATE_CHARS = 512

/** The tracer of this project's own spans. */
export function longrunTracer() {
  return trace.getTracer('longrun')
}

/** The active span's context as a carrier; undefined when no span is recording. */
export function currentTraceCarrier(active: Context = context.active()): TraceCarrier | undefined {
  const carrier: Record<string, string> = {}
  propagation.inject(active, carrier)
  return typeof carrier.traceparent === 'string' ? carrier : undefined
}

/**
 * The trace context a caller sent, checked (it crosses a trust boundary): only a well-formed
 * `traceparent`, and a `tracestate` within the W3C bound; anything else is ignored.
 */
export function traceCarrierOf(source: unknown): TraceCarrier | undefined {
  if (typeof source !== 'object' || source === null) return undefined
  const { traceparent, tracestate } = source as Record<string, unknown>
  const parent = Array.isArray(traceparent) ? traceparent[0] : traceparent
  if (typeof parent !== 'string' || !TRACEPARENT.test(parent)) return undefined
  const state = Array.isArray(tracestate) ? tracestate.join(',') : tracestate
  return typeof state === 'string' && state.length > 0 && state.length <= MAX_TRACESTATE_CHARS
    ? { traceparent: parent, tracestate: state }
    : { traceparent: parent }
}

/** The context to start a span in: the carrier's remote parent, or a new trace without one. */
export function contextOf(carrier: TraceCarrier | undefined): Context {
  return carrier === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier)
}

/** How {@link inSpan} starts its span. */
export interface SpanOptions {
  readonly kind?: SpanKind
  readonly attributes?: Attributes
  /** The parent: a remote carrier, or (by default) the active context. */
  readonly parent?: TraceCarrier | Context | undefined
}

/**
 * Runs `work` in a new active span and ends it: status error (with the error recorded) when
 * `work` throws, which it rethrows.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent =
    options.parent === undefined
      ? context.active()
      : isContext(options.parent)
        ? options.parent
        : contextOf(options.parent)
  const span = longrunTracer().startSpan(
    name,
    {
      ...(options.kind !== undefined && { kind: options.kind }),
      ...(options.attributes !== undefined && { attributes: options.attributes }),
    },
    parent,
  )
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span))
  } catch (error) {
    failSpan(span, error)
    throw error
  } finally {
    span.end()
  }
}

/** Marks `span` failed with `error`'s name and code (never its message: it may quote content). */
export function failSpan(span: Span, error: unknown): void {
  const name = error instanceof Error ? error.name : 'Error'
  const code = (error as { code?: unknown } | null)?.code
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : name })
  span.setAttribute('error.type', typeof code === 'string' ? code : name)
}

function isContext(value: TraceCarrier | Context): value is Context {
  return typeof (value as Context).getValue === 'function'
}
