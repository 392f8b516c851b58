import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Event } from '@aws-sdk/client-bedrock-agentcore'
import { Agent, ImageBlock, TextBlock, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import { validateConverseHistory } from '../../src/memory/index.ts'
import {
  captureLogger,
  listAllEvents,
  plain,
  writeEvent,
  useMemoryTestBed,
} from '../helpers/memory-session.ts'
import { ScriptedModel } from '../helpers/scripted-model.ts'

const ACTOR = 'python-user'
const PNG_BASE64 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 9, 8, 7]).toString('base64')
const PY_TIME = '2025-08-25T15:12:34.123456+00:00'

const bed = useMemoryTestBed('interop_tests')

/** Python's json.dumps with default settings: ", " and ": " separators, non-ASCII escaped. */
function pythonJsonDumps(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`
  const entries = Object.entries(value as Record<string, unknown>)
  return `{${entries.map(([key, entry]) => `${pythonJsonDumps(key)}: ${pythonJsonDumps(entry)}`).join(', ')}}`
}

/** A SessionMessage as Python's AgentCoreMemorySessionManager.append_message stores it. */
function pythonSessionMessage(role: 'user' | 'assistant', content: unknown[]): string {
  return pythonJsonDumps({
    message: { role, content },
    message_id: 0,
    redact_message: null,
    created_at: PY_TIME,
    updated_at: PY_TIME,
  })
}

function pythonAgentBlob(state: Record<string, unknown>): string {
  return pythonJsonDumps({
    agent_id: 'default',
    state,
    conversation_manager_state: {
      __name__: 'SlidingWindowConversationManager',
      removed_message_count: 0,
      model_call_count: 2,
    },
    _internal_state: { interrupt_state: { interrupts: {}, context: {}, activated: false }, model_state: {} },
    created_at: PY_TIME,
    updated_at: PY_TIME,
  })
}

/** The conversation a Python agent had, as its content blocks in Python's (Bedrock) form. */
const PYTHON_CONVERSATION: { role: 'user' | 'assistant'; content: unknown[] }[] = [
  {
    role: 'user',
    content: [
      { text: 'Bonjour, je suis Zoë. What is this?' },
      { image: { format: 'png', source: { bytes: { __bytes_encoded__: true, data: PNG_BASE64 } } } },
    ],
  },
  {
    role: 'assistant',
    content: [
      { reasoningContent: { reasoningText: { text: 'Let me look it up', signature: 'c2ln' } } },
      { toolUse: { toolUseId: 'tooluse_abc', name: 'lookup', input: { query: 'png' } } },
    ],
  },
  {
    role: 'user',
    content: [
      { toolResult: { toolUseId: 'tooluse_abc', status: 'success', content: [{ text: 'an image format' }] } },
    ],
  },
  { role: 'assistant', content: [{ text: 'It is a PNG image.' }] },
  { role: 'user', content: [{ text: `Summarise this: ${'lorem ipsum '.repeat(9_000)}` }] },
  { role: 'assistant', content: [{ text: 'A lot of lorem ipsum.' }] },
]

/** The same conversation as TypeScript Strands serialises it. */
const EXPECTED_TS: { role: string; content: unknown[] }[] = [
  {
    role: 'user',
    content: [
      { text: 'Bonjour, je suis Zoë. What is this?' },
      { image: { format: 'png', source: { bytes: PNG_BASE64 } } },
    ],
  },
  {
    role: 'assistant',
    content: [
      { reasoning: { text: 'Let me look it up', signature: 'c2ln' } },
      { toolUse: { name: 'lookup', toolUseId: 'tooluse_abc', input: { query: 'png' } } },
    ],
  },
  {
    role: 'user',
    content: [
      { toolResult: { toolUseId: 'tooluse_abc', status: 'success', content: [{ text: 'an image format' }] } },
    ],
  },
  { role: 'assistant', content: [{ text: 'It is a PNG image.' }] },
  { role: 'user', content: [{ text: `Summarise this: ${'lorem ipsum '.repeat(9_000)}` }] },
  { role: 'assistant', content: [{ text: 'A lot of lorem ipsum.' }] },
]

/** Writes a session the way the Python manager does with its defaults (one event per message). */
async function writePythonSession(sessionId: string): Promise<void> {
  const target = { memoryId: bed.memoryId, actorId: ACTOR, sessionId }
  let clock = Date.parse('2025-08-25T15:12:34.123Z')
  const at = () => new Date((clock += 1))
  await writeEvent(
    bed.env,
    target,
    [
      {
        blob: pythonJsonDumps({
          session_id: sessionId,
          session_type: 'AGENT',
          created_at: PY_TIME,
          updated_at: PY_TIME,
        }),
      },
    ],
    {
      timestamp: at(),
      metadata: { stateType: { stringValue: 'SESSION' } },
    },
  )
  const agentMetadata = { stateType: { stringValue: 'AGENT' }, agentId: { stringValue: 'default' } }
  await writeEvent(bed.env, target, [{ blob: pythonAgentBlob({ topic: 'images' }) }], {
    timestamp: at(),
    metadata: agentMetadata,
  })
  for (const message of PYTHON_CONVERSATION) {
    const text = pythonSessionMessage(message.role, message.content)
    const payload =
      text.length + message.role.length >= 100_000
        ? { blob: pythonJsonDumps([text, message.role]) }
        : { conversational: { content: { text }, role: message.role === 'user' ? 'USER' : 'ASSISTANT' } }
    await writeEvent(bed.env, target, [payload as never], { timestamp: at() })
  }
  await writeEvent(bed.env, target, [{ blob: pythonAgentBlob({ topic: 'png', turns: 2 }) }], {
    timestamp: at(),
    metadata: agentMetadata,
  })
}

/**
 * Python's restore, strictly as the Python manager does it: every event, newest
 * first reversed, json.loads of each conversational text into a SessionMessage, `[text, role]`
 * blobs, dict blobs skipped. Any error fails it (Python would return an empty history).
 */
function pythonStrictRestore(events: readonly Event[]) {
  const messages: { role: string; content: unknown[] }[] = []
  for (const event of events) {
    for (const item of event.payload ?? []) {
      if ('conversational' in item && item.conversational) {
        const parsed = JSON.parse(item.conversational.content?.text as string)
        assert.ok(
          'message' in parsed && 'message_id' in parsed,
          'SessionMessage.from_dict needs message and message_id',
        )
        messages.push(parsed.message)
      } else if ('blob' in item) {
        const blob = JSON.parse(item.blob as string)
        if (Array.isArray(blob) && blob.length === 2) messages.push(JSON.parse(blob[0]).message)
      }
    }
  }
  const session = events.filter((event) => event.metadata?.stateType?.stringValue === 'SESSION').at(-1)
  const agents = events.filter(
    (event) =>
      event.metadata?.stateType?.stringValue === 'AGENT' &&
      event.metadata?.agentId?.stringValue === 'default',
  )
  const agent = agents.at(-1) ? JSON.parse((agents.at(-1)?.payload?.[0] as { blob: string }).blob) : undefined
  return { messages, session, agent }
}

describe('Python interop', () => {
  it('restores a session written by the Python manager into the same messages and its newest agent state', async () => {
    const sessionId = 'python-written-1'
    await writePythonSession(sessionId)
    const logger = captureLogger()
    const sessionManager = bed.manager({ sessionId, actorId: ACTOR, agentId: 'default', logger })
    const agent = new Agent({ model: new ScriptedModel(), sessionManager, printer: false })
    await agent.initialize()
    assert.deepEqual(plain(agent.messages), EXPECTED_TS)
    assert.deepEqual(agent.appState.getAll(), { topic: 'png', turns: 2 })
    assert.deepEqual(validateConverseHistory(agent.messages), [])
    assert.deepEqual(
      logger.lines.filter((line) => line.includes('skipped')),
      [],
    )
  })

  it('continues a Python session in the Python format, so the Python manager reads it back', async () => {
    const sessionId = 'python-written-2'
    await writePythonSession(sessionId)
    const before = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    const lookup = tool({
      name: 'lookup',
      description: 'Looks up',
      inputSchema: z.object({ query: z.string() }),
      callback: () => 'found',
    })
    const model = new ScriptedModel([
      { toolUses: [{ name: 'lookup', toolUseId: 'tooluse_ts1', input: { query: 'jpeg' } }] },
      { text: 'JPEG is lossy. Ünïcode ok.' },
    ])
    const sessionManager = bed.manager({ sessionId, actorId: ACTOR, agentId: 'default' })
    const agent = new Agent({ model, tools: [lookup], sessionManager, printer: false })
    agent.appState.set('ignored-before-restore', true)
    await agent.invoke([
      new TextBlock('and a jpeg?'),
      new ImageBlock({ format: 'jpeg', source: { bytes: new Uint8Array([255, 216, 255]) } }),
    ])
    agent.appState.set('topic', 'jpeg')
    await agent.invoke('thanks')

    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    const ours = events.slice(before.length)
    // Timestamps keep increasing after the Python events, in milliseconds.
    const times = events.map((event) => event.eventTimestamp?.getTime() as number)
    assert.ok(times.every((time, index) => index === 0 || time > (times[index - 1] as number)))
    assert.ok(times.every((time) => Number.isInteger(time)))
    // No second SESSION event; message events follow the SessionMessage rules.
    assert.equal(ours.filter((event) => event.metadata?.stateType?.stringValue === 'SESSION').length, 0)
    let checked = 0
    for (const event of ours) {
      // A state event leads with its blob; the messages riding with it follow the same rules.
      for (const item of (event.payload ?? []).slice(event.metadata?.stateType ? 1 : 0)) {
        checked += 1
        assert.ok('conversational' in item && item.conversational)
        const parsed = JSON.parse(item.conversational.content?.text as string)
        assert.deepEqual(Object.keys(parsed), [
          'message',
          'message_id',
          'redact_message',
          'created_at',
          'updated_at',
        ])
        assert.deepEqual(Object.keys(parsed.message), ['role', 'content'])
        assert.equal(item.conversational.role, parsed.message.role.toUpperCase())
        assert.ok(Number.isInteger(parsed.message_id))
        assert.equal(parsed.redact_message, null)
        assert.match(parsed.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/)
        assert.doesNotMatch(JSON.stringify(parsed), /"reasoning"|"trackingId"/)
      }
    }
    assert.equal(checked, 6)
    const jpeg = JSON.stringify(ours)
    assert.match(jpeg, /__bytes_encoded__/)

    const python = pythonStrictRestore(events)
    assert.ok(python.session)
    assert.deepEqual(python.agent.state, { topic: 'jpeg', turns: 2 })
    assert.equal(python.agent.conversation_manager_state.__name__, 'SlidingWindowConversationManager')
    assert.equal(python.messages.length, PYTHON_CONVERSATION.length + 6)
    assert.deepEqual(python.messages.slice(0, PYTHON_CONVERSATION.length), PYTHON_CONVERSATION)
    assert.deepEqual(python.messages.at(-1), { role: 'assistant', content: [{ text: 'ok' }] })
    assert.deepEqual(python.messages[PYTHON_CONVERSATION.length]?.content[1], {
      image: {
        format: 'jpeg',
        source: { bytes: { __bytes_encoded__: true, data: Buffer.from([255, 216, 255]).toString('base64') } },
      },
    })
  })

  it('starts a new session that the Python manager recognises (SESSION and AGENT state events)', async () => {
    const sessionId = 'ts-written-1'
    const sessionManager = bed.manager({ sessionId, actorId: ACTOR, agentId: 'default' })
    const agent = new Agent({
      model: new ScriptedModel([{ text: 'hello Zoë' }]),
      sessionManager,
      printer: false,
    })
    await agent.invoke('hi')
    const python = pythonStrictRestore(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId))
    assert.equal(JSON.parse((python.session?.payload?.[0] as { blob: string }).blob).session_id, sessionId)
    assert.deepEqual(python.agent.state, {})
    assert.deepEqual(python.messages, [
      { role: 'user', content: [{ text: 'hi' }] },
      { role: 'assistant', content: [{ text: 'hello Zoë' }] },
    ])
  })

  it("with the default config (no agentId) writes the agent state under Python's default id, so a Python agent restores the conversation", async () => {
    const sessionId = 'ts-default-agent-id-1'
    // No agentId: the point of this test (the bed's other test defaults do not touch it).
    const sessionManager = bed.manager({ sessionId, actorId: ACTOR })
    const agent = new Agent({ model: new ScriptedModel([{ text: 'hello' }]), sessionManager, printer: false })
    agent.appState.set('topic', 'tea')
    await agent.invoke('hi')
    const python = pythonStrictRestore(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId))
    // Python's RepositorySessionManager reads the messages only when read_agent finds the agent
    // (stateType=AGENT, agentId=default); otherwise it creates a fresh agent with an empty history.
    assert.ok(python.agent, 'a Python agent with the default agent id finds this agent')
    assert.deepEqual(python.agent.state, { topic: 'tea' })
    assert.deepEqual(python.messages, [
      { role: 'user', content: [{ text: 'hi' }] },
      { role: 'assistant', content: [{ text: 'hello' }] },
    ])
  })

  it('in Python-default mode writes one event per message and an agent-state event after each, as the Python manager does', async () => {
    const sessionId = 'ts-python-mode-1'
    const sessionManager = bed.manager({
      sessionId,
      actorId: ACTOR,
      agentId: 'default',
      batchSize: 1,
      syncAgentStateEveryMessage: true,
    })
    const agent = new Agent({ model: new ScriptedModel([{ text: 'hello' }]), sessionManager, printer: false })
    await agent.invoke('hi')
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    assert.deepEqual(
      events.map((event) => [event.metadata?.stateType?.stringValue ?? 'message', event.payload?.length]),
      [
        ['message', 1],
        ['SESSION', 1],
        ['AGENT', 1],
        ['message', 1],
        ['AGENT', 1],
      ],
    )
    assert.deepEqual(pythonStrictRestore(events).messages.length, 2)
  })
})
