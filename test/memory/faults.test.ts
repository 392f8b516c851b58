import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Agent, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import {
  type AgentCoreMemorySessionManagerConfig,
  decodeMemoryEvent,
  MemorySessionError,
} from '../../src/memory/index.ts'
import { captureLogger, listAllEvents, plain, useMemoryTestBed } from '../helpers/memory-session.ts'
import { ScriptedModel, type ScriptedTurn } from '../helpers/scripted-model.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'

const ACTOR = 'fault-user'

// Seeded, so the fault sequence of the random-fault test (and so any failure) replays exactly.
const bed = useMemoryTestBed('fault_tests', { random: seededRandom(7) })
let counter = 0

const echo = tool({
  name: 'echo',
  description: 'Echoes',
  inputSchema: z.object({ say: z.string() }),
  callback: (input) => input.say,
})

function setup(extra: Partial<AgentCoreMemorySessionManagerConfig> = {}) {
  const sessionId = `faults-${process.pid}-${++counter}`
  const logger = captureLogger()
  const build = (turns: ScriptedTurn[]) => {
    const sessionManager = bed.manager({ sessionId, actorId: ACTOR, logger, ...extra })
    const model = new ScriptedModel(turns)
    return {
      model,
      sessionManager,
      agent: new Agent({ model, tools: [echo], sessionManager, printer: false }),
    }
  }
  return { sessionId, logger, build }
}

/** A turn that calls the echo tool once and then answers. */
const toolTurn = (n: number): ScriptedTurn[] => [
  { toolUses: [{ name: 'echo', toolUseId: `tu-${n}`, input: { say: `echo ${n}` } }] },
  { text: `answer ${n}` },
]

/** The messages stored in the session, decoded, in order. */
async function storedMessages(sessionId: string) {
  const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
  return plain(events.flatMap((event) => decodeMemoryEvent(event).messages))
}

describe('faults at the Memory service', () => {
  it('stores every message exactly once through throttling, server errors and lost responses', async () => {
    const { sessionId, logger, build } = setup()
    const { agent } = build([...toolTurn(1), ...toolTurn(2), ...toolTurn(3)])
    bed.env.service.faults.resetCounts()
    bed.env.service.faults.set({ CreateEvent: { throttleNext: 2, errorNext: 2, loseResponseNext: 2 } })
    for (const n of [1, 2, 3]) await agent.invoke(`turn ${n}`)
    bed.env.service.faults.set({})
    const counts = bed.env.service.faults.counts().CreateEvent
    assert.deepEqual([counts?.throttled, counts?.failed, counts?.responsesLost], [2, 2, 2])
    assert.deepEqual(await storedMessages(sessionId), plain(agent.messages))
    assert.ok(
      logger.lines.some((line) => line.includes('operation=CreateEvent') && line.includes('retrying write')),
    )
  })

  it('loses and duplicates nothing under random throttling, errors and lost responses on writes and reads', async () => {
    // About half the write attempts fail: 30 attempts make a write that never succeeds vanishingly unlikely.
    const { sessionId, build } = setup({ retry: { maxAttempts: 30, baseDelayMs: 1, maxDelayMs: 4 } })
    bed.env.service.faults.set({
      CreateEvent: { throttleRate: 0.2, errorRate: 0.15, loseResponseRate: 0.25 },
      ListEvents: { throttleRate: 0.25, errorRate: 0.1 },
      DeleteEvent: { throttleRate: 0.2 },
    })
    try {
      const first = build([...toolTurn(1), ...toolTurn(2), { text: 'plain answer' }])
      for (const prompt of ['one', 'two', 'three']) await first.agent.invoke(prompt)
      const second = build([...toolTurn(4), ...toolTurn(5)])
      for (const prompt of ['four', 'five']) await second.agent.invoke(prompt)
      assert.deepEqual(
        plain(second.agent.messages).slice(0, first.agent.messages.length),
        plain(first.agent.messages),
      )
      bed.env.service.faults.set({})
      assert.deepEqual(await storedMessages(sessionId), plain(second.agent.messages))
    } finally {
      bed.env.service.faults.set({})
    }
  })

  it('fails the invocation with WRITE_FAILED when errors outlast the retries, keeps the messages and writes them once later', async () => {
    const { sessionId, build } = setup({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } })
    const { agent, sessionManager } = build([{ text: 'first answer' }, { text: 'second answer' }])
    bed.env.service.faults.set({ CreateEvent: { errorNext: 3 } })
    await assert.rejects(
      agent.invoke('first'),
      (error: unknown) => error instanceof MemorySessionError && error.code === 'WRITE_FAILED',
    )
    assert.ok(sessionManager.pendingWrites >= 2)
    bed.env.service.faults.set({ CreateEvent: { loseResponseNext: 3 } })
    // The same batch is committed but every answer is lost: still failing, still kept.
    await assert.rejects(
      sessionManager.flush(),
      (error: unknown) => (error as MemorySessionError).code === 'WRITE_FAILED',
    )
    bed.env.service.faults.set({})
    await agent.invoke('second')
    assert.equal(sessionManager.pendingWrites, 0)
    assert.deepEqual(
      (await storedMessages(sessionId)).map((message) => message.content),
      [[{ text: 'first' }], [{ text: 'first answer' }], [{ text: 'second' }], [{ text: 'second answer' }]],
    )
  })

  it('does not take its own committed but unacknowledged write for an outside event', async () => {
    const { sessionId, build } = setup({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } })
    const { agent, model } = build([...toolTurn(1), ...toolTurn(2)])
    // Two attempts before the tool, two at the end of the invocation: committed, never acknowledged.
    bed.env.service.faults.set({ CreateEvent: { loseResponseNext: 4 } })
    await assert.rejects(
      agent.invoke('first'),
      (error: unknown) => (error as MemorySessionError).code === 'WRITE_FAILED',
    )
    bed.env.service.faults.set({})
    await agent.invoke('second')
    const lastCall = model.calls.at(-1) ?? []
    const firstPrompts = lastCall
      .flatMap((message) => message.content)
      .filter((block) => 'text' in block && block.text === 'first')
    assert.equal(firstPrompts.length, 1)
    const stored = await storedMessages(sessionId)
    assert.equal(
      stored.filter((message) => JSON.stringify(message.content) === '[{"text":"first"}]').length,
      1,
    )
  })

  it('restores through throttled reads, and fails with READ_FAILED when reads keep failing', async () => {
    const { build } = setup({ retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } })
    const seeded = build([{ text: 'stored' }])
    await seeded.agent.invoke('hello')
    bed.env.service.faults.set({ ListEvents: { throttleNext: 3 } })
    const restored = build([])
    await restored.agent.initialize()
    assert.equal(restored.agent.messages.length, 2)
    bed.env.service.faults.set({ ListEvents: { errorNext: 4 } })
    const failing = build([])
    await assert.rejects(
      failing.agent.initialize(),
      (error: unknown) => (error as MemorySessionError).code === 'READ_FAILED',
    )
    bed.env.service.faults.set({})
  })
})
