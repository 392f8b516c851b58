import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { buildInvocationAgent, type InvocationAgent } from '../../src/agent/index.ts'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { encodeMessagePayload, validateConverseHistory } from '../../src/memory/index.ts'
import { startTestServer, TEST_TOKEN, tempDir, unreachableMcpUrl } from '../helpers/mcp-server.ts'
import { FAST_RETRY, useMemoryTestBed, writeEvent } from '../helpers/memory-session.ts'
import { ScriptedModel, textsOf } from '../helpers/scripted-model.ts'

describe('buildInvocationAgent (longrun/agent)', () => {
  const bed = useMemoryTestBed('agent_memory')
  let mcp: LongRunningMcpServer
  let dir: { path: string; remove(): Promise<void> }
  const built: InvocationAgent[] = []
  before(async () => {
    dir = await tempDir('longrun-agent-')
    mcp = await startTestServer(dir.path, { memoryClient: bed.env.data })
  })
  after(async () => {
    for (const agent of built) await agent.close()
    await mcp.close()
    await dir.remove()
  })

  const build = async (
    sessionId: string,
    model: ScriptedModel,
    options: { window?: number; mcpUrl?: string } = {},
  ) => {
    const agent = await buildInvocationAgent({
      model,
      memory: { memoryId: bed.memoryId, actorId: 'agent-user', sessionId, client: bed.client },
      mcp: { url: options.mcpUrl ?? mcp.url, bearerToken: TEST_TOKEN },
      ...(options.window !== undefined && { conversationWindow: options.window }),
      sessionManager: { retry: FAST_RETRY },
      logger: { warn: () => {} },
    })
    built.push(agent)
    return agent
  }

  test('a long session is restored into the conversation window: the first model call sees at most the window, from a user turn', async () => {
    const sessionId = 'long-session'
    const target = { memoryId: bed.memoryId, actorId: 'agent-user', sessionId }
    const start = Date.now() - 60_000
    for (let turn = 0; turn < 30; turn += 1) {
      for (const [offset, role, text] of [
        [0, 'user', `question ${turn}`],
        [1, 'assistant', `answer ${turn}`],
      ] as const) {
        const payload = encodeMessagePayload({ role, content: [{ text }] })
        if (payload)
          await writeEvent(bed.env, target, [payload], { timestamp: new Date(start + turn * 10 + offset) })
      }
    }
    const model = new ScriptedModel([{ text: 'the latest answer' }])
    const agent = await build(sessionId, model, { window: 10 })
    assert.ok(agent.agent.messages.length <= 10, `restored ${agent.agent.messages.length} messages`)
    await agent.agent.invoke('question 30')
    const [first] = model.calls
    assert.ok(first && first.length <= 11, `the model was sent ${first?.length} messages`)
    assert.equal(first?.[0]?.role, 'user')
    assert.deepEqual(validateConverseHistory(first ?? []), [])
    const texts = textsOf(first)
    assert.equal(texts.at(-1), 'question 30')
    assert.ok(
      texts.includes('answer 29') && !texts.includes('question 0'),
      'the newest turns are kept, the oldest dropped',
    )
  })

  test('the MCP tools are listed for the agent; a server that cannot be reached leaves a toolProblem, not a failure', async () => {
    const listed = await build('tools-listed', new ScriptedModel())
    assert.equal(listed.toolProblem, undefined)
    assert.ok(listed.agent.tools.some((tool) => tool.name === 'start_model_training'))
    const unreachable = await build('tools-down', new ScriptedModel(), { mcpUrl: await unreachableMcpUrl() })
    assert.match(unreachable.toolProblem ?? '', /cannot be used: ECONNREFUSED/)
    const result = await unreachable.agent.invoke('hello')
    assert.equal(result.stopReason, 'endTurn')
  })
})
