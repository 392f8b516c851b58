import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Message, type MessageData, TextBlock, ToolResultBlock, ToolUseBlock } from '@strands-agents/sdk'
import {
  INTERRUPTED_TOOL_RESULT_TEXT,
  normalizeConverseHistory,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'

const user = (text: string) => new Message({ role: 'user', content: [new TextBlock(text)] })
const assistant = (text: string) => new Message({ role: 'assistant', content: [new TextBlock(text)] })
const toolCall = (...ids: string[]) =>
  new Message({
    role: 'assistant',
    content: ids.map((toolUseId) => new ToolUseBlock({ name: 'run', toolUseId, input: {} })),
  })
const toolResult = (...ids: string[]) =>
  new Message({
    role: 'user',
    content: ids.map(
      (toolUseId) => new ToolResultBlock({ toolUseId, status: 'success', content: [new TextBlock('done')] }),
    ),
  })

/** The non-blank top-level texts of `messages`, in order, as `role:text` (tool result content left out). */
const texts = (messages: readonly Message[]) =>
  messages.flatMap((message) =>
    message.content.flatMap((block) =>
      block.type === 'textBlock' && block.text.trim() !== '' ? [`${message.role}:${block.text}`] : [],
    ),
  )

const shape = (messages: readonly Message[]) =>
  messages.map((message) => ({
    role: message.role,
    content: (message.toJSON() as MessageData).content.map((block) => {
      if ('text' in block) return `text:${block.text}`
      if ('toolUse' in block) return `use:${block.toolUse.toolUseId}`
      if ('toolResult' in block) return `result:${block.toolResult.toolUseId}:${block.toolResult.status}`
      return Object.keys(block)[0]
    }),
  }))

describe('validateConverseHistory', () => {
  it('accepts an alternating history with paired tool blocks', () => {
    assert.deepEqual(
      validateConverseHistory([user('q'), toolCall('a'), toolResult('a'), assistant('r'), user('next')]),
      [],
    )
  })

  it('reports each rule Converse enforces', () => {
    const reasons = (messages: Message[]) =>
      validateConverseHistory(messages).map((violation) => violation.reason)
    assert.deepEqual(reasons([assistant('x')]), ['first message is not a user message'])
    assert.deepEqual(reasons([user('a'), user('b')]), ['two user messages in a row'])
    assert.deepEqual(reasons([user('q'), toolCall('a')]), ['toolUse a has no toolResult in the next message'])
    assert.deepEqual(reasons([user('q'), assistant('r'), toolResult('z')]), [
      'toolResult z has no toolUse in the message before',
    ])
    assert.deepEqual(reasons([user(' ')]), ['blank text block'])
    const textFirst = new Message({
      role: 'user',
      content: [new TextBlock('hi'), new ToolResultBlock({ toolUseId: 'a', status: 'success', content: [] })],
    })
    assert.deepEqual(reasons([user('q'), toolCall('a'), textFirst]), ['toolResult blocks do not come first'])
  })
})

describe('normalizeConverseHistory', () => {
  it('merges consecutive messages of one role in order, keeping the last trackingId', () => {
    const external = user('task result')
    const prompt = user('and now?')
    const out = normalizeConverseHistory([user('q'), assistant('r'), external, prompt])
    assert.deepEqual(shape(out), [
      { role: 'user', content: ['text:q'] },
      { role: 'assistant', content: ['text:r'] },
      { role: 'user', content: ['text:task result', 'text:and now?'] },
    ])
    assert.equal(out[2]?.trackingId, prompt.trackingId)
  })

  it('answers a toolUse left without result (crash mid-tool) with an interrupted error result', () => {
    const out = normalizeConverseHistory([user('train'), toolCall('t1', 't2')])
    assert.deepEqual(shape(out), [
      { role: 'user', content: ['text:train'] },
      { role: 'assistant', content: ['use:t1', 'use:t2'] },
      { role: 'user', content: ['result:t1:error', 'result:t2:error'] },
    ])
    const result = out[2]?.content[0] as ToolResultBlock
    assert.equal((result.content[0] as TextBlock).text, INTERRUPTED_TOOL_RESULT_TEXT)
    assert.deepEqual(validateConverseHistory(out), [])
  })

  it('puts a tool-written event that landed between toolUse and toolResult after the results', () => {
    const out = normalizeConverseHistory([
      user('q'),
      toolCall('a'),
      user('progress note'),
      toolResult('a'),
      assistant('r'),
    ])
    assert.deepEqual(shape(out), [
      { role: 'user', content: ['text:q'] },
      { role: 'assistant', content: ['use:a'] },
      { role: 'user', content: ['result:a:success', 'text:progress note'] },
      { role: 'assistant', content: ['text:r'] },
    ])
  })

  it('pairs a result with its call when another turn of the session was stored between them', () => {
    // Turn B starts a task; turn A of the same session is stored before B's result (two turns at once).
    const out = normalizeConverseHistory([
      user('hello'),
      assistant('hi'),
      user('train B'),
      toolCall('b'),
      user('list my tasks'),
      toolCall('a'),
      toolResult('b'),
      assistant('B started'),
      toolResult('a'),
      assistant('your tasks'),
    ])
    assert.deepEqual(shape(out), [
      { role: 'user', content: ['text:hello'] },
      { role: 'assistant', content: ['text:hi'] },
      { role: 'user', content: ['text:train B'] },
      { role: 'assistant', content: ['use:b'] },
      { role: 'user', content: ['result:b:success', 'text:list my tasks'] },
      { role: 'assistant', content: ['use:a'] },
      { role: 'user', content: ['result:a:success'] },
      { role: 'assistant', content: ['text:B started', 'text:your tasks'] },
    ])
    assert.deepEqual(validateConverseHistory(out), [])
    // Only a call whose result is nowhere in the history is answered "interrupted".
    assert.ok(!JSON.stringify(out.map((message) => message.toJSON())).includes(INTERRUPTED_TOOL_RESULT_TEXT))
  })

  it('answers "interrupted" only the calls that have no stored result, displaced results kept', () => {
    const out = normalizeConverseHistory([
      user('q'),
      toolCall('x', 'y'),
      user('another turn'),
      toolCall('z'),
      toolResult('x'),
      assistant('r'),
    ])
    assert.deepEqual(shape(out), [
      { role: 'user', content: ['text:q'] },
      { role: 'assistant', content: ['use:x', 'use:y'] },
      { role: 'user', content: ['result:x:success', 'result:y:error', 'text:another turn'] },
      { role: 'assistant', content: ['use:z', 'text:r'] },
      { role: 'user', content: ['result:z:error'] },
    ])
    assert.deepEqual(validateConverseHistory(out), [])
  })

  it('gives a displaced result to the nearest earlier call of its id left unanswered', () => {
    const out = normalizeConverseHistory([
      user('q'),
      toolCall('a'),
      toolResult('a'),
      assistant('first'),
      user('again'),
      toolCall('a'),
      user('meanwhile'),
      toolCall('c'),
      toolResult('c', 'a'),
      assistant('done'),
    ])
    assert.deepEqual(shape(out), [
      { role: 'user', content: ['text:q'] },
      { role: 'assistant', content: ['use:a'] },
      { role: 'user', content: ['result:a:success'] },
      { role: 'assistant', content: ['text:first'] },
      { role: 'user', content: ['text:again'] },
      { role: 'assistant', content: ['use:a'] },
      { role: 'user', content: ['result:a:success', 'text:meanwhile'] },
      { role: 'assistant', content: ['use:c'] },
      { role: 'user', content: ['result:c:success'] },
      { role: 'assistant', content: ['text:done'] },
    ])
  })

  it('keeps every stored result of turns that ran at once, in any interleaving (randomised)', () => {
    const random = seededRandom(7)
    for (let round = 0; round < 300; round += 1) {
      // Each turn is stored in its own order (prompt, call, result, answer); turns interleave freely.
      const turns = Array.from({ length: 2 + Math.floor(random() * 3) }, (_, turn) => [
        user(`prompt ${turn}`),
        toolCall(`t${turn}`),
        toolResult(`t${turn}`),
        assistant(`answer ${turn}`),
      ])
      const history: Message[] = [user('hello'), assistant('hi')]
      while (turns.some((turn) => turn.length > 0)) {
        const waiting = turns.filter((turn) => turn.length > 0)
        history.push((waiting[Math.floor(random() * waiting.length)] as Message[]).shift() as Message)
      }
      const out = normalizeConverseHistory(history)
      assert.deepEqual(validateConverseHistory(out), [], JSON.stringify(shape(history)))
      const results = out.flatMap((message) =>
        message.content.flatMap((block) => (block.type === 'toolResultBlock' ? [block] : [])),
      )
      assert.deepEqual(
        results.map((block) => block.status),
        results.map(() => 'success'),
        JSON.stringify(shape(history)),
      )
      assert.equal(results.length, turns.length, JSON.stringify(shape(history)))
    }
  })

  it('drops orphan toolResults, leading assistant messages and blank text', () => {
    const out = normalizeConverseHistory([
      assistant('hello?'),
      toolResult('gone'),
      user(' '),
      user('q'),
      assistant('r'),
      toolResult('x'),
    ])
    assert.deepEqual(shape(out), [
      { role: 'user', content: ['text:q'] },
      { role: 'assistant', content: ['text:r'] },
    ])
  })

  it('leaves a valid history and its messages untouched', () => {
    const history = [user('q'), toolCall('a'), toolResult('a'), assistant('r')]
    const out = normalizeConverseHistory(history)
    assert.equal(out.length, history.length)
    history.forEach((message, index) => assert.strictEqual(out[index], message))
  })

  it('turns any sequence of messages into a valid history (randomised)', () => {
    const random = seededRandom(42)
    const ids = ['a', 'b', 'c']
    const pick = () => ids[Math.floor(random() * ids.length)] as string
    for (let round = 0; round < 500; round += 1) {
      const history: Message[] = []
      const length = Math.floor(random() * 9)
      for (let index = 0; index < length; index += 1) {
        const kind = Math.floor(random() * 6)
        if (kind === 0) history.push(user(`u${index}`))
        else if (kind === 1) history.push(assistant(`a${index}`))
        else if (kind === 2) history.push(toolCall(pick()))
        else if (kind === 3) history.push(toolResult(pick()))
        else if (kind === 4) history.push(toolCall(pick(), pick()))
        else history.push(user(' '))
      }
      const out = normalizeConverseHistory(history)
      assert.deepEqual(validateConverseHistory(out), [], JSON.stringify(shape(history)))
      // Nothing said is lost or reordered: every user text survives, and every assistant text but
      // those before the first user text (a history cannot start with the assistant).
      const firstUser = texts(history).findIndex((text) => text.startsWith('user:'))
      const kept = firstUser === -1 ? [] : texts(history).slice(firstUser)
      assert.deepEqual(texts(out), kept, JSON.stringify(shape(history)))
    }
  })
})
