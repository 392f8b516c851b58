import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ImageBlock,
  Message,
  ReasoningBlock,
  TextBlock,
  ToolResultBlock,
  ToolUseBlock,
} from '@strands-agents/sdk'
import {
  agentStateEvent,
  CONVERSATIONAL_TEXT_LIMIT,
  decodeMemoryEvent,
  encodeMessagePayload,
  pythonIsoTimestamp,
  sessionStateEvent,
  userTextEventPayload,
} from '../../src/memory/index.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'

const NOW = new Date('2026-11-23T10:00:00.123Z')
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10])
const PNG_BASE64 = Buffer.from(PNG).toString('base64')

/** A message event exactly as the Python manager writes it (json.dumps separators, message_id 0). */
function pythonEvent(eventId: string, role: 'user' | 'assistant', content: unknown[]) {
  const text = JSON.stringify({
    message: { role, content },
    message_id: 0,
    redact_message: null,
    created_at: '2025-08-25T15:12:34.123456+00:00',
    updated_at: '2025-08-25T15:12:34.123456+00:00',
  })
    .replaceAll('","', '", "')
    .replaceAll('":', '": ')
  return {
    eventId,
    eventTimestamp: new Date('2025-08-25T15:12:34.123Z'),
    payload: [{ conversational: { content: { text }, role: role.toUpperCase() } }],
  }
}

function decodeOne(event: Parameters<typeof decodeMemoryEvent>[0]) {
  const problems: string[] = []
  const decoded = decodeMemoryEvent(event, (problem) => problems.push(`${problem.eventId}:${problem.reason}`))
  return { ...decoded, problems }
}

describe('event codec: writing in the Python format', () => {
  it('writes a user text message as USER conversational SessionMessage JSON with Python timestamps', () => {
    const payload = encodeMessagePayload(new Message({ role: 'user', content: [new TextBlock('hello')] }), {
      messageId: 3,
      now: NOW,
    })
    assert.ok(payload && 'conversational' in payload)
    assert.equal(payload.conversational.role, 'USER')
    const text = payload.conversational.content.text
    assert.deepEqual(Object.keys(JSON.parse(text)), [
      'message',
      'message_id',
      'redact_message',
      'created_at',
      'updated_at',
    ])
    assert.deepEqual(JSON.parse(text), {
      message: { role: 'user', content: [{ text: 'hello' }] },
      message_id: 3,
      redact_message: null,
      created_at: '2026-11-23T10:00:00.123000+00:00',
      updated_at: '2026-11-23T10:00:00.123000+00:00',
    })
    assert.equal(pythonIsoTimestamp(NOW), '2026-11-23T10:00:00.123000+00:00')
  })

  it('writes toolUse as ASSISTANT and toolResult as USER, dropping blank text blocks like Python', () => {
    const assistant = new Message({
      role: 'assistant',
      content: [
        new TextBlock('  '),
        new ToolUseBlock({ name: 'add', toolUseId: 't1', input: { bytes: 'not-binary' } }),
      ],
    })
    const user = new Message({
      role: 'user',
      content: [new ToolResultBlock({ toolUseId: 't1', status: 'success', content: [new TextBlock('3')] })],
    })
    const a = encodeMessagePayload(assistant, { now: NOW })
    const u = encodeMessagePayload(user, { now: NOW })
    assert.ok(a && 'conversational' in a && u && 'conversational' in u)
    assert.equal(a.conversational.role, 'ASSISTANT')
    assert.deepEqual(JSON.parse(a.conversational.content.text).message.content, [
      { toolUse: { name: 'add', toolUseId: 't1', input: { bytes: 'not-binary' } } },
    ])
    assert.equal(u.conversational.role, 'USER')
    assert.deepEqual(JSON.parse(u.conversational.content.text).message.content, [
      { toolResult: { toolUseId: 't1', status: 'success', content: [{ text: '3' }] } },
    ])
    assert.equal(
      encodeMessagePayload(new Message({ role: 'user', content: [new TextBlock(' \n')] })),
      undefined,
    )
  })

  it('writes bytes as __bytes_encoded__ and reasoning as reasoningContent, and reads them back', () => {
    const message = new Message({
      role: 'assistant',
      content: [
        new ReasoningBlock({ text: 'think', signature: 'sig' }),
        new TextBlock('look'),
        new ImageBlock({ format: 'png', source: { bytes: PNG } }),
      ],
    })
    const payload = encodeMessagePayload(message, { now: NOW })
    assert.ok(payload && 'conversational' in payload)
    const content = JSON.parse(payload.conversational.content.text).message.content
    assert.deepEqual(content[0], { reasoningContent: { reasoningText: { text: 'think', signature: 'sig' } } })
    assert.deepEqual(content[2], {
      image: { format: 'png', source: { bytes: { __bytes_encoded__: true, data: PNG_BASE64 } } },
    })
    const { messages } = decodeOne({ eventId: '1#aa', payload: [payload] })
    assert.deepEqual(messages[0]?.toJSON().content, message.toJSON().content)
    const image = messages[0]?.content[2]
    assert.ok(image instanceof ImageBlock)
    assert.deepEqual((image.source as { bytes: Uint8Array }).bytes, PNG)
  })

  it('writes a message of 100,000 characters and more as a [text, role] blob that reads back whole', () => {
    const long = 'x'.repeat(CONVERSATIONAL_TEXT_LIMIT)
    const payload = encodeMessagePayload(new Message({ role: 'assistant', content: [new TextBlock(long)] }), {
      now: NOW,
    })
    assert.ok(payload && 'blob' in payload && typeof payload.blob === 'string')
    const [text, role] = JSON.parse(payload.blob)
    assert.equal(role, 'assistant')
    assert.equal(JSON.parse(text).message.content[0].text, long)
    const { messages } = decodeOne({ eventId: '1#ab', payload: [payload] })
    assert.equal(messages[0]?.role, 'assistant')
    assert.equal((messages[0]?.content[0] as TextBlock).text, long)
    // Just under the limit stays conversational.
    const shortText = 'y'.repeat(CONVERSATIONAL_TEXT_LIMIT - 200)
    const short = encodeMessagePayload(new Message({ role: 'user', content: [new TextBlock(shortText)] }), {
      now: NOW,
    })
    assert.ok(short && 'conversational' in short)
  })

  it('writes session and agent state as blob events told apart by stateType/agentId metadata', () => {
    const session = sessionStateEvent('s-1', NOW)
    assert.deepEqual(session.metadata, { stateType: { stringValue: 'SESSION' } })
    assert.deepEqual(JSON.parse(session.payload[0]?.blob as string), {
      session_id: 's-1',
      session_type: 'AGENT',
      created_at: '2026-11-23T10:00:00.123000+00:00',
      updated_at: '2026-11-23T10:00:00.123000+00:00',
    })
    const agent = agentStateEvent({ agentId: 'default', state: { n: 1 }, now: NOW })
    assert.deepEqual(agent.metadata, {
      stateType: { stringValue: 'AGENT' },
      agentId: { stringValue: 'default' },
    })
    const blob = JSON.parse(agent.payload[0]?.blob as string)
    assert.deepEqual(blob.state, { n: 1 })
    assert.equal(blob.conversation_manager_state.__name__, 'SlidingWindowConversationManager')
    const decoded = decodeOne({ eventId: '2#ab', payload: agent.payload, metadata: agent.metadata })
    assert.deepEqual(decoded.messages, [])
    assert.deepEqual(decoded.problems, [])
    assert.equal(decoded.state?.type, 'AGENT')
    assert.equal(decoded.state?.agentId, 'default')
    assert.deepEqual(decoded.state?.value.state, { n: 1 })
  })
})

describe('event codec: reading events written by Python, by tools and by others', () => {
  it('reads the messages that ride after the state blob of a state event', () => {
    const session = sessionStateEvent('s-2', NOW)
    const message = encodeMessagePayload(
      new Message({ role: 'user', content: [new TextBlock('riding along')] }),
      { now: NOW },
    )
    const decoded = decodeOne({
      eventId: '3#cd',
      payload: [...session.payload, message as never],
      metadata: session.metadata,
    })
    assert.equal(decoded.state?.type, 'SESSION')
    assert.deepEqual(
      decoded.messages.map((m) => m.toJSON().content),
      [[{ text: 'riding along' }]],
    )
    // A state event whose first item is not a state blob is still read for its messages.
    const odd = decodeOne({ eventId: '3#ce', payload: [message as never], metadata: session.metadata })
    assert.equal(odd.state, undefined)
    assert.equal(odd.messages.length, 1)
  })

  it('reads Python message events (bytes, reasoningContent, toolUse, toolResult) into Strands messages', () => {
    const events = [
      pythonEvent('1#01', 'user', [
        { text: 'what is in this picture?' },
        { image: { format: 'png', source: { bytes: { __bytes_encoded__: true, data: PNG_BASE64 } } } },
      ]),
      pythonEvent('1#02', 'assistant', [
        { reasoningContent: { reasoningText: { text: 'hmm', signature: 's' } } },
        { toolUse: { toolUseId: 'tooluse_1', name: 'describe', input: { detail: 'high' } } },
      ]),
      pythonEvent('1#03', 'user', [
        { toolResult: { toolUseId: 'tooluse_1', status: 'success', content: [{ json: { label: 'cat' } }] } },
      ]),
    ]
    const messages = events.flatMap((event) => decodeOne(event).messages.map((message) => message.toJSON()))
    assert.deepEqual(
      messages.map(({ role, content }) => ({ role, content })),
      [
        {
          role: 'user',
          content: [
            { text: 'what is in this picture?' },
            { image: { format: 'png', source: { bytes: PNG_BASE64 } } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { reasoning: { text: 'hmm', signature: 's' } },
            { toolUse: { name: 'describe', toolUseId: 'tooluse_1', input: { detail: 'high' } } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              toolResult: {
                toolUseId: 'tooluse_1',
                status: 'success',
                content: [{ json: { label: 'cat' } }],
              },
            },
          ],
        },
      ],
    )
  })

  it('reads TypeScript Strands forms too: bytes as a plain base64 string and reasoning blocks', () => {
    const text = JSON.stringify({
      message: {
        role: 'assistant',
        content: [
          { reasoning: { text: 'ts thinking' } },
          { image: { format: 'png', source: { bytes: PNG_BASE64 } } },
          { cachePoint: { cacheType: 'default' } },
        ],
      },
      message_id: 4,
    })
    const { messages, problems } = decodeOne({
      eventId: '1#08',
      payload: [{ conversational: { content: { text }, role: 'ASSISTANT' } }],
    })
    assert.deepEqual(problems, [])
    const image = messages[0]?.content[1]
    assert.ok(image instanceof ImageBlock)
    assert.deepEqual((image.source as { bytes: Uint8Array }).bytes, PNG)
    assert.deepEqual(messages[0]?.toJSON().content, [
      { reasoning: { text: 'ts thinking' } },
      { image: { format: 'png', source: { bytes: PNG_BASE64 } } },
      { cachePoint: { cacheType: 'default' } },
    ])
  })

  it('reads a redacted Python message as its redact_message', () => {
    const event = pythonEvent('1#04', 'user', [{ text: 'my card is 4111' }])
    const text = JSON.parse(
      (event.payload[0] as { conversational: { content: { text: string } } }).conversational.content.text,
    )
    text.redact_message = { role: 'user', content: [{ text: '[User input redacted.]' }] }
    const { messages } = decodeOne({
      ...event,
      payload: [{ conversational: { content: { text: JSON.stringify(text) }, role: 'USER' } }],
    })
    assert.deepEqual(messages[0]?.toJSON().content, [{ text: '[User input redacted.]' }])
  })

  it('reads the seed MCP server format and plain text as messages of the event role', () => {
    const seed = decodeOne({
      eventId: '1#05',
      payload: [userTextEventPayload('task 42 finished: accuracy 0.93')],
    })
    assert.deepEqual(seed.messages[0]?.toJSON().content, [{ text: 'task 42 finished: accuracy 0.93' }])
    assert.equal(seed.messages[0]?.role, 'user')
    const plain = decodeOne({
      eventId: '1#06',
      payload: [
        { conversational: { content: { text: 'What is the weather?' }, role: 'USER' } },
        { conversational: { content: { text: '{not json' }, role: 'ASSISTANT' } },
        {
          conversational: {
            content: { text: '{"role":"user","content":"bare message json"}' },
            role: 'USER',
          },
        },
      ],
    })
    assert.deepEqual(
      plain.messages.map((message) => [message.role, (message.content[0] as TextBlock).text]),
      [
        ['user', 'What is the weather?'],
        ['assistant', '{not json'],
        ['user', 'bare message json'],
      ],
    )
    assert.deepEqual(plain.problems, [])
  })

  it('skips an unreadable payload item with a problem naming the event and keeps the rest', () => {
    const decoded = decodeOne({
      eventId: '7#bad',
      payload: [
        { blob: 'not json at all' },
        { conversational: { content: {}, role: 'USER' } },
        {
          conversational: {
            content: { text: '{"message":{"role":"user","content":[{"text":"kept"}]},"message_id":0}' },
            role: 'USER',
          },
        },
        { something: 'else' },
      ],
    })
    assert.deepEqual(
      decoded.messages.map((message) => message.toJSON().content),
      [[{ text: 'kept' }]],
    )
    assert.equal(decoded.problems.length, 3)
    assert.ok(decoded.problems.every((problem) => problem.startsWith('7#bad:')))
  })

  it('keeps readable blocks of a message whose other blocks are of an unknown kind', () => {
    const { messages } = decodeOne(
      pythonEvent('1#07', 'assistant', [{ futureBlock: { x: 1 } }, { text: 'still here' }, { text: '' }]),
    )
    assert.deepEqual(messages[0]?.toJSON().content, [{ text: 'still here' }])
  })
})

describe('event codec: the fast path for the one-text messages this manager writes', () => {
  it('reads back any text exactly, quotes, backslashes, newlines and surrogates included (seeded)', () => {
    const random = seededRandom(11)
    const alphabet = [
      'a',
      'Z',
      ' ',
      '"',
      '\\',
      '\\"',
      '\n',
      '\t',
      '\u0000',
      'é',
      '🌍',
      '\u2028',
      '}]},"message_id":',
      '{"text":"',
    ]
    for (let round = 0; round < 500; round += 1) {
      const length = 1 + Math.floor(random() * 40)
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
      const role = random() < 0.5 ? 'user' : 'assistant'
      const payload = encodeMessagePayload(new Message({ role, content: [new TextBlock(text)] }), {
        messageId: round,
        now: NOW,
      })
      const decoded = decodeMemoryEvent({
        eventId: `${round}#ab`,
        payload: payload === undefined ? [] : [payload],
      })
      if (text.trim() === '') {
        assert.deepEqual(decoded.messages, [], 'a blank text is no message')
        continue
      }
      assert.deepEqual(
        decoded.messages.map((message) => ({ role: message.role, content: message.toJSON().content })),
        [{ role, content: [{ text }] }],
        JSON.stringify(text),
      )
      assert.deepEqual(decoded.messageIds, [round > 0 ? round : undefined])
    }
  })

  it('leaves a redacted message to the general path, which reads its redaction', () => {
    const text = JSON.stringify({
      message: { role: 'user', content: [{ text: 'my card is 4111' }] },
      message_id: 3,
      redact_message: { role: 'user', content: [{ text: 'my card is [REDACTED]' }] },
      created_at: pythonIsoTimestamp(NOW),
      updated_at: pythonIsoTimestamp(NOW),
    })
    const decoded = decodeMemoryEvent({
      eventId: '1#ab',
      payload: [{ conversational: { content: { text }, role: 'USER' } }],
    })
    assert.deepEqual(decoded.messages[0]?.toJSON().content, [{ text: 'my card is [REDACTED]' }])
  })
})
