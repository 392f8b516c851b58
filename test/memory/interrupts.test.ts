import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import {
  Agent,
  BeforeToolCallEvent,
  FileStorage,
  InterruptResponseContent,
  SessionManager,
  tool,
} from '@strands-agents/sdk'
import { z } from 'zod'
import {
  decodeMemoryEvent,
  INTERRUPTED_TOOL_RESULT_TEXT,
  SessionCache,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import { listAllEvents, plain, useMemoryTestBed } from '../helpers/memory-session.ts'
import { ScriptedModel, type ScriptedTurn, textsOf } from '../helpers/scripted-model.ts'

const ACTOR = 'approver'

/** Python's `_InterruptState.to_dict()`, as the agent-state event holds it. */
interface StoredPause {
  activated: boolean
  interrupts: Record<string, unknown>
  context: { tool_use_message: { content: { toolUse: { toolUseId: string } }[] }; tool_results: unknown[] }
}

/** A deploy tool that counts its runs, and a hook that asks before each call (as an approval does). */
function deployKit() {
  const runs: string[] = []
  const deploy = tool({
    name: 'deploy',
    description: 'Deploys a model',
    inputSchema: z.object({ model: z.string() }),
    callback: (input) => {
      runs.push(input.model)
      return `deployed ${input.model}`
    },
  })
  const ask = (agent: Agent) =>
    agent.addHook(BeforeToolCallEvent, (event) => {
      const answer = event.interrupt({ name: 'approval', reason: { tool: event.toolUse.name } })
      if (answer !== 'yes') event.cancel = `refused: ${String(answer)}`
    })
  return { runs, deploy, ask }
}

const deployTurn = (...models: string[]): ScriptedTurn => ({
  toolUses: models.map((model, index) => ({
    name: 'deploy',
    toolUseId: `tu-${model}-${index}`,
    input: { model },
  })),
})

describe('a paused turn is stored in memory and resumed in a new process', () => {
  const bed = useMemoryTestBed('interrupts')

  /** An agent on the session as the runtime builds one: a fresh manager (and process state) each time. */
  const build = async (sessionId: string, turns: ScriptedTurn[], cache?: SessionCache) => {
    const kit = deployKit()
    const model = new ScriptedModel(turns)
    const manager = bed.manager({ sessionId, actorId: ACTOR, ...(cache && { sessionCache: cache }) })
    const agent = new Agent({ model, printer: false, sessionManager: manager, tools: [kit.deploy] })
    kit.ask(agent)
    await agent.initialize()
    return { agent, model, manager, runs: kit.runs }
  }
  const answers = (ids: readonly string[], response: string) =>
    ids.map((interruptId) => new InterruptResponseContent({ interruptId, response }))

  test('an approved pause runs the tool exactly once after a restart, as Strands’ own session manager does', async () => {
    const first = await build('paused-approved', [deployTurn('fraud-v2')])
    const paused = await first.agent.invoke('deploy fraud-v2')
    assert.equal(paused.stopReason, 'interrupt')
    assert.equal(paused.interrupts?.length, 1)
    const interrupt = paused.interrupts?.[0]
    assert.equal(interrupt?.name, 'approval')
    assert.deepEqual(first.runs, [])
    await first.manager.close()

    // What is stored: Python's agent-state slot holds the pause and the paused toolUse message.
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, 'paused-approved')
    const states = events.flatMap((event) => {
      const state = decodeMemoryEvent(event).state
      return state?.type === 'AGENT' ? [state.value] : []
    })
    const internal = states.at(-1)?._internal_state as { interrupt_state: StoredPause }
    const stored = internal.interrupt_state
    assert.equal(stored.activated, true)
    assert.deepEqual(Object.keys(stored.interrupts), [interrupt?.id])
    assert.deepEqual(stored.interrupts[interrupt!.id], {
      id: interrupt?.id,
      name: 'approval',
      reason: { tool: 'deploy' },
      response: null,
    })
    assert.equal(stored.context.tool_use_message.content[0]?.toolUse.toolUseId, 'tu-fraud-v2-0')
    assert.deepEqual(stored.context.tool_results, [])

    const second = await build('paused-approved', [{ text: 'fraud-v2 is live' }])
    // The paused call is held by the pause: not answered "interrupted" in the restored history.
    assert.ok(!textsOf(plain(second.agent.messages)).includes(INTERRUPTED_TOOL_RESULT_TEXT))
    const resumed = await second.agent.invoke(answers([interrupt!.id], 'yes'))
    assert.equal(resumed.stopReason, 'endTurn')
    assert.deepEqual(second.runs, ['fraud-v2'])
    const sent = second.model.calls[0]
    assert.ok(textsOf(sent).includes('deployed fraud-v2'))
    assert.ok(!textsOf(sent).includes(INTERRUPTED_TOOL_RESULT_TEXT))
    await second.manager.close()

    // The stored history is whole (the toolUse written once) and the pause is gone.
    const after = await listAllEvents(bed.env, bed.memoryId, ACTOR, 'paused-approved')
    const stored2 = after.flatMap((event) => decodeMemoryEvent(event).messages)
    assert.deepEqual(validateConverseHistory(stored2), [])
    assert.equal(
      stored2.filter((message) => message.content.some((b) => b.type === 'toolUseBlock')).length,
      1,
    )
    const third = await build('paused-approved', [{ text: 'hello again' }])
    assert.equal((await third.agent.invoke('anything else?')).stopReason, 'endTurn')
    assert.deepEqual(third.runs, [])
    await third.manager.close()

    // Strands' own session manager, same scenario: the same history after the resume.
    const dir = await mkdtemp(join(tmpdir(), 'longrun-interrupts-'))
    try {
      const reference = async (turns: ScriptedTurn[]) => {
        const kit = deployKit()
        const agent = new Agent({
          model: new ScriptedModel(turns),
          printer: false,
          tools: [kit.deploy],
          sessionManager: new SessionManager({
            sessionId: 'ref',
            storage: { snapshot: new FileStorage(dir) },
          }),
        })
        kit.ask(agent)
        await agent.initialize()
        return { agent, runs: kit.runs }
      }
      const refPaused = await reference([deployTurn('fraud-v2')])
      const refInterrupt = (await refPaused.agent.invoke('deploy fraud-v2')).interrupts?.[0]
      assert.equal(refInterrupt?.id, interrupt?.id)
      const refResumed = await reference([{ text: 'fraud-v2 is live' }])
      await refResumed.agent.invoke(answers([refInterrupt!.id], 'yes'))
      assert.deepEqual(refResumed.runs, ['fraud-v2'])
      assert.deepEqual(plain(second.agent.messages), plain(refResumed.agent.messages))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a refused pause does not run the tool, and the model is told', async () => {
    const first = await build('paused-refused', [deployTurn('fraud-v3')])
    const id = (await first.agent.invoke('deploy fraud-v3')).interrupts?.[0]?.id as string
    await first.manager.close()
    const second = await build('paused-refused', [{ text: 'not deployed' }])
    const resumed = await second.agent.invoke(answers([id], 'no, not today'))
    assert.equal(resumed.stopReason, 'endTurn')
    assert.deepEqual(second.runs, [])
    assert.ok(textsOf(second.model.calls[0]).includes('refused: no, not today'))
    await second.manager.close()
  })

  test('two pauses in one turn are stored together and resumed together, warm or cold', async () => {
    const cache = new SessionCache()
    const first = await build('paused-twice', [deployTurn('a', 'b')], cache)
    const paused = await first.agent.invoke('deploy a and b')
    assert.equal(paused.stopReason, 'interrupt')
    const ids = (paused.interrupts ?? []).map((interrupt) => interrupt.id)
    assert.equal(ids.length, 2)
    await first.manager.close()
    // A warm restore (this process's cache) and a cold one restore the same pause.
    const warm = await build('paused-twice', [], cache)
    const cold = await build('paused-twice', [{ text: 'both live' }])
    assert.deepEqual(plain(warm.agent.messages), plain(cold.agent.messages))
    await warm.manager.close()
    const resumed = await cold.agent.invoke(answers(ids, 'yes'))
    assert.equal(resumed.stopReason, 'endTurn')
    assert.deepEqual(cold.runs.sort(), ['a', 'b'])
    await cold.manager.close()
  })
})
