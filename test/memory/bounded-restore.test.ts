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

  /** The `removed_message_count` of the newest agent state stored in the session. */
  const storedRemovedCount = async (sessionId: string) => {
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    const stateEvent = events.findLast((event) => event.metadata?.stateType?.stringValue === 'AGENT')
    const blob = JSON.parse(String((stateEvent?.payload?.[0] as { blob: string }).blob)) as {
      conversation_manager_state: { removed_message_count: number }
    }
    return blob.conversation_manager_state.removed_message_count
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

  test('a tool call cut off by a new prompt: the bounded window equals the whole session under the sliding window', async () => {
    const sessionId = 'bounded-interrupted'
    const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
    const text = (role: 'user' | 'assistant', value: string) =>
      encodeMessagePayload({ role, content: [{ text: value }] }) as EventPayloadItem
    // q2 asked for a tool whose result never came: the next prompt is no turn of its own, since the
    // restore answers the cut-off call inside it.
    const items = [
      text('user', 'q1'),
      text('assistant', 'a1'),
      text('user', 'q2'),
      encodeMessagePayload({
        role: 'assistant',
        content: [{ toolUse: { toolUseId: 'cut-1', name: 'train', input: {} } }],
      }) as EventPayloadItem,
      text('user', 'q3'),
      text('assistant', 'a3'),
    ]
    await seedSession(bed.env, target, items, 1)
    const bounded = await restore(sessionId, 3, 3)
    const full = await restore(sessionId, 'full', 3)
    assert.deepEqual(plain(bounded.agent.messages), plain(full.agent.messages))
    assert.deepEqual(validateConverseHistory(bounded.agent.messages), [])
    const first = plain(bounded.agent.messages)[0]
    assert.equal(first?.role, 'user')
    assert.ok(
      first?.content.every((block) => !('toolResult' in block)),
      'the window does not open on a tool result',
    )
  })

  test('a task result merged into the prompt after it is not counted as a message before the window', async () => {
    const items = [
      encodeMessagePayload({ role: 'user', content: [{ text: 'start training' }] }) as EventPayloadItem,
      encodeMessagePayload({ role: 'assistant', content: [{ text: 'started' }] }) as EventPayloadItem,
      userTextEventPayload('Long-running task x (tool train) completed.\nResult:\nloss 0.1'),
      encodeMessagePayload({ role: 'user', content: [{ text: 'how did it go?' }] }) as EventPayloadItem,
      encodeMessagePayload({ role: 'assistant', content: [{ text: 'loss 0.1' }] }) as EventPayloadItem,
    ]
    for (const restoreWindow of [40, 'full'] as const) {
      const sessionId = `bounded-removed-merged-${restoreWindow}`
      await seedSession(bed.env, { memoryId: bed.memoryId, actorId: ACTOR, sessionId }, items, 1)
      const { agent, manager } = await restore(sessionId, restoreWindow)
      assert.equal(agent.messages.length, 4, 'the result and the prompt after it are one message')
      agent.appState.set('round', String(restoreWindow))
      await agent.invoke('thanks')
      await manager.close()
      assert.equal(await storedRemovedCount(sessionId), 0, `restoreWindow ${restoreWindow}`)
    }
  })

  test('the agent state written names how many messages lie before the window, for Python to restore from', async () => {
    const sessionId = 'bounded-removed-count'
    const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
    await seedSession(bed.env, target, conversationPayloads(60, 7), 1)
    const { agent, manager } = await restore(sessionId, 10, 10)
    agent.appState.set('changed', true)
    await agent.invoke('next')
    await manager.close()
    const removed = await storedRemovedCount(sessionId)
    assert.ok(removed > 100, `removed_message_count ${removed}`)
  })
})
