import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { normalizeConverseHistory, validateConverseHistory } from '../../src/memory/index.ts'
import { waitFor } from '../helpers/local-agentcore.ts'
import { sessionIdFor, storedMessages, streamTurn, useRuntimeStack } from '../helpers/runtime-stack.ts'

describe('SIGTERM: the runtime stops taking invocations, lets running ones finish, and flushes memory', () => {
  // Epochs of 100 ms.
  const stack = useRuntimeStack({ epochDelayMs: 100 })

  test('a running turn finishes within the grace period, new ones are refused, and the process exits 0', async () => {
    const child = await stack.startRuntimeProcess()
    const sessionId = sessionIdFor('drain-finishes')
    const turn = streamTurn(
      child.url,
      sessionId,
      'Train a model called draining for 12 epochs and wait for it',
    )
    await turn.midTool
    const exited = once(child.process, 'exit') as Promise<[number | null]>
    child.process.kill('SIGTERM')
    // Once the signal has reached the process, a new invocation is refused (asked until it is).
    const attempt = () =>
      fetch(`${child.url}/invocations`, { method: 'POST', body: JSON.stringify({ prompt: 'hi' }) }).then(
        async (response) => ((await response.json()) as { error?: { code: string } }).error?.code,
        (error: Error & { cause?: { code?: string } }) => error.cause?.code,
      )
    const late = await waitFor(
      async () => {
        const code = await attempt()
        return code === 'SHUTTING_DOWN' || code === 'ECONNREFUSED' ? code : undefined
      },
      10_000,
      'a new invocation to be refused',
    )
    assert.ok(late === 'SHUTTING_DOWN' || late === 'ECONNREFUSED', `a new invocation is refused (${late})`)
    const done = (await turn.ended).at(-1)
    assert.equal(done?.type, 'done')
    assert.match(done?.type === 'done' ? done.response : '', /Training finished\. Model draining/)
    const [code] = await exited
    assert.equal(code, 0)
    const stored = await storedMessages(stack, 'default', sessionId)
    assert.equal(stored.at(-1)?.role, 'assistant', 'the answer was flushed to memory before exit')
  })

  test('past the grace period the turn is stopped with a SHUTTING_DOWN event, and what was said is stored validly', async () => {
    const child = await stack.startRuntimeProcess({ RUNTIME_SHUTDOWN_GRACE_MS: '300' })
    const sessionId = sessionIdFor('drain-aborts')
    const turn = streamTurn(
      child.url,
      sessionId,
      'Train a model called too-long for 100 epochs and wait for it',
    )
    await turn.midTool
    const exited = once(child.process, 'exit') as Promise<[number | null]>
    child.process.kill('SIGTERM')
    const last = (await turn.ended).at(-1)
    assert.equal(last?.type === 'error' && last.code, 'SHUTTING_DOWN')
    const [code] = await exited
    assert.equal(code, 0)
    const stored = await storedMessages(stack, 'default', sessionId)
    assert.ok(stored.length >= 2, 'the prompt and the tool call are stored')
    assert.deepEqual(validateConverseHistory(normalizeConverseHistory(stored)), [])
  })
})
