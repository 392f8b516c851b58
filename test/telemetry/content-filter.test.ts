/** What the content filter keeps and drops, and which trace contexts from callers are taken. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base'
import { ContentFilteringExporter, traceCarrierOf } from '../../src/telemetry/index.ts'

/** One model span as Strands records it: content in attributes and in GenAI events. */
function recordModelSpan(exporter: SpanExporter): void {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const span = provider.getTracer('test').startSpan('chat')
  span.setAttributes({
    system_prompt: 'secret system prompt',
    'gen_ai.operation.name': 'chat',
    'gen_ai.usage.input_tokens': 42,
    'gen_ai.input.messages': '[{"role":"user","parts":[{"content":"my secret prompt"}]}]',
    'gen_ai.tool.call.result': 'secret result',
  })
  span.addEvent('gen_ai.user.message', { content: 'my secret prompt' })
  span.addEvent('gen_ai.choice', { message: 'secret answer' })
  span.addEvent('progress', { progress: 3 })
  span.recordException(new Error('the tool said: secret detail'))
  span.setStatus({ code: 2, message: 'secret detail' })
  span.end()
}

test('content attributes and GenAI events are dropped; names, usage and other events stay', () => {
  const memory = new InMemorySpanExporter()
  recordModelSpan(new ContentFilteringExporter(memory))
  const [span] = memory.getFinishedSpans()
  assert.ok(span)
  assert.equal(span.name, 'chat')
  assert.deepEqual(span.attributes, { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 42 })
  assert.deepEqual(
    span.events.map((event) => event.name),
    ['progress', 'exception'],
  )
  assert.deepEqual(span.events[1]?.attributes, { 'exception.type': 'Error' })
  assert.deepEqual(span.status, { code: 2 }, 'the status code stays, its message goes')
  assert.equal(JSON.stringify([span.attributes, span.events, span.status]).includes('secret'), false)
})

test('without the filter (content capture on) the same span keeps its content', () => {
  const memory = new InMemorySpanExporter()
  recordModelSpan(memory)
  const [span] = memory.getFinishedSpans()
  assert.equal(span?.attributes['gen_ai.tool.call.result'], 'secret result')
  assert.deepEqual(
    span?.events.map((event) => event.name),
    ['gen_ai.user.message', 'gen_ai.choice', 'progress', 'exception'],
  )
  assert.equal(span?.status.message, 'secret detail')
})

test('a caller trace context is taken only when well formed', () => {
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  assert.deepEqual(traceCarrierOf({ traceparent: parent }), { traceparent: parent })
  assert.deepEqual(traceCarrierOf({ traceparent: parent, tracestate: 'a=1' }), {
    traceparent: parent,
    tracestate: 'a=1',
  })
  // An oversized tracestate is dropped, the parent kept.
  assert.deepEqual(traceCarrierOf({ traceparent: parent, tracestate: 'a'.repeat(600) }), {
    traceparent: parent,
  })
  for (const bad of [undefined, null, 'x', {}, { traceparent: 'not-a-trace' }, { traceparent: `${parent}x` }])
    assert.equal(traceCarrierOf(bad), undefined, JSON.stringify(bad))
})
