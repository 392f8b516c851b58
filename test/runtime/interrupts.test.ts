import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { memorySessionIdFor, type RuntimeStreamEvent, SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import { timelineOf } from '../../src/memory/index.ts'
import { listSessionEvents, waitFor } from '../helpers/local-agentcore.ts'
import { responseOf, sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

/** Approvals at the runtime: the demo model calls start_model_training, which must be approved first. */
describe('a turn that asks first pauses, and the next invocation answers it, in another runtime', () => {
  const stack = useRuntimeStack()
  const APPROVALS = { AGENT_APPROVAL_TOOLS: 'start_model_training' }

  const eventsOf = (sessionId: string) =>
    listSessionEvents(stack.env.data, stack.memoryId, 'default', memorySessionIdFor(sessionId))
  /** A payload POSTed straight to a runtime: for refusals, read as the runtime's own JSON error. */
  const post = async (url: string, sessionId: string, payload: unknown) => {
    const answer = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SESSION_ID_HEADER]: sessionId },
      body: JSON.stringify(payload),
    })
    return {
      status: answer.status,
      body: (await answer.json()) as { error?: { code: string; field?: string } },
    }
  }
  const interruptEvents = (events: readonly RuntimeStreamEvent[]) =>
    events.flatMap((event) => (event.type === 'interrupt' ? [event] : []))

  test('approved after a restart: the tool runs once, in the resumed turn', async () => {
    await stack.startRuntime(APPROVALS)
    const sessionId = sessionIdFor('approve-restart')
    const paused = await stack.invoke('Train a model called fraud-v2 for 3 epochs', { sessionId })
    const asked = interruptEvents(paused.events)
    assert.equal(asked.length, 1)
    assert.equal(asked[0]?.name, 'approval')
    assert.deepEqual((asked[0]?.reason as { tool: string }).tool, 'start_model_training')
    assert.deepEqual(paused.answer?.interrupts, [
      { interrupt_id: asked[0]?.interrupt_id, name: 'approval', reason: asked[0]?.reason },
    ])
    assert.deepEqual(paused.answer?.tasks, [])

    // A fresh runtime (a new agent side, no warm session) answers it.
    await stack.startRuntime(APPROVALS)
    const resumed = await stack.invoke('', {
      sessionId,
      interruptResponses: [{ interrupt_id: asked[0]?.interrupt_id as string, response: 'yes' }],
    })
    assert.equal(resumed.answer?.interrupts, undefined)
    assert.equal(resumed.answer?.tasks.length, 1, 'the tool ran once')
    assert.match(responseOf(resumed), /Started task/)

    // The same answer again names a question no longer asked: refused, nothing written. (Counted once
    // the task's result is delivered into the session: that write is the task's, not this call's.)
    const taskId = resumed.answer?.tasks[0]?.task_id as string
    const before = await waitFor(
      async () => {
        const events = await eventsOf(sessionId)
        const delivered = events.some((event) =>
          timelineOf(event).some((entry) => entry.author === 'task result' && entry.text.includes(taskId)),
        )
        return delivered ? events.length : undefined
      },
      30_000,
      'the task result delivered into the session',
    )
    const again = await stack
      .invoke('', {
        sessionId,
        stream: false,
        interruptResponses: [{ interrupt_id: asked[0]?.interrupt_id as string, response: 'yes' }],
      })
      .then(
        () => undefined,
        (error: { $response?: { headers?: Record<string, string> } }) => error,
      )
    assert.equal(again?.$response?.headers?.['x-longrun-runtime-error-code'], 'INTERRUPT_NOT_FOUND')
    assert.equal((await eventsOf(sessionId)).length, before)
    const tasks = await stack.invoke('list my tasks', { sessionId })
    assert.match(responseOf(tasks), /You have 1 task/)
  })

  test('refused: the tool does not run, and the model is told', async () => {
    await stack.startRuntime(APPROVALS)
    const sessionId = sessionIdFor('refuse')
    const paused = await stack.invoke('Train a model called fraud-v3 for 3 epochs', {
      sessionId,
      stream: false,
    })
    const id = paused.answer?.interrupts?.[0]?.interrupt_id as string
    assert.ok(id)
    const refused = await stack.invoke('', {
      sessionId,
      interruptResponses: [{ interrupt_id: id, response: 'no, not before the review' }],
    })
    assert.deepEqual(refused.answer?.tasks, [])
    assert.match(responseOf(refused), /did not approve .*not before the review/)
    assert.ok(refused.events.some((event) => event.type === 'tool_end' && event.status === 'error'))
  })

  test('a prompt while paused, an unknown answer and a malformed one are refused with codes, writing nothing', async () => {
    const runtime = await stack.startRuntime(APPROVALS)
    const sessionId = sessionIdFor('refusals')
    const paused = await stack.invoke('Train a model called fraud-v4 for 3 epochs', { sessionId })
    assert.equal(interruptEvents(paused.events).length, 1)
    const before = (await eventsOf(sessionId)).length
    const url = runtime.server.url
    const prompt = await post(url, sessionId, { prompt: 'hello?' })
    assert.deepEqual([prompt.status, prompt.body.error?.code], [400, 'INTERRUPT_PENDING'])
    const unknown = await post(url, sessionId, {
      interrupt_responses: [{ interrupt_id: 'nope', response: 'yes' }],
    })
    assert.deepEqual([unknown.status, unknown.body.error?.code], [404, 'INTERRUPT_NOT_FOUND'])
    for (const payload of [
      { interrupt_responses: [] },
      { interrupt_responses: [{ interrupt_id: 'x' }] },
      { interrupt_responses: [{ interrupt_id: 'x', response: null }] },
      { interrupt_responses: [{ interrupt_id: 'x', response: 'yes', extra: 1 }] },
      { interrupt_responses: 'yes' },
      { prompt: 'both', interrupt_responses: [{ interrupt_id: 'x', response: 'yes' }] },
    ]) {
      const malformed = await post(url, sessionId, payload)
      assert.deepEqual(
        [malformed.status, malformed.body.error?.code, malformed.body.error?.field],
        [400, 'INVALID_REQUEST', 'interrupt_responses'],
        JSON.stringify(payload),
      )
    }
    assert.equal((await eventsOf(sessionId)).length, before)
    // An answer in a session that never paused: the same 404.
    const fresh = await post(url, sessionIdFor('never-paused'), {
      interrupt_responses: [{ interrupt_id: 'nope', response: 'yes' }],
    })
    assert.equal(fresh.body.error?.code, 'INTERRUPT_NOT_FOUND')
  })
})
