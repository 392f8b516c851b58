import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  decodeMemoryEvent,
  normalizeConverseHistory,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import {
  memorySessionIdFor,
  parseRuntimeStream,
  type RuntimeStreamEvent,
  SESSION_ID_HEADER,
} from '../../src/runtime/index.ts'
import { listSessionEvents } from '../helpers/local-agentcore.ts'
import { responseOf, sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

describe('POST /invocations: streamed and JSON answers', () => {
  // Heartbeats every 100 ms and epochs of 60 ms: an inline run reports progress several times.
  const stack = useRuntimeStack({ epochDelayMs: 60, heartbeatIntervalMs: 100 })

  test('a streamed inline training shows tool_start, rising tool_progress, tool_end, the answer, then done', async () => {
    await stack.startRuntime()
    const outcome = await stack.invoke('Train a model called inline-a for 8 epochs and wait for it', {
      sessionId: sessionIdFor('stream-inline'),
    })
    const types = outcome.events.map((event) => event.type)
    assert.equal(types.at(-1), 'done')
    const start = outcome.events.find((event) => event.type === 'tool_start')
    assert.deepEqual(start && { tool: start.tool, input: start.input }, {
      tool: 'model_training',
      input: { model_name: 'inline-a', epochs: 8 },
    })
    const progress = outcome.events.filter(
      (event): event is Extract<RuntimeStreamEvent, { type: 'tool_progress' }> =>
        event.type === 'tool_progress',
    )
    const epochs = progress.filter((event) => event.message?.startsWith('epoch'))
    assert.deepEqual(
      epochs.map((event) => event.progress),
      [1, 2, 3, 4, 5, 6, 7, 8],
    )
    assert.ok(epochs.every((event) => event.total === 8 && event.tool_use_id === start?.tool_use_id))
    for (let index = 1; index < progress.length; index += 1)
      assert.ok(
        (progress[index]?.progress ?? 0) > (progress[index - 1]?.progress ?? 0),
        'progress only rises',
      )
    const end = outcome.events.find((event) => event.type === 'tool_end')
    assert.equal(end?.type === 'tool_end' && end.status, 'success')
    assert.ok(types.indexOf('tool_start') < types.indexOf('tool_progress'))
    assert.ok(types.lastIndexOf('tool_progress') < types.indexOf('tool_end'))
    const text = outcome.events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('')
    assert.equal(text, responseOf(outcome))
    assert.match(text, /Training finished\. Model inline-a: test accuracy \d/)
    assert.deepEqual(outcome.answer?.tasks, [], 'an inline call starts no background task')
  })

  test('a JSON call through the gateway answers { response, session_id, tasks }', async () => {
    await stack.startRuntime()
    const sessionId = sessionIdFor('json-answer')
    const outcome = await stack.invoke('Train a model called bg-json for 3 epochs', {
      sessionId,
      stream: false,
    })
    assert.equal(outcome.answer?.session_id, sessionId)
    assert.equal(outcome.runtimeSessionId, sessionId)
    assert.equal(outcome.answer?.tasks.length, 1)
    assert.equal(outcome.answer?.tasks[0]?.tool, 'start_model_training')
    assert.match(responseOf(outcome), /Started task \S+ \(model_training\)/)
  })

  test('without a session header the runtime makes one and returns it; the turn is stored under it (boto3 query string accepted)', async () => {
    const runtime = await stack.startRuntime()
    const response = await fetch(`${runtime.server.url}/invocations?qualifier=DEFAULT`, {
      method: 'POST',
      body: JSON.stringify({ prompt: 'list my tasks' }),
    })
    assert.equal(response.status, 200)
    const body = (await response.json()) as { session_id: string; response: string }
    assert.equal(response.headers.get(SESSION_ID_HEADER), body.session_id)
    assert.ok(body.session_id.length >= 33)
    const events = await listSessionEvents(stack.env.data, stack.memoryId, 'default', body.session_id)
    assert.ok(events.length > 0, 'the conversation is in memory under the generated session')
  })

  test('a runtime session id Memory cannot take maps, by the documented rule, to one it can; the next turn continues it', async () => {
    const runtime = await stack.startRuntime()
    const odd = `user.42@example.com:${'x'.repeat(120)}`
    const mapped = memorySessionIdFor(odd)
    assert.match(mapped, /^rt-user_42_example_com_x{20}-[0-9a-f]{32}$/)
    const ask = async (prompt: string) => {
      const response = await fetch(`${runtime.server.url}/invocations`, {
        method: 'POST',
        headers: { [SESSION_ID_HEADER]: odd, accept: 'text/event-stream' },
        body: JSON.stringify({ prompt }),
      })
      const events: RuntimeStreamEvent[] = []
      for await (const event of parseRuntimeStream(response.body as AsyncIterable<Uint8Array>))
        events.push(event)
      return events
    }
    const started = await ask('Train a model called mapped-1 for 2 epochs')
    const done = started.at(-1)
    assert.equal(done?.type === 'done' && done.session_id, odd, 'the caller keeps its own id')
    const status = await ask('what is the status of my task')
    const answer = status.at(-1)
    assert.ok(
      answer?.type === 'done' && /Task \S+ \(model_training\) is/.test(answer.response),
      JSON.stringify(answer),
    )
    const events = await listSessionEvents(stack.env.data, stack.memoryId, 'default', mapped)
    const messages = events.flatMap((event) => decodeMemoryEvent(event).messages)
    assert.equal(messages.filter((message) => message.role === 'user').length >= 2, true)
    // What the model is given from it: the task's result, delivered while a turn ran, may sit between
    // that turn's tool call and its result in the stored order, and the restore orders it after.
    assert.deepEqual(validateConverseHistory(normalizeConverseHistory(messages)), [])
  })

  test('/ping is Healthy, HealthyBusy while a turn runs, Healthy after; the time moves only on a change', async () => {
    const runtime = await stack.startRuntime()
    const ping = async () =>
      (await (await fetch(`${runtime.server.url}/ping`)).json()) as {
        status: string
        time_of_last_update: number
      }
    const idle = await ping()
    assert.equal(idle.status, 'Healthy')
    assert.equal((await ping()).time_of_last_update, idle.time_of_last_update)
    const turn = stack.invoke('Train a model called busy-1 for 10 epochs and wait for it', {
      sessionId: sessionIdFor('ping-busy'),
    })
    const busy = await waitForStatus(ping, 'HealthyBusy')
    assert.ok(busy.time_of_last_update > idle.time_of_last_update)
    await turn
    const after = await waitForStatus(ping, 'Healthy')
    assert.ok(after.time_of_last_update > busy.time_of_last_update)
  })
})

async function waitForStatus(
  ping: () => Promise<{ status: string; time_of_last_update: number }>,
  status: string,
): Promise<{ status: string; time_of_last_update: number }> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const report = await ping()
    if (report.status === status) return report
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`/ping never reported ${status}`)
}
