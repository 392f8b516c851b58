import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Agent, SlidingWindowConversationManager } from '@strands-agents/sdk'
import {
  agentStateEvent,
  encodeMessagePayload,
  type EventPayloadItem,
  isPrompt,
  sessionStateEvent,
  userTextEventPayload,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import {
  conversationPayloads,
  countingClient,
  listAllEvents,
  plain,
  seedSession,
  useMemoryTestBed,
  writeEvent,
} from '../helpers/memory-session.ts'
import { ScriptedModel } from '../helpers/scripted-model.ts'

const ACTOR = 'bounded-user'

describe('bounded restore: the conversation window, read newest first', () => {
  const bed = useMemoryTestBed('bounded_memory')

  /** Restores `sessionId` into a fresh agent and returns it, with the ListEvents calls it made. */
  const restore = async (sessionId: string, restoreWindow: number | 'full', window = 40) => {
    const client = countingClient(bed.client)
    const manager = bed.manager({ sessionId, actorId: ACTOR, client, restoreWindow })
    const conversationManager = new SlidingWindowConversationManager({ windowSize: window })
    const agent = new Agent({
      model: new ScriptedModel(),
      sessionManager: manager,
      conversationManager,
      printer: false,
    })
    await agent.initialize()
    // The whole session, then Strands' own sliding window: what the bounded read must equal.
    if (restoreWindow === 'full' && agent.messages.length > window)
      conversationManager.reduce({ agent, model: agent.model })
    return { agent, manager, listCalls: client.counts.get('ListEventsCommand') ?? 0 }
  }

  for (const [layout, perEvent, turns] of [
    ['one message an event (Python)', 1, 700],
    ['a turn or so an event', 3, 900],
    ['100 messages an event', 100, 4000],
  ] as const) {
    test(`${layout}: a few pages restore the same window the whole session trimmed by Strands' sliding window holds`, async () => {
      const sessionId = `bounded-${perEvent}`
      const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
      const items = conversationPayloads(turns, perEvent)
      // The agent's state is stored once, at the very start, and never again: it must still be found.
      const state = agentStateEvent({ agentId: 'default', state: { plan: 'gold' } })
      await writeEvent(bed.env, target, [...sessionStateEvent(sessionId).payload], {
        timestamp: new Date(Date.now() - 3_600_000),
        metadata: sessionStateEvent(sessionId).metadata,
      })
      await writeEvent(bed.env, target, state.payload, {
        timestamp: new Date(Date.now() - 3_599_000),
        metadata: state.metadata,
      })
      await seedSession(bed.env, target, items, perEvent)
      const bounded = await restore(sessionId, 40)
      const full = await restore(sessionId, 'full')
      assert.ok(full.listCalls > 3 || perEvent === 100, `the whole session took ${full.listCalls} calls`)
      assert.ok(bounded.listCalls <= 3, `the window took ${bounded.listCalls} ListEvents calls`)
      assert.deepEqual(plain(bounded.agent.messages), plain(full.agent.messages))
      assert.ok(bounded.agent.messages.length <= 40)
      assert.ok(isPrompt(bounded.agent.messages[0] as never), 'the window starts on a prompt')
      assert.deepEqual(validateConverseHistory(bounded.agent.messages), [])
      assert.equal(bounded.agent.appState.get('plan'), 'gold', 'the old agent state was found')
      assert.equal(bounded.manager.restoreReport?.kind, 'cold')
      // The next messages continue the session's message ids: the prompt, then the answer.
      await bounded.agent.invoke('one more question')
      await bounded.manager.close()
      const idOf = (item: unknown) => {
        const text = (item as { conversational?: { content: { text: string } } }).conversational?.content.text
        return text === undefined ? 0 : (JSON.parse(text) as { message_id: number }).message_id
      }
      const seededMax = Math.max(...items.map(idOf))
      const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
      assert.equal(idOf(events.at(-1)?.payload?.at(-1)), seededMax + 2)
    })
  }

  test('a task result stored just before a prompt stays with it: the window never cuts between them', async () => {
    const sessionId = 'bounded-adjacent'
    const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
    const turn = (n: number) => [
      encodeMessagePayload({ role: 'user', content: [{ text: `q${n}` }] }) as EventPayloadItem,
      encodeMessagePayload({ role: 'assistant', content: [{ text: `a${n}` }] }) as EventPayloadItem,
    ]
    // Six messages of history, then a result written by a tool, then the newest turn.
    const items = [
      ...turn(1),
      ...turn(2),
      ...turn(3),
      userTextEventPayload('Long-running task x (tool t) completed.\nResult:\nok'),
      ...turn(4),
    ]
    await seedSession(bed.env, target, items, 1)
    // A window of 3 would take [result, q4, a4] merged as [user, assistant]: two messages, so q3's turn
    // does not fit beside it (2 + 2 > 3) and the window is the newest turn with the result in it.
    const { agent } = await restore(sessionId, 3, 3)
    assert.deepEqual(
      plain(agent.messages).map((message) =>
        message.content.map((block) => ('text' in block ? block.text : '')).join('+'),
      ),
      ['Long-running task x (tool t) completed.\nResult:\nok+q4', 'a4'],
    )
  })

  test('the agent state written names how many messages lie before the window, for Python to restore from', async () => {
    const sessionId = 'bounded-removed-count'
    const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
    await seedSession(bed.env, target, conversationPayloads(60, 7), 1)
    const { agent, manager } = await restore(sessionId, 10, 10)
    agent.appState.set('changed', true)
    await agent.invoke('next')
    await manager.close()
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    const stateEvent = events.findLast((event) => event.metadata?.stateType?.stringValue === 'AGENT')
    const blob = JSON.parse(String((stateEvent?.payload?.[0] as { blob: string }).blob)) as {
      conversation_manager_state: { removed_message_count: number }
    }
    const removed = blob.conversation_manager_state.removed_message_count
    assert.ok(removed > 100, `removed_message_count ${removed}`)
  })
})
