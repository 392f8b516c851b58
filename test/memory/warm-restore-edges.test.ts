import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeleteEventCommand } from '@aws-sdk/client-bedrock-agentcore'
import { Agent, type Message } from '@strands-agents/sdk'
import {
  agentStateEvent,
  encodeMessagePayload,
  type EventPayloadItem,
  SessionCache,
  userTextEventPayload,
} from '../../src/memory/index.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'
import {
  assertWarmMatchesCold,
  listAllEvents,
  useMemoryTestBed,
  writeEvent,
} from '../helpers/memory-session.ts'
import { ScriptedModel, type ScriptStep } from '../helpers/scripted-model.ts'

const ACTOR = 'edge-user'
const message = (role: 'user' | 'assistant', text: string, messageId = 0) =>
  encodeMessagePayload({ role, content: [{ text }] }, { messageId }) as EventPayloadItem
/** Messages as `u:text` / `a:text`, blocks joined by `+`: short to compare and to read in a failure. */
const texts = (messages: readonly Message[]) =>
  messages.map(
    (entry) =>
      `${entry.role[0]}:${entry.content.map((block) => (block.type === 'textBlock' ? block.text : block.type)).join('+')}`,
  )

describe('warm restores at the edges: ties, late writers, deletions next to the window', () => {
  const bed = useMemoryTestBed('edge_memory')
  const build = async (
    sessionId: string,
    window: number,
    cache: SessionCache | undefined,
    turns: ScriptStep[] = [],
    extra: { externalSyncMinIntervalMs?: number } = {},
  ) => {
    const manager = bed.manager({
      sessionId,
      actorId: ACTOR,
      restoreWindow: window,
      externalSyncMinIntervalMs: 10_000,
      ...extra,
      ...(cache !== undefined && { sessionCache: cache }),
    })
    const agent = new Agent({ model: new ScriptedModel(turns), sessionManager: manager, printer: false })
    await agent.initialize()
    return { agent, manager }
  }
  const seedTurns = async (sessionId: string, count: number, stepMs: number) => {
    const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
    const start = Date.now() - 3_600_000
    for (let turn = 0; turn < count; turn += 1) {
      await writeEvent(bed.env, target, [message('user', `q${turn}`, 2 * turn)], {
        timestamp: new Date(start + 2 * turn * stepMs),
      })
      await writeEvent(bed.env, target, [message('assistant', `a${turn}`, 2 * turn + 1)], {
        timestamp: new Date(start + (2 * turn + 1) * stepMs),
      })
    }
    return { target, start }
  }

  for (const change of [
    'the event before the window is deleted',
    'a late result lands just before the window',
  ] as const) {
    test(`after unchanged warm restores, ${change}: warm still equals cold`, async () => {
      const sessionId = `edge-${change.length}`
      // q0 a0 q1 a1 q2 a2, a minute apart; a window of 4 holds q1..a2.
      const { target, start } = await seedTurns(sessionId, 3, 60_000)
      const cache = new SessionCache()
      await build(sessionId, 4, cache)
      for (let again = 0; again < 2; again += 1)
        assert.equal((await build(sessionId, 4, cache)).manager.restoreReport?.kind, 'warm')
      const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
      if (change === 'the event before the window is deleted') {
        await bed.env.data.send(new DeleteEventCommand({ ...target, eventId: events[1]?.eventId as string }))
      } else {
        await writeEvent(bed.env, target, [userTextEventPayload('late result')], {
          timestamp: new Date(start + 2 * 60_000 - 1),
        })
      }
      const warm = await build(sessionId, 4, cache)
      const cold = await build(sessionId, 4, undefined)
      assert.deepEqual(texts(warm.agent.messages), texts(cold.agent.messages))
      assert.notEqual(warm.manager.restoreReport?.fallback, undefined, 'the change was noticed')
    })
  }

  for (const useCache of [false, true]) {
    test(`an event stamped like the window's first one is not added again by a catch-up read (${useCache ? 'warm' : 'cold'})`, async () => {
      const sessionId = `edge-tie-${useCache}`
      const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
      const at = Date.now() - 2_000
      await writeEvent(bed.env, target, [message('user', 'q1')], { timestamp: new Date(at - 1) })
      await writeEvent(bed.env, target, [message('assistant', 'a1')], { timestamp: new Date(at) })
      await writeEvent(bed.env, target, [message('user', 'q2')], { timestamp: new Date(at) })
      await writeEvent(bed.env, target, [message('assistant', 'a2')], { timestamp: new Date(at + 1) })
      const cache = new SessionCache()
      if (useCache) await build(sessionId, 2, cache)
      const run = await build(sessionId, 2, cache, [{ text: 'a3' }], { externalSyncMinIntervalMs: 0 })
      await run.agent.invoke('q3')
      assert.deepEqual(texts(run.agent.messages), ['u:q2', 'a:a2', 'u:q3', 'a:a3'])
    })
  }

  for (const useCache of [false, true]) {
    test(`after a writer whose clock runs ahead, this agent's writes still sort after it (${useCache ? 'warm' : 'cold'})`, async () => {
      const sessionId = `edge-ahead-${useCache}`
      const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
      const now = Date.now()
      await writeEvent(bed.env, target, [message('user', 'q1')], { timestamp: new Date(now - 10_000) })
      await writeEvent(bed.env, target, [message('assistant', 'a1')], { timestamp: new Date(now - 9_000) })
      await writeEvent(bed.env, target, [userTextEventPayload('result from a host 30 s ahead')], {
        timestamp: new Date(now + 30_000),
      })
      const cache = new SessionCache()
      if (useCache) await build(sessionId, 40, cache)
      const run = await build(sessionId, 40, cache, [{ text: 'a2' }])
      await run.agent.invoke('q2')
      await run.manager.close()
      const fresh = await build(sessionId, 40, undefined)
      assert.deepEqual(texts(fresh.agent.messages), [
        'u:q1',
        'a:a1',
        'u:result from a host 30 s ahead+q2',
        'a:a2',
      ])
    })
  }

  test('seeded: batched events, state blobs at their head, identical timestamps, late writes and deletions', async () => {
    let warm = 0
    for (const seed of [21, 22, 23, 24, 25, 26, 27, 28]) {
      const random = seededRandom(seed)
      const sessionId = `edge-seed-${seed}`
      const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
      const window = 2 + Math.floor(random() * 8)
      const cache = new SessionCache()
      let stamp = Date.now() - 3_600_000
      let id = 0
      for (let step = 0; step < 25; step += 1) {
        const roll = random()
        const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
        if (roll < 0.5 || events.length < 3) {
          // A turn written as an agent would, over one to three events, a state blob now and then.
          const turn = [message('user', `q${step}`, id++), message('assistant', `a${step}`, id++)]
          const perEvent = 1 + Math.floor(random() * 2)
          for (let at = 0; at < turn.length; at += perEvent) {
            const payload = turn.slice(at, at + perEvent)
            const state =
              at === 0 && random() < 0.3
                ? agentStateEvent({ agentId: 'default', state: { step } })
                : undefined
            stamp += random() < 0.3 ? 0 : 1 + Math.floor(random() * 3)
            await writeEvent(
              bed.env,
              target,
              state ? [state.payload[0] as EventPayloadItem, ...payload] : payload,
              {
                timestamp: new Date(stamp),
                ...(state !== undefined && { metadata: state.metadata }),
              },
            )
          }
        } else if (roll < 0.65) {
          stamp += 1
          await writeEvent(bed.env, target, [userTextEventPayload(`task ${step}`)], {
            timestamp: new Date(stamp),
          })
        } else if (roll < 0.8) {
          const inside = events[Math.floor(random() * events.length)]
          const at = (inside?.eventTimestamp?.getTime() ?? stamp) - Math.floor(random() * 2)
          await writeEvent(bed.env, target, [userTextEventPayload(`late ${step}`)], {
            timestamp: new Date(at),
          })
        } else if (roll < 0.92) {
          const victim = events[Math.floor(random() * events.length)]
          if (victim?.eventId)
            await bed.env.data.send(new DeleteEventCommand({ ...target, eventId: victim.eventId }))
        }
        const where = `seed ${seed} step ${step} window ${window}`
        const report = await assertWarmMatchesCold(
          (use) => build(sessionId, window, use),
          cache,
          where,
          texts,
        )
        if (report?.kind === 'warm') warm += 1
      }
    }
    assert.ok(warm > 30, `${warm} warm restores`)
  })
})
