import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import {
  Agent,
  FileStorage,
  type Message,
  type ModelStreamEvent,
  SessionManager,
  type StreamOptions,
} from '@strands-agents/sdk'
import { decodeMemoryEvent, SessionCache } from '../../src/memory/index.ts'
import { ScriptedModel } from '../helpers/scripted-model.ts'
import { listAllEvents, useMemoryTestBed } from '../helpers/memory-session.ts'

/**
 * A model that keeps the conversation on its server, as OpenAI's Responses API does with
 * `stateful: true`: each call records the response id it continues from and stores its own.
 */
class StatefulModel extends ScriptedModel {
  readonly continuedFrom: unknown[] = []
  #responses = 0

  override get stateful(): boolean {
    return true
  }

  override async *stream(messages: Message[], options?: StreamOptions): AsyncIterable<ModelStreamEvent> {
    this.continuedFrom.push(options?.modelState?.get('responseId'))
    this.#responses += 1
    options?.modelState?.set('responseId', `resp-${String(this.#responses).padStart(4, '0')}`)
    yield* super.stream(messages)
  }
}

describe("a stateful model's state survives a restore", () => {
  const bed = useMemoryTestBed('model_state')

  test('a rebuilt agent continues from the stored response id, as with Strands’ own session manager', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'longrun-model-state-'))
    try {
      // Strands' own session manager on files: the reference behaviour.
      const reference = async () => {
        const model = new StatefulModel([{ text: 'ok' }])
        const agent = new Agent({
          model,
          printer: false,
          sessionManager: new SessionManager({
            sessionId: 'stateful',
            storage: { snapshot: new FileStorage(dir) },
          }),
        })
        await agent.invoke('hello')
        return { agent, model }
      }
      await reference()
      const referenceAgain = await reference()

      // The same two invocations on AgentCore Memory, each with a freshly built agent and manager.
      const ours = async (cache?: SessionCache) => {
        const model = new StatefulModel([{ text: 'ok' }])
        const manager = bed.manager({
          sessionId: 'stateful',
          actorId: 'user-1',
          ...(cache !== undefined && { sessionCache: cache }),
        })
        const agent = new Agent({ model, printer: false, sessionManager: manager })
        await agent.invoke('hello')
        await manager.close()
        return { agent, model }
      }
      await ours()
      const oursAgain = await ours()

      assert.equal(referenceAgain.model.continuedFrom[0], 'resp-0001')
      assert.deepEqual(oursAgain.model.continuedFrom, referenceAgain.model.continuedFrom)
      assert.deepEqual(oursAgain.agent.modelState.getAll(), referenceAgain.agent.modelState.getAll())

      // A warm restore (this process restored the session before) keeps it too.
      const cache = new SessionCache()
      await ours(cache)
      const warm = await ours(cache)
      assert.equal(warm.model.continuedFrom[0], 'resp-0001')

      // Stored where the Python manager's format keeps it: the agent state's `_internal_state`.
      const events = await listAllEvents(bed.env, bed.memoryId, 'user-1', 'stateful')
      const states = events.flatMap((event) => {
        const state = decodeMemoryEvent(event).state
        return state?.type === 'AGENT' ? [state.value] : []
      })
      const internal = states.at(-1)?._internal_state as { model_state?: unknown } | undefined
      assert.deepEqual(internal?.model_state, { responseId: 'resp-0001' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
