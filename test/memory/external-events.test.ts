import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { Agent, type MessageData, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  type EventPayloadItem,
  userTextEventPayload,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import {
  captureLogger,
  FAST_RETRY,
  listAllEvents,
  managerClient,
  messagePayloads,
  writeEvent,
} from '../helpers/memory-session.ts'
import { ScriptedModel, type ScriptedTurn } from '../helpers/scripted-model.ts'

const ACTOR = 'actor:tenant/alice'

let env: LocalAgentCoreFixture
let client: BedrockAgentCoreClient
let memoryId: string
let counter = 0

before(async () => {
  env = await startLocalAgentCore()
  client = managerClient(env)
  memoryId = await env.createMemory('external_event_tests')
})

after(async () => {
  client.destroy()
  await env[Symbol.asyncDispose]()
})

function setup(extra: Partial<AgentCoreMemorySessionManagerConfig> = {}) {
  const sessionId = `ext-${process.pid}-${++counter}`
  const target = { memoryId, actorId: ACTOR, sessionId }
  const build = (turns: ScriptedTurn[], tools: Parameters<typeof tool>[0][] = []) => {
    const sessionManager = new AgentCoreMemorySessionManager({
      ...target,
      client,
      retry: FAST_RETRY,
      externalSyncMinIntervalMs: 0,
      logger: captureLogger(),
      ...extra,
    })
    const model = new ScriptedModel(turns)
    return {
      model,
      sessionManager,
      agent: new Agent({ model, tools: tools.map((spec) => tool(spec)), sessionManager, printer: false }),
    }
  }
  return { sessionId, target, build }
}

/** Every text the model was sent in one call, in order (text blocks and text inside tool results). */
function textsOf(call: MessageData[] | undefined): string[] {
  return (call ?? []).flatMap((message) =>
    message.content.flatMap((block) => {
      if ('text' in block) return [block.text]
      if ('toolResult' in block)
        return block.toolResult.content.flatMap((item) => ('text' in item ? [item.text] : []))
      return []
    }),
  )
}

const count = (texts: readonly string[], needle: string) =>
  texts.filter((text) => text.includes(needle)).length

const PAYLOADS: [string, (text: string) => EventPayloadItem][] = [
  ['seed format', userTextEventPayload],
  ['plain text', (text) => ({ conversational: { content: { text }, role: 'USER' } })],
]

describe('events written outside the agent', () => {
  for (const [format, payloadOf] of PAYLOADS) {
    it(`reach the first model call of a new agent once (${format})`, async () => {
      const { target, sessionId, build } = setup()
      const first = build([{ text: 'I started the training task' }])
      await first.agent.invoke('train the model')
      await writeEvent(env, target, [payloadOf('Task train-7 finished: accuracy 0.93')])

      const second = build([{ text: 'It reached 0.93' }, { text: 'anything else?' }])
      await second.agent.invoke('how did it go?')
      const sent = second.model.calls[0]
      assert.deepEqual(validateConverseHistory(sent ?? []), [])
      assert.deepEqual(textsOf(sent), [
        'train the model',
        'I started the training task',
        'Task train-7 finished: accuracy 0.93',
        'how did it go?',
      ])
      await second.agent.invoke('thanks')
      assert.equal(count(textsOf(second.model.calls[1]), 'train-7'), 1)
      // The agent never wrote the external event again.
      const stored = messagePayloads(await listAllEvents(env, memoryId, ACTOR, sessionId)).map((item) =>
        JSON.stringify(item),
      )
      assert.equal(count(stored, 'train-7'), 1)
    })

    it(`reach the next model call within the same long invocation, once, when a tool writes them (${format})`, async () => {
      const { target, sessionId, build } = setup()
      const startTask = {
        name: 'start_task',
        description: 'Starts a task whose result arrives as a USER event in the session',
        inputSchema: z.object({ id: z.string() }),
        callback: async (input: { id: string }) => {
          // The task "finishes" while the tool is still running: its result is written into the session.
          await writeEvent(env, target, [payloadOf(`Result of ${input.id}: 42 rows`)])
          return `started ${input.id}`
        },
      }
      const check = {
        name: 'check',
        description: 'Checks',
        inputSchema: z.object({}),
        callback: () => 'checked',
      }
      const { agent, model } = build(
        [
          { toolUses: [{ name: 'start_task', toolUseId: 'tu-1', input: { id: 'job-1' } }] },
          { toolUses: [{ name: 'check', toolUseId: 'tu-2', input: {} }] },
          { text: 'job-1 produced 42 rows' },
        ],
        [startTask as never, check as never],
      )
      await agent.invoke('run job-1 and tell me the result')
      assert.equal(model.calls.length, 3)
      assert.equal(count(textsOf(model.calls[0]), 'Result of job-1'), 0)
      assert.equal(count(textsOf(model.calls[1]), 'Result of job-1'), 1)
      assert.equal(count(textsOf(model.calls[2]), 'Result of job-1'), 1)
      for (const call of model.calls) assert.deepEqual(validateConverseHistory(call), [])
      // Own messages are never appended back by the sync either.
      assert.equal(count(textsOf(model.calls[2]), 'run job-1'), 1)
      assert.equal(count(textsOf(model.calls[2]), 'started job-1'), 1)

      const stored = messagePayloads(await listAllEvents(env, memoryId, ACTOR, sessionId)).map((item) =>
        JSON.stringify(item),
      )
      assert.equal(count(stored, 'Result of job-1'), 1)
      const restored = build([{ text: 'yes' }])
      await restored.agent.invoke('still there?')
      const texts = textsOf(restored.model.calls[0])
      assert.equal(count(texts, 'Result of job-1'), 1)
      assert.equal(count(texts, 'run job-1'), 1)
      assert.deepEqual(validateConverseHistory(restored.model.calls[0] ?? []), [])
    })
  }

  it('picks up an event whose timestamp is a little older than the newest one seen (writer clock skew)', async () => {
    const { target, build } = setup()
    const late = {
      name: 'late',
      description: 'Writes an event stamped in the past',
      inputSchema: z.object({}),
      callback: async () => {
        await writeEvent(env, target, [userTextEventPayload('skewed note')], {
          timestamp: new Date(Date.now() - 3_000),
        })
        return 'written'
      },
    }
    const { agent, model } = build(
      [{ toolUses: [{ name: 'late', toolUseId: 'tu-l', input: {} }] }, { text: 'seen' }],
      [late as never],
    )
    await agent.invoke('write a late note')
    assert.equal(count(textsOf(model.calls[1]), 'skewed note'), 1)
  })

  it('reads outside events only when the agent is built when configured so, with no reads before model calls', async () => {
    const { target, build } = setup({ syncExternalEvents: 'onInit' })
    const writer = {
      name: 'writer',
      description: 'Writes',
      inputSchema: z.object({}),
      callback: async () => {
        await writeEvent(env, target, [userTextEventPayload('later news')])
        return 'done'
      },
    }
    const { agent, model } = build(
      [{ toolUses: [{ name: 'writer', toolUseId: 'tu-w', input: {} }] }, { text: 'ok' }],
      [writer as never],
    )
    env.service.faults.resetCounts()
    await agent.invoke('go')
    assert.equal(env.service.faults.counts().ListEvents?.calls, 1)
    assert.equal(count(textsOf(model.calls[1]), 'later news'), 0)
    const next = build([{ text: 'ok' }])
    await next.agent.invoke('and now?')
    assert.equal(count(textsOf(next.model.calls[0]), 'later news'), 1)
  })
})
