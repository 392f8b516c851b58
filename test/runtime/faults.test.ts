import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import { normalizeConverseHistory, validateConverseHistory } from '../../src/memory/index.ts'
import { parseRuntimeStream, type RuntimeStreamEvent, SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import { stopServiceProcess } from '../helpers/child-process.ts'
import { waitFor } from '../helpers/local-agentcore.ts'
import { startTestServer, tempDir, unreachableMcpUrl } from '../helpers/mcp-server.ts'
import {
  responseOf,
  sessionIdFor,
  storedMessages,
  streamTurn,
  useRuntimeStack,
} from '../helpers/runtime-stack.ts'

describe('faults at the runtime: the invocation goes on or fails clearly, and memory stays usable', () => {
  // Epochs of 150 ms: a 40-epoch inline run lasts about 6 s, long enough to interrupt.
  const stack = useRuntimeStack({ epochDelayMs: 150 })
  const bedrock = () => ({
    MODEL_PROVIDER: 'bedrock',
    BEDROCK_MODEL_ID: 'global.anthropic.claude-sonnet-4-6',
    BEDROCK_ENDPOINT: stack.env.service.url,
  })
  const storedHistory = (actorId: string, sessionId: string) => storedMessages(stack, actorId, sessionId)

  test('an MCP server that is down gives the model a clear tool error and the invocation answers', async () => {
    const dir = await tempDir('longrun-flaky-mcp-')
    const flaky = await startTestServer(dir.path, { memoryClient: stack.env.data })
    try {
      await stack.startRuntime({ MCP_SERVER_URL: flaky.url })
      const sessionId = sessionIdFor('mcp-down')
      const listed = await stack.invoke('list my tasks', { sessionId })
      assert.match(responseOf(listed), /You have no tasks/)
      await flaky.close()
      const refused = await stack.invoke('Train a model called offline-1 for 3 epochs', { sessionId })
      const end = refused.events.find((event) => event.type === 'tool_end')
      assert.equal(end?.type === 'tool_end' && end.status, 'error')
      assert.match(
        responseOf(refused),
        /The tool start_model_training failed: .*cannot be used: ECONNREFUSED/,
      )
      assert.deepEqual(refused.answer?.tasks, [])
      const after = await stack.invoke('what is the status of my task', { sessionId })
      assert.match(responseOf(after), /You have not started a task/, 'the conversation goes on')
    } finally {
      await dir.remove()
    }
  })

  test('with no MCP server ever reached, the agent says the tools are unavailable', async () => {
    await stack.startRuntime({ MCP_SERVER_URL: await unreachableMcpUrl() })
    const outcome = await stack.invoke('Train a model called nowhere for 3 epochs', {
      sessionId: sessionIdFor('mcp-never'),
    })
    assert.match(responseOf(outcome), /start_model_training, but it is not available right now/)
  })

  test('a model that keeps failing is a MODEL_ERROR (502, or an error event), and the next turn restores a valid history', async () => {
    const runtime = await stack.startRuntime(bedrock())
    const sessionId = sessionIdFor('model-fails')
    const post = (prompt: string, stream: boolean) =>
      fetch(`${runtime.server.url}/invocations`, {
        method: 'POST',
        headers: { [SESSION_ID_HEADER]: sessionId, ...(stream && { accept: 'text/event-stream' }) },
        body: JSON.stringify({ prompt }),
      })
    stack.env.service.faults.set({ ConverseStream: { errorRate: 1 } })
    try {
      const failed = await post('list my tasks', false)
      assert.equal(failed.status, 502)
      assert.equal(((await failed.json()) as { error: { code: string } }).error.code, 'MODEL_ERROR')
      const streamed = await post('list my tasks again', true)
      assert.equal(streamed.status, 200)
      const events: RuntimeStreamEvent[] = []
      for await (const event of parseRuntimeStream(streamed.body as AsyncIterable<Uint8Array>))
        events.push(event)
      assert.deepEqual(
        events.map((event) => event.type),
        ['error'],
      )
      assert.equal(events[0]?.type === 'error' && events[0].code, 'MODEL_ERROR')
    } finally {
      stack.env.service.faults.set({})
    }
    // The local Converse endpoint refuses, as Bedrock does, a history that breaks Converse's rules.
    const recovered = await post('list my tasks', false)
    assert.equal(recovered.status, 200)
    assert.match(((await recovered.json()) as { response: string }).response, /You have no tasks/)
    assert.deepEqual(
      validateConverseHistory(normalizeConverseHistory(await storedHistory('default', sessionId))),
      [],
    )
  })

  test('a runtime killed mid-tool leaves a history the next process restores and Converse accepts', async () => {
    const first = await stack.startRuntimeProcess(bedrock())
    const sessionId = sessionIdFor('killed-mid-tool')
    await streamTurn(first.url, sessionId, 'Train a model called doomed for 40 epochs and wait for it')
      .midTool
    await stopServiceProcess(first, 'SIGKILL')
    const stored = await storedHistory('default', sessionId)
    assert.ok(
      stored.at(-1)?.content.some((block) => block.type === 'toolUseBlock'),
      'the call was stored before the tool ran, and its result never was',
    )
    await stack.startRuntimeProcess(bedrock())
    // The next turn's model call (Converse, which refuses a broken history) answers: the inline
    // call that was cut off is no background task, so none is listed.
    const after = await stack.invoke('list my tasks', { sessionId })
    assert.match(responseOf(after), /You have no tasks/)
  })

  test('a caller that goes away mid-turn does not lose the answer: the turn ends and is stored', async () => {
    const runtime = await stack.startRuntime()
    const sessionId = sessionIdFor('caller-leaves')
    const leave = new AbortController()
    const prompt = 'Train a model called unwatched for 6 epochs and wait for it'
    await streamTurn(runtime.server.url, sessionId, prompt, leave.signal).midTool
    leave.abort()
    assert.ok(runtime.server.running > 0, 'the turn still runs')
    await waitFor(() => runtime.server.running === 0, 15_000, 'the turn to finish')
    const stored = await storedHistory('default', sessionId)
    const last = stored.at(-1)
    assert.equal(last?.role, 'assistant')
    assert.match(
      last?.content[0]?.type === 'textBlock' ? last.content[0].text : '',
      /Training finished\. Model unwatched/,
    )
  })

  test('with RUNTIME_ON_DISCONNECT=abort the turn stops when the caller goes away, and its task is cancelled', async () => {
    const runtime = await stack.startRuntime({ RUNTIME_ON_DISCONNECT: 'abort' })
    const sessionId = sessionIdFor('caller-aborts')
    const leave = new AbortController()
    const prompt = 'Train a model called abandoned for 40 epochs and wait for it'
    await streamTurn(runtime.server.url, sessionId, prompt, leave.signal).midTool
    leave.abort()
    await waitFor(() => runtime.server.running === 0, 15_000, 'the turn to stop')
    const stored = await storedHistory('default', sessionId)
    assert.ok(!JSON.stringify(stored.map((message) => message.toJSON())).includes('Training finished'))
    assert.deepEqual(validateConverseHistory(normalizeConverseHistory(stored)), [])
    // The call ran inline (list_tasks shows background tasks only): its row says how it ended.
    const db = new DatabaseSync(join(stack.dataDir, 'mcp-tasks.sqlite'), { readOnly: true })
    try {
      const rows = db
        .prepare(
          "SELECT status FROM tasks WHERE owner = 'default' AND mode = 'inline' AND input LIKE '%abandoned%'",
        )
        .all() as { status: string }[]
      assert.deepEqual(
        rows.map((row) => row.status),
        ['cancelled'],
      )
    } finally {
      db.close()
    }
  })
})
