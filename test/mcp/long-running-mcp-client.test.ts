import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, describe, test } from 'node:test'
import { Agent, type MessageData } from '@strands-agents/sdk'
import {
  CompositeSessionHeaderError,
  LongRunningMcpClient,
  type LongRunningMcpClientConfig,
  McpClientConfigError,
  type ToolProgress,
} from '../../src/mcp/index.ts'
import { AgentCoreMemorySessionManager, validateConverseHistory } from '../../src/memory/index.ts'
import { listAllEvents, TEST_TOKEN, useMcpTestBed, waitFor } from '../helpers/mcp-server.ts'
import { ScriptedModel, type ScriptStep, textsOf } from '../helpers/scripted-model.ts'

/** The tool results in an agent's history: status and the texts of their content. */
function toolResults(messages: readonly { toJSON(): MessageData }[]) {
  return messages.flatMap((message) =>
    message.toJSON().content.flatMap((block) =>
      'toolResult' in block
        ? [
            {
              status: block.toolResult.status,
              text: block.toolResult.content
                .map((item) => ('text' in item ? item.text : JSON.stringify(item)))
                .join('\n'),
            },
          ]
        : [],
    ),
  )
}

describe('LongRunningMcpClient: a Strands agent calling the long-running MCP server', () => {
  // Epochs paced at 200 ms, heartbeats every 150 ms: a 15-epoch run takes about 3 s.
  const bed = useMcpTestBed(() => ({ epochDelayMs: 200, heartbeatIntervalMs: 150 }))
  const clients: LongRunningMcpClient[] = []
  const client = (config: Partial<LongRunningMcpClientConfig> = {}) => {
    const built = new LongRunningMcpClient({ url: bed.server.url, bearerToken: TEST_TOKEN, ...config })
    clients.push(built)
    return built
  }
  after(() => Promise.all(clients.map((each) => each.disconnect())))
  const agentWith = (tools: LongRunningMcpClient, turns: ScriptStep[], sessionManager?: object) => {
    const model = new ScriptedModel(turns)
    const agent = new Agent({
      model,
      tools: [tools],
      printer: false,
      ...(sessionManager ? { sessionManager: sessionManager as never } : {}),
    })
    return { model, agent }
  }
  const train = (toolUseId: string, epochs: number, name = 'model_training'): ScriptStep => ({
    toolUses: [{ name, toolUseId, input: { model_name: `run-${toolUseId}`, epochs } }],
  })

  test('a call three times longer than the idle timeout succeeds on progress, which reaches onProgress in order', async () => {
    const progress: ToolProgress[] = []
    const tools = client({ idleTimeoutMs: 1000, onProgress: (update) => progress.push(update) })
    const { agent, model } = agentWith(tools, [train('tu-long', 15), { text: 'trained' }])
    await agent.invoke('train a model')
    const [result] = toolResults(agent.messages)
    assert.equal(result?.status, 'success', result?.text)
    assert.match(result?.text ?? '', /"test_accuracy"/)
    assert.equal(model.calls.length, 2)
    // The tool's own progress is whole epochs; heartbeats ('still working') come in between.
    assert.deepEqual(
      progress.filter((update) => update.message?.startsWith('epoch')).map((update) => update.progress),
      Array.from({ length: 15 }, (_, i) => i + 1),
    )
    assert.ok(progress.every((update) => update.tool === 'model_training'))
  })

  test('a call silent for longer than the idle timeout ends as a tool error, and the agent goes on', async () => {
    const tools = client({ idleTimeoutMs: 60 })
    const { agent, model } = agentWith(tools, [train('tu-silent', 15), { text: 'it timed out' }])
    await agent.invoke('train a model')
    const [result] = toolResults(agent.messages)
    assert.equal(result?.status, 'error')
    assert.match(result?.text ?? '', /timed out/i)
    assert.equal(model.calls.length, 2)
  })

  test('maxCallMs ends a call that keeps reporting progress, and the server cancels the task', async () => {
    // A caller of its own (the composite header names its memory), so its tasks are its alone.
    const memory = { sessionId: 'capped-session', memoryId: bed.memoryId, actorId: 'capped-user' }
    const tools = client({ idleTimeoutMs: 1000, maxCallMs: 700, memory })
    const { agent } = agentWith(tools, [train('tu-capped', 15), { text: 'too long' }])
    await agent.invoke('train a model')
    const [result] = toolResults(agent.messages)
    assert.equal(result?.status, 'error')
    assert.match(result?.text ?? '', /ran longer than maxCallMs \(700 ms\)/)
    // An inline call is no background task (list_tasks does not show it): read its row itself.
    const task = await waitFor(async () => {
      const db = new DatabaseSync(join(bed.dataDir, 'mcp-tasks.sqlite'), { readOnly: true })
      try {
        const rows = db
          .prepare("SELECT status FROM tasks WHERE owner = ? AND mode = 'inline'")
          .all(memory.actorId) as { status: string }[]
        return rows.length === 1 && rows[0]?.status !== 'working' ? rows[0] : undefined
      } finally {
        db.close()
      }
    })
    assert.equal(task.status, 'cancelled')
  })

  test("the composite header names the caller's memory: a background task's result lands in the session, and the next agent sees it", async () => {
    const memory = { sessionId: 'client-session-1', memoryId: bed.memoryId, actorId: 'client-user-1' }
    const session = () =>
      new AgentCoreMemorySessionManager({ ...memory, client: bed.env.data, logger: { warn: () => {} } })
    const first = agentWith(
      client({ memory }),
      [train('tu-bg', 3, 'start_model_training'), { text: 'Training started; I will tell you.' }],
      session(),
    )
    await first.agent.invoke('train a model in the background')
    const [started] = toolResults(first.agent.messages)
    assert.equal(started?.status, 'success', started?.text)
    const taskId = /Started task ([A-Za-z0-9_-]+)/.exec(started?.text ?? '')?.[1]
    assert.ok(taskId, started?.text)
    const resultText = `task ${taskId} (tool model_training) completed`
    await waitFor(async () => {
      const events = await listAllEvents(bed.env.data, memory.memoryId, memory.actorId, memory.sessionId)
      return events.some((event) => event.text.includes(resultText)) ? events : undefined
    })

    // Later, a new agent for the same session: the result is in the history the model receives.
    const later = agentWith(client({ memory }), [{ text: 'Your model is ready.' }], session())
    await later.agent.invoke('is my model ready?')
    const sent = later.model.calls[0]
    const texts = textsOf(sent)
    assert.ok(
      texts.some((text) => text.includes(resultText)),
      'the delivered result reaches the model',
    )
    assert.ok(texts.some((text) => text.includes('test_accuracy')))
    assert.deepEqual(validateConverseHistory(sent ?? []), [])
  })

  test('a wrong token is refused by the server when the agent lists its tools', async () => {
    const tools = client({ bearerToken: 'not-the-token' })
    const { agent } = agentWith(tools, [{ text: 'unreachable' }])
    await assert.rejects(agent.invoke('hello'), /invalid bearer token/)
  })
})

describe('LongRunningMcpClient: configuration', () => {
  const url = 'http://127.0.0.1:9/mcp'
  const refused = (config: Partial<LongRunningMcpClientConfig>, field: string) =>
    assert.throws(
      () => new LongRunningMcpClient({ url, ...config }),
      (error: unknown) => error instanceof McpClientConfigError && error.field === field,
      field,
    )

  test('names the field that is wrong, before any request', () => {
    refused({ url: 'not a url' }, 'url')
    refused({ url: 'ftp://example.com/mcp' }, 'url')
    refused({ idleTimeoutMs: 0 }, 'idleTimeoutMs')
    refused({ maxCallMs: 1.5 }, 'maxCallMs')
    refused({ bearerToken: 'two\nlines' }, 'bearerToken')
    refused({ headers: { 'Mcp-Session-Id': 'mine' } }, 'headers')
    refused({ headers: { 'x-trace': 'one\r\ntwo' } }, 'headers')
    refused({ headers: { 'bad name': 'x' } }, 'headers')
    refused({ headers: { Authorization: 'Bearer a' }, bearerToken: 'b' }, 'headers')
    refused({ tasksConfig: {} } as Partial<LongRunningMcpClientConfig>, 'tasksConfig')
  })

  test('refuses memory ids that break the service rules, naming the part', () => {
    assert.throws(
      () =>
        new LongRunningMcpClient({
          url,
          memory: { sessionId: 'session-1', memoryId: 'client_memory-0123456789', actorId: 'bad actor!' },
        }),
      (error: unknown) =>
        error instanceof CompositeSessionHeaderError &&
        error.code === 'INVALID_COMPOSITE_SESSION_HEADER' &&
        error.field === 'actorId',
    )
  })
})
