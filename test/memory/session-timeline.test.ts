/**
 * The timeline's marks of a continuation turn, from event metadata alone: every entry of an event
 * marked `longrunContinuation` carries the mark (its depth, or `stopped`) and the task of
 * `longrunTaskId`; the message that opens the turn is the runtime's, not the user's; a task's result
 * is known by its metadata; and text that only looks like a continuation is not one. The CLI's
 * line for an entry (`longrun memory events`) shows the mark as a tag.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Event } from '@aws-sdk/client-bedrock-agentcore'
import { formatEntry } from '../../src/cli/memory-action.ts'
import {
  CONTINUATION_METADATA_KEY,
  CONTINUATION_STOPPED,
  continuationPrompt,
  TASK_ID_METADATA_KEY,
} from '../../src/contract/index.ts'
import {
  agentStateEvent,
  encodeMessagePayload,
  type EventPayloadItem,
  STATE_TYPE_KEY,
  timelineOf,
  userTextEventPayload,
} from '../../src/memory/index.ts'

const TASK = 'Xq3TaskOfTheTraining000'
const AT = new Date('2026-12-07T21:13:38Z')
let next = 0

/** A ListEvents event with these payload items and metadata (string values). */
function event(payload: readonly EventPayloadItem[], metadata: Record<string, string> = {}): Event {
  next += 1
  return {
    eventId: `event-${next}`,
    eventTimestamp: AT,
    memoryId: 'memory',
    actorId: 'actor',
    sessionId: 'session',
    payload: payload as Event['payload'],
    metadata: Object.fromEntries(
      Object.entries(metadata).map(([key, value]) => [key, { stringValue: value }]),
    ) as Event['metadata'],
  }
}

const message = (role: 'user' | 'assistant', content: unknown[]) =>
  encodeMessagePayload({ role, content } as Parameters<typeof encodeMessagePayload>[0]) as EventPayloadItem

const marks = (depth: string, taskId = TASK) => ({
  [TASK_ID_METADATA_KEY]: taskId,
  [CONTINUATION_METADATA_KEY]: depth,
})

describe('the timeline of a session with continuations', () => {
  test("a user's own turn carries no mark", () => {
    const entries = timelineOf(
      event([
        message('user', [{ text: 'train a model, then evaluate it' }]),
        message('assistant', [{ toolUse: { name: 'start_model_training', toolUseId: 't1', input: {} } }]),
      ]),
    )
    assert.deepEqual(
      entries.map((entry) => [entry.author, entry.continuation, entry.taskId, entry.calls]),
      [
        ['user', undefined, undefined, undefined],
        ['agent', undefined, undefined, ['start_model_training']],
      ],
    )
  })

  test("a task's result is the MCP server's, by its metadata (and by its words, without metadata)", () => {
    const text = `Long-running task ${TASK} (tool model_training) completed.\nResult:\n{}`
    const [marked] = timelineOf(event([userTextEventPayload(text)], { [TASK_ID_METADATA_KEY]: TASK }))
    assert.equal(marked?.author, 'task result')
    assert.equal(marked?.taskId, TASK)
    assert.equal(marked?.continuation, undefined, 'a result is not part of a continuation')
    const [older] = timelineOf(event([userTextEventPayload(text)]))
    assert.equal(older?.author, 'task result')
    assert.equal(older?.taskId, undefined)
    // Any other text with a task id in its metadata is the server's too.
    const [other] = timelineOf(event([userTextEventPayload('cancelled')], { [TASK_ID_METADATA_KEY]: TASK }))
    assert.equal(other?.author, 'task result')
  })

  test('every entry of a continuation event is marked with its depth and task; its prompt is the runtime’s', () => {
    const opening = event(
      [
        message('user', [{ text: continuationPrompt(TASK) }]),
        message('assistant', [
          { toolUse: { name: 'start_evaluate_model', toolUseId: 't2', input: { training_task_id: TASK } } },
        ]),
      ],
      marks('1'),
    )
    const closing = event(
      [
        ...(agentStateEvent({ agentId: 'default', state: {} }).payload as EventPayloadItem[]),
        message('user', [{ toolResult: { toolUseId: 't2', status: 'success', content: [{ text: 'ok' }] } }]),
        message('assistant', [{ text: 'While you were away, I started the evaluation.' }]),
      ],
      { ...marks('1'), [STATE_TYPE_KEY]: 'AGENT', agentId: 'default' },
    )
    const entries = [opening, closing].flatMap(timelineOf)
    assert.deepEqual(
      entries.map((entry) => entry.author),
      ['runtime', 'agent', 'state', 'tool', 'agent'],
    )
    for (const entry of entries) {
      assert.deepEqual(entry.continuation, { depth: 1, stopped: false }, `${entry.author}: ${entry.text}`)
      assert.equal(entry.taskId, TASK)
    }
    assert.deepEqual(entries[1]?.calls, ['start_evaluate_model'])
    assert.equal(entries[4]?.calls, undefined, 'an answer calls nothing')
  })

  test('a continuation a limit stopped is marked stopped, with no depth', () => {
    const entries = timelineOf(
      event(
        [
          message('user', [{ text: continuationPrompt(TASK) }]),
          message('assistant', [{ text: 'Your task completed; I stopped acting on my own.' }]),
        ],
        marks(CONTINUATION_STOPPED),
      ),
    )
    assert.deepEqual(
      entries.map((entry) => [entry.author, entry.continuation]),
      [
        ['runtime', { stopped: true }],
        ['agent', { stopped: true }],
      ],
    )
  })

  test('a depth that is not one is still a continuation’s mark, of no depth', () => {
    for (const value of ['0', 'abc', '1.5', '99999']) {
      const [entry] = timelineOf(event([message('assistant', [{ text: 'done' }])], marks(value)))
      assert.deepEqual(entry?.continuation, { stopped: false }, value)
    }
    const [deep] = timelineOf(event([message('assistant', [{ text: 'done' }])], marks('12')))
    assert.deepEqual(deep?.continuation, { depth: 12, stopped: false })
  })

  test('text that reads like a continuation, with no metadata, is what its role says: not guessed', () => {
    const [entry] = timelineOf(event([userTextEventPayload(continuationPrompt(TASK))]))
    assert.equal(entry?.author, 'user')
    assert.equal(entry?.continuation, undefined)
  })

  test('`longrun memory events` tags each entry of a continuation, and only those', () => {
    const base = { eventId: 'e', time: AT, text: 'hello' }
    const plain = formatEntry({ ...base, author: 'agent' }, false)
    const away = formatEntry({ ...base, author: 'agent', continuation: { depth: 2, stopped: false } }, false)
    const stopped = formatEntry({ ...base, author: 'runtime', continuation: { stopped: true } }, false)
    assert.equal(plain, '2026-12-07 21:13:38Z  agent        hello')
    assert.equal(away, '2026-12-07 21:13:38Z  agent        [while you were away] hello')
    assert.equal(stopped, '2026-12-07 21:13:38Z  runtime      [while you were away, stopped] hello')
  })
})
