import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { CreateEventCommand } from '@aws-sdk/client-bedrock-agentcore'
import type { JSONValue, Message, StreamOptions } from '@strands-agents/sdk'
import { Message as StrandsMessage, TextBlock, ToolResultBlock, ToolUseBlock } from '@strands-agents/sdk'
import { DemoModel } from '../../src/demo-model/index.ts'
import { encodeMessagePayload, type EventPayloadItem } from '../../src/memory/index.ts'
import {
  AgentRuntimeServer,
  createAgentInvocationHandler,
  memorySessionIdFor,
  PendingWrites,
  SESSION_ID_HEADER,
} from '../../src/runtime/index.ts'
import { connectClient, TEST_TOKEN } from '../helpers/mcp-server.ts'
import { responseOf, sessionIdFor, streamTurn, useRuntimeStack } from '../helpers/runtime-stack.ts'

/** The demo model, except that a call whose conversation matches `holdWhen` waits for `release()`. */
class HeldDemoModel extends DemoModel {
  holdWhen: ((messages: Message[]) => boolean) | undefined
  #held: (() => void) | undefined
  #reached: (() => void) | undefined
  readonly reached: Promise<void>

  constructor() {
    super()
    this.reached = new Promise((resolve) => {
      this.#reached = resolve
    })
  }

  release(): void {
    this.holdWhen = undefined
    this.#held?.()
  }

  override async *stream(messages: Message[], options?: StreamOptions) {
    if (this.holdWhen?.(messages)) {
      await new Promise<void>((resolve) => {
        this.#held = resolve
        this.#reached?.()
      })
    }
    yield* super.stream(messages, options)
  }
}

const lastUserText = (messages: Message[]) =>
  messages
    .filter((message) => message.role === 'user')
    .at(-1)
    ?.content.flatMap((block) => (block.type === 'textBlock' ? [block.text] : []))
    .join(' ') ?? ''

// Trainings here outlast the tests (600 epochs of 500 ms): the next turn learns of the task from
// the stored conversation alone, never from a delivered result.
const SLOW_TRAINING = { epochDelayMs: 500 }

describe('one turn at a time per session', () => {
  const stack = useRuntimeStack(SLOW_TRAINING)
  const model = new HeldDemoModel()
  let server: AgentRuntimeServer
  let pendingWrites: PendingWrites

  before(async () => {
    const logger = { warn: () => {}, debug: () => {} }
    pendingWrites = new PendingWrites({ onOwedChange: () => {}, logger })
    server = await AgentRuntimeServer.start({
      handler: createAgentInvocationHandler({
        model,
        memoryClient: stack.env.data,
        mcp: { url: stack.mcp.url, bearerToken: TEST_TOKEN },
        pendingWrites,
        logger,
      }),
      port: 0,
      host: '127.0.0.1',
      defaultMemoryId: stack.memoryId,
    })
    stack.env.service.registerRuntime('*', server.url)
  })
  after(async () => {
    await server.close()
    await pendingWrites.flushAll()
  })

  test('a second turn of a busy session is refused with a retryable 409; other sessions run; the next turn knows the task', async () => {
    const sessionId = sessionIdFor('overlapping')
    model.holdWhen = (messages) => lastUserText(messages).includes('conc-overlapping')
    const turnB = streamTurn(server.url, sessionId, 'train a model called conc-overlapping for 600 epochs')
    await model.reached

    // Straight to the runtime: 409 with a code that says "try again".
    const direct = await fetch(`${server.url}/invocations`, {
      method: 'POST',
      headers: { [SESSION_ID_HEADER]: sessionId, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'list my tasks' }),
    })
    assert.equal(direct.status, 409)
    assert.equal(((await direct.json()) as { error: { code: string } }).error.code, 'SESSION_BUSY')

    // Through InvokeAgentRuntime: the platform's RetryableConflictException (the SDK retried it first).
    await assert.rejects(stack.invoke('list my tasks', { sessionId }), (error: Error) => {
      assert.equal(error.name, 'RetryableConflictException')
      assert.equal((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 409)
      return true
    })

    // Another session, and another actor's conversation under the same session id, are not held up.
    const other = await stack.invoke('list my tasks', { sessionId: sessionIdFor('overlapping-other') })
    assert.ok(other.answer, 'another session answers while the first is busy')
    const otherActor = await stack.invoke('list my tasks', { sessionId, actorId: 'someone-else' })
    assert.ok(otherActor.answer, "another actor's conversation answers while the first is busy")

    model.release()
    const eventsB = await turnB.ended
    const started = eventsB.find((event) => event.type === 'task_started')
    assert.ok(started && started.type === 'task_started', 'turn B started its task')
    assert.ok(eventsB.some((event) => event.type === 'done'))

    // The session is free again, and its history holds turn B's task.
    const next = await stack.invoke('what is the status of my task', { sessionId })
    assert.match(responseOf(next), new RegExp(started.task_id))
  })
})

describe('a restore pairs tool results with their calls across interleaved turns', () => {
  const stack = useRuntimeStack(SLOW_TRAINING)

  test('events stored as two overlapping turns wrote them: the next turn knows the task, nothing is "interrupted"', async () => {
    await stack.startRuntime()
    const sessionId = sessionIdFor('interleaved')
    const memorySessionId = memorySessionIdFor(sessionId)
    const actorId = 'default'
    // A real task, started as the runtime's agent would start it for this conversation.
    const mcp = await connectClient(stack.mcp.url, {
      memory: { sessionId: memorySessionId, memoryId: stack.memoryId, actorId },
    })
    let startedText: string
    try {
      const result = (await mcp.callTool({
        name: 'start_model_training',
        arguments: { model_name: 'conc-overlapping', epochs: 600 },
      })) as { content: { type: string; text?: string }[] }
      startedText = result.content.find((item) => item.type === 'text')?.text ?? ''
    } finally {
      await mcp.close()
    }
    const taskId = /^Started task (\S+) /.exec(startedText)?.[1]
    assert.ok(taskId, 'the tool answered with a task id')

    const text = (role: 'user' | 'assistant', value: string) =>
      new StrandsMessage({ role, content: [new TextBlock(value)] })
    const call = (id: string, name: string, input: JSONValue) =>
      new StrandsMessage({ role: 'assistant', content: [new ToolUseBlock({ name, toolUseId: id, input })] })
    const result = (id: string, value: string) =>
      new StrandsMessage({
        role: 'user',
        content: [new ToolResultBlock({ toolUseId: id, status: 'success', content: [new TextBlock(value)] })],
      })
    // u a u(B) a:toolUse u(A) a:toolUse u:toolResult a u:toolResult a: the order the issue saw.
    const stored = [
      text('user', 'hello'),
      text('assistant', 'hi'),
      text('user', 'train a model called conc-overlapping for 600 epochs'),
      call('tooluse_b', 'start_model_training', { model_name: 'conc-overlapping', epochs: 600 }),
      text('user', 'list my tasks'),
      call('tooluse_a', 'list_tasks', {}),
      result('tooluse_b', startedText),
      text('assistant', `Started task ${taskId} (model_training).`),
      result('tooluse_a', 'No tasks yet.'),
      text('assistant', 'You have no other tasks.'),
    ]
    let at = Date.now() - 60_000
    for (const [index, message] of stored.entries()) {
      at += 1_000
      await stack.env.data.send(
        new CreateEventCommand({
          memoryId: stack.memoryId,
          actorId,
          sessionId: memorySessionId,
          eventTimestamp: new Date(at),
          payload: [encodeMessagePayload(message, { messageId: index }) as EventPayloadItem] as never,
        }),
      )
    }

    const next = await stack.invoke('what is the status of my task', { sessionId })
    const answer = responseOf(next)
    assert.match(answer, new RegExp(taskId))
    assert.doesNotMatch(answer, /not started a task/)
    assert.ok(next.events.some((event) => event.type === 'tool_start' && event.tool === 'check_task_status'))
  })
})
