import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreateEventCommand, ListEventsCommand, ValidationException } from '@aws-sdk/client-bedrock-agentcore'
import { Agent, ImageBlock, TextBlock, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  MemoryConfigError,
  MemorySessionError,
  userTextEventPayload,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import {
  captureLogger,
  listAllEvents,
  messagePayloads,
  plain,
  waitFor,
  writeEvent,
  useMemoryTestBed,
} from '../helpers/memory-session.ts'
import { type ScriptStep, ScriptedModel, textOf } from '../helpers/scripted-model.ts'

const ACTOR = 'user-1'
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 250])

const bed = useMemoryTestBed('session_manager_tests')
let sessionCounter = 0

const newSessionId = () => `session-${process.pid}-${++sessionCounter}`

const manager = (sessionId: string, extra: Partial<AgentCoreMemorySessionManagerConfig> = {}) =>
  bed.manager({ sessionId, actorId: ACTOR, ...extra })

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
  turns: ScriptStep[],
  tools: object[] = [addTool],
) {
  const model = new ScriptedModel(turns)
  return { model, agent: new Agent({ model, tools: tools as never, sessionManager, printer: false }) }
}

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
    bed.env.service.faults.resetCounts()
    const { agent } = agentWith(manager(sessionId, { externalSyncMinIntervalMs: 60_000 }), [
      { toolUses: [{ name: 'add', toolUseId: 'tu-1', input: { a: 1, b: 1 } }] },
      { text: '2' },
    ])
    await agent.invoke('1+1?')
    const counts = bed.env.service.faults.counts()
    assert.equal(counts.CreateEvent?.calls, 2)
    assert.equal(counts.ListEvents?.calls, 1)
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    // The SESSION state leads the event written before the tool, the AGENT state the one at the end.
    assert.deepEqual(
      events.map((event) => [
        event.metadata?.stateType?.stringValue,
        event.metadata?.agentId?.stringValue,
        event.payload?.length,
      ]),
      [
        ['SESSION', undefined, 3],
        // Python's default agent id, not Strands' 'agent': a Python reader finds the state.
        ['AGENT', 'default', 3],
      ],
    )
    assert.equal(messagePayloads(events).length, 4)

    // The next turn of the same session writes one event and no state unless the state changed.
    bed.env.service.faults.resetCounts()
    const next = agentWith(manager(sessionId, { externalSyncMinIntervalMs: 60_000 }), [{ text: 'hi again' }])
    await next.agent.invoke('hello')
    assert.equal(bed.env.service.faults.counts().CreateEvent?.calls, 1)
    const last = (await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).at(-1)
    assert.equal(last?.metadata, undefined)
    assert.equal(last?.payload?.length, 2)
  })

  it("costs a third of the Python-default mode's calls for a turn with one tool call, with default settings", async () => {
    const pythonDefault = {
      batchSize: 1,
      syncAgentStateEveryMessage: true,
      syncExternalEvents: 'onInit',
    } as const
    const callsForTurn = async (config: Partial<AgentCoreMemorySessionManagerConfig>, existing: boolean) => {
      const sessionId = newSessionId()
      const settings = { externalSyncMinIntervalMs: undefined, ...config }
      if (existing) await agentWith(manager(sessionId, settings), [{ text: 'earlier' }]).agent.invoke('hi')
      bed.env.service.faults.resetCounts()
      await agentWith(manager(sessionId, settings), [
        { toolUses: [{ name: 'add', toolUseId: 'tu-third', input: { a: 2, b: 2 } }] },
        { text: '4' },
      ]).agent.invoke('2+2?')
      return Object.values(bed.env.service.faults.counts()).reduce((sum, stats) => sum + stats.calls, 0)
    }
    assert.deepEqual([await callsForTurn({}, false), await callsForTurn(pythonDefault, false)], [3, 10])
    assert.deepEqual([await callsForTurn({}, true), await callsForTurn(pythonDefault, true)], [3, 9])
  })

  it('keeps the toolUse in memory before the tool runs', async () => {
    const sessionId = newSessionId()
    let storedWhileToolRan: unknown[] = []
    const probe = tool({
      name: 'probe',
      description: 'Reads the session while running',
      inputSchema: z.object({}),
      callback: async () => {
        storedWhileToolRan = messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId))
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
    bed.env.service.faults.resetCounts()
    const readOnly = agentWith(manager(sessionId, { persist: false }), [{ text: 'not stored' }])
    await readOnly.agent.invoke('not stored either')
    assert.equal(bed.env.service.faults.counts().CreateEvent, undefined)
    assert.equal(textOf(readOnly.model.calls[0]?.[0]), 'stored question')
  })

  it('writes the buffered prompt on the flushIntervalMs timer during a slow model call with no tool, and not without the timer', async () => {
    // Two agents side by side, each held inside one model call (no tool, so no before-tool flush):
    // only the timer can write the prompt before the call returns.
    const timed = newSessionId()
    const untimed = newSessionId()
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    const entered: string[] = []
    const slowAnswer =
      (label: string): ScriptStep =>
      async () => {
        entered.push(label)
        await released
        return { text: `answer ${label}` }
      }
    const withTimer = manager(timed, { flushIntervalMs: 20 })
    const withoutTimer = manager(untimed)
    const a = agentWith(withTimer, [slowAnswer('timed')], [])
    const b = agentWith(withoutTimer, [slowAnswer('untimed')], [])
    const invocations = Promise.all([a.agent.invoke('timed prompt'), b.agent.invoke('untimed prompt')])
    try {
      await waitFor(() => entered.length === 2)
      // Both prompts are buffered and both model calls are running; the timer writes one prompt.
      await waitFor(
        async () => messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, timed)).length === 1,
      )
      // The timed write is done while the untimed agent (buffered earlier) still writes nothing.
      assert.equal(messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, untimed)).length, 0)
      assert.equal(withoutTimer.pendingWrites, 1)
    } finally {
      release()
      await invocations
    }
    await withTimer.close()
    await withoutTimer.close()
    for (const sessionId of [timed, untimed]) {
      assert.equal(messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).length, 2)
    }
  })
})

describe('AgentCoreMemorySessionManager: restoring a whole session', () => {
  const blockTypes = (messages: readonly { content: readonly { type: string }[] }[]) =>
    messages.flatMap((message) => message.content.map((block) => block.type))
  /** Content block keys of every stored message, from the SessionMessage JSON in the events. */
  const storedBlockKeys = async (sessionId: string) =>
    messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).flatMap((item) => {
      const text = (item as { conversational: { content: { text: string } } }).conversational.content.text
      const content = (JSON.parse(text) as { message: { content: object[] } }).message.content
      return content.flatMap((block) => Object.keys(block))
    })

  it("leaves the client's answers as they were: a client that caches its pages restores the same history twice", async () => {
    const sessionId = newSessionId()
    await agentWith(manager(sessionId), [{ text: 'first answer' }]).agent.invoke('first question')
    const pages = new Map<string, unknown>()
    const caching = {
      async send(command: object) {
        const key = JSON.stringify((command as { input: unknown }).input)
        if (!(command instanceof ListEventsCommand)) return bed.client.send(command as never)
        if (!pages.has(key)) pages.set(key, await bed.client.send(command))
        return pages.get(key)
      },
    }
    for (let round = 0; round < 2; round += 1) {
      const { agent } = agentWith(manager(sessionId, { client: caching, persist: false }), [])
      await agent.initialize()
      assert.deepEqual(
        agent.messages.map((message) => textOf(message.toJSON())),
        ['first question', 'first answer'],
        `restore ${round + 1}`,
      )
    }
  })

  it('with filterRestoredToolContext, restores no toolUse/toolResult blocks while the stored events keep them', async () => {
    const sessionId = newSessionId()
    const first = agentWith(manager(sessionId), [
      { toolUses: [{ name: 'add', toolUseId: 'tu-f', input: { a: 2, b: 3 } }] },
      { text: 'the sum is 5' },
    ])
    await first.agent.invoke('what is 2+3?')
    const storedBefore = await storedBlockKeys(sessionId)
    assert.ok(storedBefore.includes('toolUse') && storedBefore.includes('toolResult'))

    const filtered = agentWith(manager(sessionId, { filterRestoredToolContext: true }), [{ text: 'still 5' }])
    await filtered.agent.initialize()
    assert.deepEqual(blockTypes(filtered.agent.messages), ['textBlock', 'textBlock'])
    assert.deepEqual(
      filtered.agent.messages.map((message) => [message.role, textOf(message.toJSON())]),
      [
        ['user', 'what is 2+3?'],
        ['assistant', 'the sum is 5'],
      ],
    )
    assert.deepEqual(validateConverseHistory(filtered.agent.messages), [])
    // Filtering is a view of the history: the stored events are not rewritten, and a new turn goes on from it.
    await filtered.agent.invoke('and again?')
    assert.equal(filtered.model.calls.at(-1)?.length, 3)
    assert.deepEqual(await storedBlockKeys(sessionId), [...storedBefore, 'text', 'text'])

    // Without the option the same session restores its tool blocks.
    const unfiltered = agentWith(manager(sessionId), [])
    await unfiltered.agent.initialize()
    assert.ok(blockTypes(unfiltered.agent.messages).includes('toolUseBlock'))
    assert.ok(blockTypes(unfiltered.agent.messages).includes('toolResultBlock'))
  })

  it('keeps every other message when one event is undecodable and one is plain text, warning with the bad event id', async () => {
    const sessionId = newSessionId()
    const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
    const first = agentWith(manager(sessionId), [{ text: 'first answer' }])
    await first.agent.invoke('first question')
    const badEventId = await writeEvent(bed.env, target, [{ blob: '{"message": {broken' }])
    await writeEvent(bed.env, target, [
      { conversational: { content: { text: 'plain text from outside' }, role: 'USER' } },
    ])
    const secondLogger = captureLogger()
    const secondManager = manager(sessionId, { logger: secondLogger })
    const second = agentWith(secondManager, [{ text: 'second answer' }])
    await second.agent.invoke('second question')
    await secondManager.close()

    const logger = captureLogger()
    const restored = agentWith(manager(sessionId, { logger }), [])
    await restored.agent.initialize()
    const texts = restored.agent.messages.flatMap((message) =>
      message.content.map((block) => `${message.role}:${(block as { text?: string }).text}`),
    )
    assert.deepEqual(texts, [
      'user:first question',
      'assistant:first answer',
      'user:plain text from outside',
      'user:second question',
      'assistant:second answer',
    ])
    assert.deepEqual(validateConverseHistory(restored.agent.messages), [])
    const warnings = logger.lines.filter((line) => line.includes('unreadable event part skipped'))
    assert.equal(warnings.length, 1)
    assert.match(warnings[0] as string, new RegExp(`event_id=${badEventId} `))
    assert.ok(secondLogger.lines.some((line) => line.includes(`event_id=${badEventId} `)))
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
    const base = { memoryId: bed.memoryId, sessionId: 'ok-session', actorId: ACTOR, client: countingClient }
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
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    assert.ok(events.length >= 2)
    for (const event of events) {
      assert.deepEqual(event.metadata?.team, { stringValue: 'research' })
      if (event.metadata?.stateType?.stringValue === 'AGENT')
        assert.equal(event.metadata.agentId?.stringValue, 'default')
    }
  })
})

describe('AgentCoreMemorySessionManager: long-term memory', () => {
  it('prepends relevant records in the context tag to the model call only', async () => {
    const sessionId = newSessionId()
    await bed.env.seedRecords(bed.memoryId, [
      { id: 'r1', namespace: `/users/${ACTOR}/facts`, text: 'The user prefers metric units' },
      { id: 'r2', namespace: `/users/${ACTOR}/facts`, text: 'The user lives in Lyon' },
      { id: 'r3', namespace: '/users/someone-else/facts', text: 'Other user prefers units' },
    ])
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
    const stored = JSON.stringify(
      messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)),
    )
    assert.doesNotMatch(stored, /metric/)
  })

  it('searches the namespace as a subtree, as the Python manager does, so records stored deeper are found', async () => {
    const sessionId = newSessionId()
    await bed.env.seedRecords(bed.memoryId, [
      {
        id: 'deep-1',
        namespace: `/strategies/pref1/actors/${ACTOR}/sessions/s0`,
        text: 'The user takes tea without sugar',
      },
      {
        id: 'deep-2',
        namespace: '/strategies/pref1/actors/someone-else/sessions/s0',
        text: 'Another user takes tea with sugar',
      },
    ])
    const sessionManager = manager(sessionId, {
      retrieval: {
        '/strategies/{memoryStrategyId}/actors/{actorId}/': { strategyId: 'pref1', relevanceScore: 0.01 },
      },
    })
    const { agent, model } = agentWith(sessionManager, [{ text: 'noted' }])
    await agent.invoke('how do I take my tea?')
    const sent = JSON.stringify(model.calls[0])
    assert.match(sent, /without sugar/)
    assert.doesNotMatch(sent, /with sugar/)
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
      const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
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

  it('redacts the user prompt, never an outside event added before the model call, in memory and in storage', async () => {
    const sessionId = newSessionId()
    const { agent } = agentWith(manager(sessionId), [
      { text: 'ok' },
      { text: 'I cannot help with that', redactInput: '[User input redacted.]' },
    ])
    await agent.invoke('harmless question')
    await writeEvent(bed.env, { memoryId: bed.memoryId, actorId: ACTOR, sessionId }, [
      userTextEventPayload('Task task-9 finished: report ready'),
    ])
    await agent.invoke('my card number is 4111 1111')
    const inMemory = agent.messages.map((message) => textOf(message.toJSON()))
    // The outside event goes before the prompt (it was written first), the prompt stays last and is redacted.
    assert.deepEqual(inMemory, [
      'harmless question',
      'ok',
      'Task task-9 finished: report ready',
      '[User input redacted.]',
      'I cannot help with that',
    ])
    const stored = messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).map((item) =>
      JSON.stringify(item),
    )
    assert.equal(stored.filter((item) => item.includes('4111')).length, 0)
    assert.equal(stored.filter((item) => item.includes('task-9 finished')).length, 1)
    const restored = agentWith(manager(sessionId), [])
    await restored.agent.initialize()
    assert.deepEqual(
      restored.agent.messages.flatMap((message) => textOf(message.toJSON()).split('|')),
      inMemory,
      'a restore gives the same order',
    )
  })

  it('takes the replacement back and fails with WRITE_FAILED when the event holding the original cannot be deleted', async () => {
    const sessionId = newSessionId()
    const logger = captureLogger()
    const sessionManager = manager(sessionId, {
      batchSize: 1,
      logger,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    })
    const { agent } = agentWith(sessionManager, [{ text: 'no', redactInput: '[redacted]' }])
    // Three failures outlast the delete of the original; two more, then the rollback's delete succeeds.
    bed.env.service.faults.set({ DeleteEvent: { errorNext: 5 } })
    try {
      await assert.rejects(
        agent.invoke('my card is 4111'),
        (error: unknown) =>
          error instanceof MemorySessionError &&
          error.code === 'WRITE_FAILED' &&
          /InternalServerException/.test(error.message) &&
          /replacement was deleted again/.test(error.message),
      )
    } finally {
      bed.env.service.faults.set({})
    }
    const stored = messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).map((item) =>
      JSON.stringify(item),
    )
    // One stored copy of the message (the original, as Python keeps it), no half-done replacement.
    assert.equal(stored.filter((item) => item.includes('my card is')).length, 1)
    assert.equal(stored.filter((item) => item.includes('[redacted]')).length, 0)
    assert.ok(logger.lines.some((line) => line.includes('redaction not stored')))
  })
})

describe('AgentCoreMemorySessionManager: redaction whose replacement is never acknowledged', () => {
  it('fails with WRITE_FAILED and never takes the possibly stored replacement for an outside event', async () => {
    const sessionId = newSessionId()
    const sessionManager = manager(sessionId, {
      batchSize: 1,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    })
    const { agent, model } = agentWith(sessionManager, [
      async () => {
        // The prompt is written by now; every answer to the replacement's CreateEvent gets lost.
        bed.env.service.faults.set({ CreateEvent: { loseResponseNext: 3 } })
        return { text: 'no', redactInput: '[redacted input]' }
      },
      { text: 'fine' },
    ])
    try {
      await assert.rejects(
        agent.invoke('my card is 4111'),
        (error: unknown) =>
          error instanceof MemorySessionError &&
          error.code === 'WRITE_FAILED' &&
          /replacement .* could not be written/.test(error.message),
      )
    } finally {
      bed.env.service.faults.set({})
    }
    await agent.invoke('next question')
    const texts = (model.calls[1] ?? []).flatMap((message) => textOf(message).split('|'))
    assert.deepEqual(
      texts.filter((text) => text.includes('redacted input')),
      ['[redacted input]'],
    )
  })
})

describe('AgentCoreMemorySessionManager: a write the service refuses for good', () => {
  it('reports WRITE_FAILED with the reason, keeps the refused batch aside and still writes later messages', async () => {
    const sessionId = newSessionId()
    const refusing = {
      send(command: object, options?: object) {
        if (
          command instanceof CreateEventCommand &&
          JSON.stringify(command.input.payload).includes('POISON')
        ) {
          return Promise.reject(
            new ValidationException({
              message: 'payload too large for one event',
              reason: 'FieldValidationFailed',
              $metadata: {},
            }),
          )
        }
        return bed.client.send(command as never, options as never)
      },
    }
    const sessionManager = manager(sessionId, { client: refusing })
    const { agent } = agentWith(sessionManager, [{ text: 'refused answer' }, { text: 'hi' }])
    await assert.rejects(
      agent.invoke('POISON please'),
      (error: unknown) =>
        error instanceof MemorySessionError &&
        error.code === 'WRITE_FAILED' &&
        /ValidationException: payload too large for one event/.test(error.message),
    )
    assert.equal(sessionManager.rejectedWrites.length, 1)
    assert.deepEqual(
      sessionManager.rejectedWrites[0]?.payload.map((item) => JSON.stringify(item).includes('POISON')),
      [true, false],
    )
    assert.match(sessionManager.rejectedWrites[0]?.reason ?? '', /ValidationException/)
    // Only the SESSION state blob the refused batch carried waits, for the next event.
    assert.equal(sessionManager.pendingWrites, 1)

    await agent.invoke('hello')
    assert.equal(sessionManager.pendingWrites, 0)
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    const stored = messagePayloads(events).map((item) => JSON.stringify(item))
    assert.equal(stored.length, 2)
    assert.match(stored[0] as string, /hello/)
    assert.match(stored[1] as string, /assistant.*\\"hi\\"/)
    // The SESSION state the refused batch carried rode on a later event: a Python reader finds the session.
    assert.ok(events.some((event) => event.metadata?.stateType?.stringValue === 'SESSION'))
    assert.equal(sessionManager.rejectedWrites.length, 1)
  })
})
