import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeleteEventCommand } from '@aws-sdk/client-bedrock-agentcore'
import { Agent, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import { SessionCache, userTextEventPayload } from '../../src/memory/index.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'
import {
  assertWarmMatchesCold,
  countingClient,
  listAllEvents,
  useMemoryTestBed,
  writeEvent,
} from '../helpers/memory-session.ts'
import { ScriptedModel, type ScriptStep } from '../helpers/scripted-model.ts'

const ACTOR = 'warm-user'
const echo = tool({
  name: 'echo',
  description: 'Echoes',
  inputSchema: z.object({ say: z.string() }),
  callback: (input) => `echo: ${input.say}`,
})

describe('warm restores see exactly what a cold restore would', () => {
  const bed = useMemoryTestBed('warm_memory')

  /** An agent on the session, restored (warm when `cache` holds the session), as the runtime builds one. */
  const build = async (
    sessionId: string,
    window: number,
    cache: SessionCache | undefined,
    turns: ScriptStep[] = [],
  ) => {
    const client = countingClient(bed.client)
    const manager = bed.manager({
      sessionId,
      actorId: ACTOR,
      client,
      restoreWindow: window,
      externalSyncMinIntervalMs: 10_000,
      ...(cache !== undefined && { sessionCache: cache }),
    })
    const agent = new Agent({
      model: new ScriptedModel(turns),
      tools: [echo],
      sessionManager: manager,
      printer: false,
    })
    await agent.initialize()
    return { agent, manager, client }
  }

  test('seeded interleavings of turns, task results, late writes and deletions: warm equals cold after every step', async () => {
    let warm = 0
    let fellBack = 0
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const random = seededRandom(seed)
      const sessionId = `warm-seed-${seed}`
      const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
      const window = 4 + Math.floor(random() * 8)
      const cache = new SessionCache()
      for (let step = 0; step < 28; step += 1) {
        const roll = random()
        const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
        if (roll < 0.45 || events.length < 4) {
          // A turn of the agent, built warm, as the runtime does: a plain answer or a tool call first.
          const turns: ScriptStep[] =
            random() < 0.5
              ? [{ text: `answer ${step}` }]
              : [
                  {
                    toolUses: [{ name: 'echo', toolUseId: `tu-${seed}-${step}`, input: { say: `s${step}` } }],
                  },
                  { text: `done ${step}` },
                ]
          const { agent, manager } = await build(sessionId, window, cache, turns)
          if (random() < 0.3) agent.appState.set('step', step)
          await agent.invoke(`prompt ${step}`)
          await manager.close()
        } else if (roll < 0.65) {
          await writeEvent(bed.env, target, [
            userTextEventPayload(`Long-running task k${step} (tool work) completed.\nResult:\n${step}`),
          ])
        } else if (roll < 0.78) {
          // Another writer's event stamped inside what is already stored (a lagging clock).
          const inside = events[Math.max(0, events.length - 1 - Math.floor(random() * 4))]
          const stamp = (inside?.eventTimestamp?.getTime() ?? Date.now()) - 1
          await writeEvent(bed.env, target, [userTextEventPayload(`late result ${step}`)], {
            timestamp: new Date(stamp),
          })
        } else if (roll < 0.9) {
          const victim = events[Math.max(0, events.length - 1 - Math.floor(random() * 6))]
          if (victim?.eventId)
            await bed.env.data.send(new DeleteEventCommand({ ...target, eventId: victim.eventId }))
        }
        const where = `seed ${seed} step ${step} window ${window}`
        const report = await assertWarmMatchesCold((use) => build(sessionId, window, use), cache, where)
        if (report?.kind === 'warm') warm += 1
        if (report?.fallback !== undefined) fellBack += 1
      }
    }
    // Both paths were taken: warm windows reused, and mutations caught and read again cold.
    assert.ok(warm > 40, `${warm} warm restores`)
    assert.ok(fellBack > 5, `${fellBack} fallbacks`)
  })

  test('a warm invocation reads one page, and one with a tool call costs three memory calls in all', async () => {
    const sessionId = 'warm-costs'
    const cache = new SessionCache()
    for (let turn = 0; turn < 30; turn += 1) {
      const { agent, manager } = await build(sessionId, 40, cache, [{ text: `answer ${turn}` }])
      await agent.invoke(`prompt ${turn}`)
      await manager.close()
    }
    const toolTurn: ScriptStep[] = [
      { toolUses: [{ name: 'echo', toolUseId: 'tu-costs', input: { say: 'x' } }] },
      { text: 'done' },
    ]
    const { agent, manager, client } = await build(sessionId, 40, cache, toolTurn)
    assert.equal(manager.restoreReport?.kind, 'warm')
    assert.equal(manager.restoreReport?.listCalls, 1)
    await agent.invoke('use the tool')
    await manager.close()
    assert.deepEqual(Object.fromEntries(client.counts), { ListEventsCommand: 1, CreateEventCommand: 2 })
  })
})
