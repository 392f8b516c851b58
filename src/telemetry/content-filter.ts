/**
 * Keeps conversation content out of exported spans unless the user asks for it. Strands records
 * prompts, answers, tool arguments and results on its model and tool spans (as span events, or as
 * attributes with `gen_ai_span_attributes_only`) and leaves suppressing them to the exporter; this
 * is that exporter. Spans keep their names, timings, ids, token counts and statuses.
 */
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'

/** Attributes that hold conversation content (the GenAI conventions Strands writes). */
const CONTENT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'gen_ai.tool.message',
  'input.value',
  'output.value',
  'content',
  'message',
])

/** Events that hold content: every GenAI message, choice and operation-details event, and memory payloads. */
function isContentEvent(name: string): boolean {
  return name.startsWith('gen_ai.') || name.startsWith('memory.')
}

/** Wraps an exporter so that what it sends holds no content. */
export class ContentFilteringExporter implements SpanExporter {
  readonly #inner: SpanExporter

  constructor(inner: SpanExporter) {
    this.#inner = inner
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans.map(withoutContent), resultCallback)
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve()
  }
}

function withoutContent(span: ReadableSpan): ReadableSpan {
  const attributes = Object.fromEntries(
    Object.entries(span.attributes).filter(([key]) => !CONTENT_ATTRIBUTES.has(key)),
  )
  const events = span.events.filter((event) => !isContentEvent(event.name))
  // The span itself stays untouched (other processors may read it); the copy overrides two fields.
  return Object.create(span, {
    attributes: { value: attributes, enumerable: true },
    events: { value: events, enumerable: true },
  }) as ReadableSpan
}
