import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseRuntimeStream, type RuntimeStreamEvent, SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import { useRuntimeStack } from '../helpers/runtime-stack.ts'

/**
 * How the official AgentCore CLI (`agentcore dev "prompt" --port N`, npm `@aws/agentcore` 0.30)
 * reads a local runtime's stream, line by line: a `data:` line holding a JSON string is text; an
 * object with `error` is the error it shows (and it stops); an object with `text` is text; a
 * Bedrock `event.contentBlockDelta.delta.text` is text; anything else is skipped.
 */
function officialCliLine(line: string): { content?: string; error?: string } {
  if (!line.startsWith('data: ')) return {}
  let value: unknown
  try {
    value = JSON.parse(line.slice(6))
  } catch {
    return { content: line.slice(6) }
  }
  if (typeof value === 'string') return { content: value }
  if (value !== null && typeof value === 'object') {
    if ('error' in value) return { error: String(value.error) }
    if ('text' in value) return { content: String(value.text) }
  }
  const delta = (value as { event?: { contentBlockDelta?: { delta?: { text?: unknown } } } } | null)?.event
    ?.contentBlockDelta?.delta?.text
  return typeof delta === 'string' ? { content: delta } : {}
}

async function eventsOf(raw: string): Promise<RuntimeStreamEvent[]> {
  const events: RuntimeStreamEvent[] = []
  for await (const event of parseRuntimeStream([raw])) events.push(event)
  return events
}

/** What `agentcore dev` sends and shows: its request, read with its rules. */
async function agentcoreDev(
  port: number,
  prompt: string,
): Promise<{ text: string; error?: string; raw: string }> {
  const response = await fetch(`http://localhost:${port}/invocations`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
      [SESSION_ID_HEADER]: 'local-dev-session',
    },
    body: JSON.stringify({ prompt }),
  })
  assert.equal(response.status, 200)
  const raw = await response.text()
  let text = ''
  for (const line of raw.split(/\r?\n/)) {
    const { content, error } = officialCliLine(line)
    if (error !== undefined) return { text, error, raw }
    if (content !== undefined) text += content
  }
  return { text, raw }
}

describe('the official AgentCore CLI against this runtime', () => {
  const stack = useRuntimeStack()

  test('`agentcore dev` shows the streamed answer, and a failed turn as its error', async () => {
    const runtime = await stack.startRuntime({ RUNTIME_HOST: '127.0.0.1' })
    const answered = await agentcoreDev(runtime.server.port, 'hello')
    assert.equal(answered.error, undefined)
    const done = await eventsOf(answered.raw)
    const final = done.find((event) => event.type === 'done')
    assert.ok(final && final.type === 'done')
    assert.equal(answered.text, final.response, 'the text it shows is the whole answer')

    // A turn that fails inside the stream (the memory does not exist): the CLI shows the error.
    const broken = await stack.startRuntime({ MEMORY_ID: 'nosuch_memory-AbCdEf1234' })
    const failed = await agentcoreDev(broken.server.port, 'hello')
    const events = await eventsOf(failed.raw)
    const error = events.find((event) => event.type === 'error')
    assert.ok(error && error.type === 'error')
    assert.equal(error.code, 'MEMORY_NOT_FOUND', 'the code is kept')
    assert.equal(failed.error, error.message, 'the official CLI shows our message')
  })
})
