/**
 * Keeps conversation content out of exported spans unless the user asks for it. Strands records
 * prompts, answers, tool arguments and results on its model and tool spans (as span events, or as
 * attributes with `gen_ai_span_attributes_only`) and leaves suppressing them to the exporter; this
 * is that exporter. Spans keep their names, timings, ids, token counts and status codes; error
 * messages and exception texts go too, since they may quote what a tool or a model said.
 */
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'

/** Attributes that hold conversation content (the GenAI conventions Strands writes). */
const CONTENT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'system_prompt',
  'gen_ai.agent.input',
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

/** What an exception event keeps: its type, never its message or stack (they may quote content). */
const EXCEPTION_KEPT: ReadonlySet<string> = new Set(['exception.type', 'exception.escaped'])

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
  const events = span.events
    .filter((event) => !isContentEvent(event.name))
    .map((event) =>
      event.name !== 'exception'
        ? event
        : {
            ...event,
            attributes: Object.fromEntries(
              Object.entries(event.attributes ?? {}).filter(([key]) => EXCEPTION_KEPT.has(key)),
            ),
          },
    )
  // An error's status message is its text (a tool's or a model's words): only the code stays.
  const status = { code: span.status.code }
  // The span itself stays untouched (other processors may read it); the copy overrides three fields.
  return Object.create(span, {
    attributes: { value: attributes, enumerable: true },
    events: { value: events, enumerable: true },
    status: { value: status, enumerable: true },
  }) as ReadableSpan
}
