import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Agent, tool, type ToolList } from '@strands-agents/sdk'
import { z } from 'zod'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  type EventPayloadItem,
  userTextEventPayload,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import {
  captureLogger,
  FAST_RETRY,
  listAllEvents,
  messagePayloads,
  writeEvent,
  useMemoryTestBed,
} from '../helpers/memory-session.ts'
import { type ScriptStep, ScriptedModel, textsOf, toolUseTurn } from '../helpers/scripted-model.ts'

const ACTOR = 'actor:tenant/alice'

const bed = useMemoryTestBed('external_event_tests')
let counter = 0

/**
 * A session of its own; with `fakeClock` the manager's clock is real time plus what
 * `clock.advance` added, so a test can make a model call or a tool "take" seconds.
 */
function setup({
  fakeClock = false,
  ...extra
}: Partial<AgentCoreMemorySessionManagerConfig> & { fakeClock?: boolean } = {}) {
  const sessionId = `ext-${process.pid}-${++counter}`
  const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
  let offsetMs = 0
  const clock = {
    now: () => Date.now() + offsetMs,
    advance: (ms: number) => {
      offsetMs += ms
    },
  }
  const build = (turns: ScriptStep[], tools: ToolList = []) => {
    const sessionManager = new AgentCoreMemorySessionManager({
      ...target,
      client: bed.client,
      retry: FAST_RETRY,
      externalSyncMinIntervalMs: 0,
      logger: captureLogger(),
      ...(fakeClock ? { clock: clock.now } : {}),
      ...extra,
    })
    const model = new ScriptedModel(turns)
    return {
      model,
      sessionManager,
      agent: new Agent({ model, tools, sessionManager, printer: false }),
    }
  }
  return { sessionId, target, clock, build }
}

/** A tool without arguments. */
const noArgTool = (name: string, callback: () => string | Promise<string>, description = 'Checks') =>
  tool({ name, description, inputSchema: z.object({}), callback })

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
      await writeEvent(bed.env, target, [payloadOf('Task train-7 finished: accuracy 0.93')])

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
      const stored = messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).map(
        (item) => JSON.stringify(item),
      )
      assert.equal(count(stored, 'train-7'), 1)
    })

    it(`reach the next model call within the same long invocation, once, when a tool writes them (${format})`, async () => {
      const { target, sessionId, build } = setup()
      const startTask = tool({
        name: 'start_task',
        description: 'Starts a task whose result arrives as a USER event in the session',
        inputSchema: z.object({ id: z.string() }),
        callback: async (input) => {
          // The task "finishes" while the tool is still running: its result is written into the session.
          await writeEvent(bed.env, target, [payloadOf(`Result of ${input.id}: 42 rows`)])
          return `started ${input.id}`
        },
      })
      const { agent, model } = build(
        [
          toolUseTurn('start_task', 'tu-1', { id: 'job-1' }),
          toolUseTurn('check', 'tu-2'),
          { text: 'job-1 produced 42 rows' },
        ],
        [startTask, noArgTool('check', () => 'checked')],
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

      const stored = messagePayloads(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).map(
        (item) => JSON.stringify(item),
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
    const late = noArgTool(
      'late',
      async () => {
        await writeEvent(bed.env, target, [userTextEventPayload('skewed note')], {
          timestamp: new Date(Date.now() - 3_000),
        })
        return 'written'
      },
      'Writes an event stamped in the past',
    )
    const { agent, model } = build([toolUseTurn('late', 'tu-l'), { text: 'seen' }], [late])
    await agent.invoke('write a late note')
    assert.equal(count(textsOf(model.calls[1]), 'skewed note'), 1)
  })

  it('appends an event at the very edge of the skew allowance once: restored, then reached by every later read', async () => {
    // The manager's clock stands still, so every read's floor is the restore's start less 10 s.
    const restoreMs = Date.now()
    const { target, build } = setup({ clock: () => restoreMs })
    await writeEvent(bed.env, target, [userTextEventPayload('edge note')], {
      timestamp: new Date(restoreMs - 10_000),
    })
    await writeEvent(bed.env, target, [userTextEventPayload('older note')], {
      timestamp: new Date(restoreMs - 10_001),
    })
    const { agent, model } = build(
      [toolUseTurn('check', 'tu-edge'), { text: 'noted' }],
      [noArgTool('check', () => 'checked')],
    )
    bed.env.service.faults.resetCounts()
    await agent.invoke('any notes?')
    // The restore and a read before each of the two model calls, both reaching down to the edge note.
    assert.equal(bed.env.service.faults.counts().ListEvents?.calls, 3)
    for (const call of model.calls) {
      assert.equal(count(textsOf(call), 'edge note'), 1)
      assert.equal(count(textsOf(call), 'older note'), 1)
    }
  })

  it('finds an event written early in a model call that takes longer than the skew allowance (default settings)', async () => {
    // The manager's clock: a model call "takes" 12 s by moving it on, more than the 10 s allowance.
    const { target, clock, build } = setup({ externalSyncMinIntervalMs: undefined, fakeClock: true })
    const { agent, model } = build(
      [
        async () => {
          // An MCP task result arrives 1 s into the model call (its writer's clock agrees with ours)...
          clock.advance(1_000)
          await writeEvent(bed.env, target, [userTextEventPayload('task result: 17 files')], {
            timestamp: new Date(clock.now()),
          })
          // ...and the call goes on for 11 s more, then asks for a tool (whose message is written first).
          clock.advance(11_000)
          return toolUseTurn('check', 'tu-slow')
        },
        { text: 'seen' },
      ],
      [noArgTool('check', () => 'checked')],
    )
    await agent.invoke('start the task')
    assert.equal(count(textsOf(model.calls[0]), 'task result'), 0)
    assert.equal(count(textsOf(model.calls[1]), 'task result'), 1)
    assert.equal(
      count(
        agent.messages.map((message) => JSON.stringify(message.toJSON())),
        'task result',
      ),
      1,
    )
    model.push({ text: 'still seen' })
    clock.advance(30_000)
    await agent.invoke('and?')
    assert.equal(count(textsOf(model.calls[2]), 'task result'), 1)
    for (const call of model.calls) assert.deepEqual(validateConverseHistory(call), [])
  })

  it('with default settings, brings an event a tool wrote while running 10 s or more into the next model call', async () => {
    const { target, clock, build } = setup({ externalSyncMinIntervalMs: undefined, fakeClock: true })
    const slow = noArgTool(
      'slow_task',
      async () => {
        await writeEvent(bed.env, target, [userTextEventPayload('slow task output: 5 rows')])
        clock.advance(10_500)
        return 'done'
      },
      'Runs 10.5 s (on the manager clock) and writes its result into the session',
    )
    const { agent, model } = build([toolUseTurn('slow_task', 'tu-s'), { text: 'five rows' }], [slow])
    await agent.invoke('run the slow task')
    assert.equal(model.calls.length, 2)
    assert.equal(count(textsOf(model.calls[1]), 'slow task output'), 1)
  })

  it('with default settings, only delays an event the 10 s rule skipped: a later look finds it, even after a long model call', async () => {
    const { target, clock, build } = setup({ externalSyncMinIntervalMs: undefined, fakeClock: true })
    const fast = noArgTool(
      'fast_task',
      async () => {
        await writeEvent(bed.env, target, [userTextEventPayload('fast task output: 3 rows')])
        return 'done'
      },
      'Writes its result at once',
    )
    const { agent, model } = build(
      [
        toolUseTurn('fast_task', 'tu-f'),
        async () => {
          // Model call 2 came less than 10 s after the last look (no read), and takes 11 s.
          clock.advance(11_000)
          return { text: 'three rows?' }
        },
        { text: 'three rows' },
      ],
      [fast],
    )
    await agent.invoke('run the fast task')
    assert.equal(count(textsOf(model.calls[1]), 'fast task output'), 0, 'skipped by the 10 s rule')
    await agent.invoke('so?')
    assert.equal(count(textsOf(model.calls[2]), 'fast task output'), 1, 'found by the next look')
    assert.deepEqual(validateConverseHistory(model.calls[2] ?? []), [])
  })

  it('with default settings, a turn with one tool call that ends within 10 s costs one ListEvents and two CreateEvent', async () => {
    const { clock, build } = setup({ externalSyncMinIntervalMs: undefined, fakeClock: true })
    const check = noArgTool(
      'check',
      () => {
        clock.advance(9_000)
        return 'checked'
      },
      'Checks (9 s on the manager clock)',
    )
    const { agent } = build([toolUseTurn('check', 'tu-9'), { text: 'checked' }], [check])
    bed.env.service.faults.resetCounts()
    await agent.invoke('check it')
    const counts = bed.env.service.faults.counts()
    assert.equal(counts.ListEvents?.calls, 1, 'the restore only: the second model call is 9 s after it')
    assert.equal(counts.CreateEvent?.calls, 2, 'before the tool and at the end of the invocation')
    assert.equal(agent.messages.length, 4)
  })

  it('goes on with the turn when the read before a model call fails, warning, and picks the event up at the next look', async () => {
    const logger = captureLogger()
    const { target, build } = setup({ logger, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } })
    const { agent, model } = build(
      [toolUseTurn('check', 'tu-c'), { text: 'fine' }],
      [noArgTool('check', () => 'checked')],
    )
    await agent.initialize()
    await writeEvent(bed.env, target, [userTextEventPayload('note during outage')])
    bed.env.service.faults.set({ ListEvents: { errorNext: 2 } })
    try {
      const result = await agent.invoke('go on')
      assert.equal(result.stopReason, 'endTurn')
    } finally {
      bed.env.service.faults.set({})
    }
    assert.equal(count(textsOf(model.calls[0]), 'note during outage'), 0)
    assert.equal(count(textsOf(model.calls[1]), 'note during outage'), 1)
    const warnings = logger.lines.filter((line) => line.includes('next model call tries again'))
    assert.equal(warnings.length, 1)
    assert.match(warnings[0] as string, /error=InternalServerException /)
  })

  it('reads outside events only when the agent is built when configured so, with no reads before model calls', async () => {
    const { target, build } = setup({ syncExternalEvents: 'onInit' })
    const writer = noArgTool(
      'writer',
      async () => {
        await writeEvent(bed.env, target, [userTextEventPayload('later news')])
        return 'done'
      },
      'Writes',
    )
    const { agent, model } = build([toolUseTurn('writer', 'tu-w'), { text: 'ok' }], [writer])
    bed.env.service.faults.resetCounts()
    await agent.invoke('go')
    assert.equal(bed.env.service.faults.counts().ListEvents?.calls, 1)
    assert.equal(count(textsOf(model.calls[1]), 'later news'), 0)
    const next = build([{ text: 'ok' }])
    await next.agent.invoke('and now?')
    assert.equal(count(textsOf(next.model.calls[0]), 'later news'), 1)
  })
})
