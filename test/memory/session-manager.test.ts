import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  BatchCreateMemoryRecordsCommand,
  type BedrockAgentCoreClient,
} from '@aws-sdk/client-bedrock-agentcore'
import { Agent, ImageBlock, type MessageData, TextBlock, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  MemoryConfigError,
  type MemorySessionError,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import {
  captureLogger,
  FAST_RETRY,
  listAllEvents,
  managerClient,
  messagePayloads,
  waitFor,
} from '../helpers/memory-session.ts'
import { ScriptedModel, type ScriptedTurn, textOf } from '../helpers/scripted-model.ts'

const ACTOR = 'user-1'
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 250])

let env: LocalAgentCoreFixture
let client: BedrockAgentCoreClient
let memoryId: string
let sessionCounter = 0

before(async () => {
  env = await startLocalAgentCore()
  client = managerClient(env)
  memoryId = await env.createMemory('session_manager_tests')
})

after(async () => {
  client.destroy()
  await env[Symbol.asyncDispose]()
})

const newSessionId = () => `session-${process.pid}-${++sessionCounter}`

function manager(sessionId: string, extra: Partial<AgentCoreMemorySessionManagerConfig> = {}) {
  return new AgentCoreMemorySessionManager({
    memoryId,
    sessionId,
    actorId: ACTOR,
    client,
    retry: FAST_RETRY,
    externalSyncMinIntervalMs: 0,
    logger: captureLogger(),
    ...extra,
  })
}

const addTool = tool({
  name: 'add',
  description: 'Adds two numbers and counts the calls in agent state',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  callback: (input, context) => {
    const calls = (context?.agent.appState.get('calls') as number | undefined) ?? 0
    context?.agent.appState.set('calls', calls + 1)
    return `${input.a + input.b}`
  },
})

function agentWith(
  sessionManager: AgentCoreMemorySessionManager,
  turns: ScriptedTurn[],
  tools: object[] = [addTool],
) {
  const model = new ScriptedModel(turns)
  return { model, agent: new Agent({ model, tools: tools as never, sessionManager, printer: false }) }
}

const plain = (messages: readonly { toJSON(): MessageData }[]) =>
  messages.map((message) => {
    const { role, content } = message.toJSON()
    return { role, content }
  })

describe('AgentCoreMemorySessionManager: round trips', () => {
  it('restores text, toolUse/toolResult, image bytes, a 100k+ message and agent state into a new agent', async () => {
    const sessionId = newSessionId()
    const first = agentWith(manager(sessionId), [
      { toolUses: [{ name: 'add', toolUseId: 'tu-1', input: { a: 2, b: 3 } }] },
      { text: 'the sum is 5' },
      { text: 'x'.repeat(120_000) },
    ])
    await first.agent.invoke([
      new TextBlock('what is 2+3? see picture'),
      new ImageBlock({ format: 'png', source: { bytes: PNG } }),
    ])
    await first.agent.invoke('now write a long essay')
    assert.equal(first.agent.appState.get('calls'), 1)

    const second = agentWith(manager(sessionId), [])
    await second.agent.initialize()
    assert.deepEqual(plain(second.agent.messages), plain(first.agent.messages))
    assert.equal(second.agent.appState.get('calls'), 1)
    const image = second.agent.messages[0]?.content[1]
    assert.ok(image instanceof ImageBlock)
    assert.deepEqual((image.source as { bytes: Uint8Array }).bytes, PNG)
    assert.deepEqual(validateConverseHistory(second.agent.messages), [])
  })

  it('writes a one-tool turn of a new session in two CreateEvent calls: before the tool and at the end, state riding along', async () => {
    const sessionId = newSessionId()
    env.service.faults.resetCounts()
    const { agent } = agentWith(manager(sessionId, { externalSyncMinIntervalMs: 60_000 }), [
      { toolUses: [{ name: 'add', toolUseId: 'tu-1', input: { a: 1, b: 1 } }] },
      { text: '2' },
    ])
    await agent.invoke('1+1?')
    const counts = env.service.faults.counts()
    assert.equal(counts.CreateEvent?.calls, 2)
    assert.equal(counts.ListEvents?.calls, 1)
    const events = await listAllEvents(env, memoryId, ACTOR, sessionId)
    // The SESSION state leads the event written before the tool, the AGENT state the one at the end.
    assert.deepEqual(
      events.map((event) => [
        event.metadata?.stateType?.stringValue,
        event.metadata?.agentId?.stringValue,
        event.payload?.length,
      ]),
      [
        ['SESSION', undefined, 3],
        ['AGENT', 'agent', 3],
      ],
    )
    assert.equal(messagePayloads(events).length, 4)

    // The next turn of the same session writes one event and no state unless the state changed.
    env.service.faults.resetCounts()
    const next = agentWith(manager(sessionId, { externalSyncMinIntervalMs: 60_000 }), [{ text: 'hi again' }])
    await next.agent.invoke('hello')
    assert.equal(env.service.faults.counts().CreateEvent?.calls, 1)
    const last = (await listAllEvents(env, memoryId, ACTOR, sessionId)).at(-1)
    assert.equal(last?.metadata, undefined)
    assert.equal(last?.payload?.length, 2)
  })

  it('keeps the toolUse in memory before the tool runs', async () => {
    const sessionId = newSessionId()
    let storedWhileToolRan: unknown[] = []
    const probe = tool({
      name: 'probe',
      description: 'Reads the session while running',
      inputSchema: z.object({}),
      callback: async () => {
        storedWhileToolRan = messagePayloads(await listAllEvents(env, memoryId, ACTOR, sessionId))
        return 'ok'
      },
    })
    const { agent } = agentWith(
      manager(sessionId),
      [{ toolUses: [{ name: 'probe', toolUseId: 'tu-p', input: {} }] }, { text: 'done' }],
      [probe],
    )
    await agent.invoke('probe please')
    const texts = storedWhileToolRan.map((item) => JSON.stringify(item))
    assert.equal(texts.length, 2)
    assert.match(texts[0] as string, /probe please/)
    assert.match(texts[1] as string, /tu-p/)
  })

  it('writes nothing when persistence is off but still restores', async () => {
    const sessionId = newSessionId()
    const seeded = agentWith(manager(sessionId), [{ text: 'stored answer' }])
    await seeded.agent.invoke('stored question')
    env.service.faults.resetCounts()
    const readOnly = agentWith(manager(sessionId, { persist: false }), [{ text: 'not stored' }])
    await readOnly.agent.invoke('not stored either')
    assert.equal(env.service.faults.counts().CreateEvent, undefined)
    assert.equal(textOf(readOnly.model.calls[0]?.[0]), 'stored question')
  })

  it('flushes on the configured interval while an invocation is still running', async () => {
    const sessionId = newSessionId()
    const sessionManager = manager(sessionId, { flushIntervalMs: 10 })
    let flushedDuringTool = 0
    const waitForFlush = tool({
      name: 'wait_for_flush',
      description: 'Waits until the timer has written the buffered prompt',
      inputSchema: z.object({}),
      callback: async () => {
        await waitFor(
          async () => messagePayloads(await listAllEvents(env, memoryId, ACTOR, sessionId)).length >= 3,
        )
        flushedDuringTool = messagePayloads(await listAllEvents(env, memoryId, ACTOR, sessionId)).length
        return 'seen'
      },
    })
    const { agent, model } = agentWith(sessionManager, [{ text: 'first answer' }], [waitForFlush])
    await agent.invoke('first')
    // The prompt of the second turn is buffered at once; a tool holds the invocation open until the timer wrote it.
    model.push({ toolUses: [{ name: 'wait_for_flush', toolUseId: 'tu-w', input: {} }] }, { text: 'bye' })
    await agent.invoke('second')
    await sessionManager.close()
    assert.ok(flushedDuringTool >= 3)
    assert.equal(messagePayloads(await listAllEvents(env, memoryId, ACTOR, sessionId)).length, 6)
  })
})

describe('AgentCoreMemorySessionManager: lifecycle', () => {
  it('writes the messages an agent was built with into a new session on close, then refuses new messages', async () => {
    const sessionId = newSessionId()
    const sessionManager = manager(sessionId)
    const agent = new Agent({
      model: new ScriptedModel([]),
      sessionManager,
      printer: false,
      messages: [
        { role: 'user', content: [{ text: 'seeded question' }] },
        { role: 'assistant', content: [{ text: 'seeded answer' }] },
      ],
    })
    await agent.initialize()
    assert.equal(sessionManager.pendingWrites, 2)
    await sessionManager.close()
    assert.equal(sessionManager.pendingWrites, 0)
    const restored = agentWith(manager(sessionId), [])
    await restored.agent.initialize()
    assert.deepEqual(
      restored.agent.messages.map((message) => textOf(message.toJSON())),
      ['seeded question', 'seeded answer'],
    )
    await assert.rejects(
      agent.invoke('after close'),
      (error: unknown) => (error as MemorySessionError).code === 'CLOSED',
    )
  })

  it('serves one agent only', async () => {
    const sessionManager = manager(newSessionId())
    await agentWith(sessionManager, []).agent.initialize()
    await assert.rejects(
      agentWith(sessionManager, []).agent.initialize(),
      (error: unknown) => (error as MemorySessionError).code === 'ALREADY_ATTACHED',
    )
  })
})

describe('AgentCoreMemorySessionManager: configuration', () => {
  it('rejects bad configuration with a MemoryConfigError naming the field, before any call', async () => {
    let calls = 0
    const countingClient = { send: async () => ++calls }
    const base = { memoryId, sessionId: 'ok-session', actorId: ACTOR, client: countingClient }
    const cases: [Partial<AgentCoreMemorySessionManagerConfig>, string][] = [
      [{ memoryId: 'no' }, 'memoryId'],
      [{ sessionId: 'has@at' }, 'sessionId'],
      [{ actorId: '' }, 'actorId'],
      [{ batchSize: 101 }, 'batchSize'],
      [{ batchSize: 0 }, 'batchSize'],
      [{ flushIntervalMs: -1 }, 'flushIntervalMs'],
      [{ contextTag: 'bad tag>' }, 'contextTag'],
      [{ defaultMetadata: { stateType: 'X' } }, 'defaultMetadata.stateType'],
      [{ defaultMetadata: { team: 'a'.repeat(300) } }, 'defaultMetadata.team'],
      [{ retrieval: { '/facts/*': {} } }, 'retrieval["/facts/*"]'],
      [{ retrieval: { '/facts': { relevanceScore: 2 } } }, 'retrieval["/facts"].relevanceScore'],
      [{ syncExternalEvents: 'sometimes' as never }, 'syncExternalEvents'],
    ]
    for (const [override, field] of cases) {
      assert.throws(
        () => new AgentCoreMemorySessionManager({ ...base, ...override }),
        (error: unknown) =>
          error instanceof MemoryConfigError && error.code === 'INVALID_CONFIG' && error.field === field,
        field,
      )
    }
    assert.equal(calls, 0)
    const accepted = new AgentCoreMemorySessionManager({ ...base, sessionId: 'Mixed_Case-Session-1' })
    assert.equal(accepted.sessionId, 'Mixed_Case-Session-1')
  })

  it('puts default metadata on every event, beside the state keys of state events', async () => {
    const sessionId = newSessionId()
    const { agent } = agentWith(manager(sessionId, { defaultMetadata: { team: 'research' } }), [
      { text: 'a' },
    ])
    await agent.invoke('q')
    agent.appState.set('mood', 'good')
    await agent.invoke('q2')
    const events = await listAllEvents(env, memoryId, ACTOR, sessionId)
    assert.ok(events.length >= 2)
    for (const event of events) {
      assert.deepEqual(event.metadata?.team, { stringValue: 'research' })
      if (event.metadata?.stateType?.stringValue === 'AGENT')
        assert.equal(event.metadata.agentId?.stringValue, 'agent')
    }
  })
})

describe('AgentCoreMemorySessionManager: long-term memory', () => {
  it('prepends relevant records in the context tag to the model call only', async () => {
    const sessionId = newSessionId()
    await env.data.send(
      new BatchCreateMemoryRecordsCommand({
        memoryId,
        records: [
          {
            requestIdentifier: 'r1',
            namespaces: [`/users/${ACTOR}/facts`],
            content: { text: 'The user prefers metric units' },
            timestamp: new Date(),
          },
          {
            requestIdentifier: 'r2',
            namespaces: [`/users/${ACTOR}/facts`],
            content: { text: 'The user lives in Lyon' },
            timestamp: new Date(),
          },
          {
            requestIdentifier: 'r3',
            namespaces: ['/users/someone-else/facts'],
            content: { text: 'Other user prefers units' },
            timestamp: new Date(),
          },
        ],
      }),
    )
    const sessionManager = manager(sessionId, {
      retrieval: { '/users/{actorId}/facts': { topK: 5, relevanceScore: 0.01 } },
      contextTag: 'memory',
    })
    const { agent, model } = agentWith(sessionManager, [{ text: 'noted' }])
    await agent.invoke('which units do I prefer?')
    const sent = model.calls[0]?.at(-1)
    assert.equal(sent?.content.length, 2)
    const contextText = textOf({ role: 'user', content: [sent?.content[0] as never] })
    assert.match(contextText, /^<memory>The user prefers metric units<\/memory>$/)
    assert.equal(textOf({ role: 'user', content: [sent?.content[1] as never] }), 'which units do I prefer?')
    // Not in the agent's history, not in the stored event.
    assert.equal(agent.messages[0]?.content.length, 1)
    const stored = JSON.stringify(messagePayloads(await listAllEvents(env, memoryId, ACTOR, sessionId)))
    assert.doesNotMatch(stored, /metric/)
  })
})

describe('AgentCoreMemorySessionManager: guardrail redaction', () => {
  it('replaces the stored user message when a guardrail redacts it (buffered and already written)', async () => {
    for (const batchSize of [100, 1]) {
      const sessionId = newSessionId()
      const { agent } = agentWith(manager(sessionId, { batchSize }), [
        { text: 'ok' },
        { text: 'I cannot help with that', redactInput: '[User input redacted.]' },
      ])
      await agent.invoke('harmless question')
      await agent.invoke('my card number is 4111 1111')
      const events = await listAllEvents(env, memoryId, ACTOR, sessionId)
      const stored = JSON.stringify(messagePayloads(events))
      assert.doesNotMatch(stored, /4111/, `batchSize ${batchSize}`)
      const restored = agentWith(manager(sessionId), [])
      await restored.agent.initialize()
      assert.deepEqual(
        restored.agent.messages.map((message) => textOf(message.toJSON())),
        ['harmless question', 'ok', '[User input redacted.]', 'I cannot help with that'],
        `batchSize ${batchSize}`,
      )
    }
  })
})
