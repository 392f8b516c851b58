import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import type { Message, ModelStreamEvent, StreamOptions } from '@strands-agents/sdk'
import { DemoModel } from '../../src/demo-model/index.ts'
import {
  AgentRuntimeServer,
  createAgentInvocationHandler,
  type InvocationHandler,
  PendingWrites,
  SESSION_ID_HEADER,
} from '../../src/runtime/index.ts'
import { waitFor } from '../helpers/local-agentcore.ts'
import { TEST_TOKEN } from '../helpers/mcp-server.ts'
import { FAST_RETRY } from '../helpers/memory-session.ts'
import { sessionIdFor, storedMessages, streamTurn, useRuntimeStack } from '../helpers/runtime-stack.ts'

/** The demo model, saying a sentence before each tool call, as real models often do. */
class PreambleModel extends DemoModel {
  override async *stream(messages: Message[], options?: StreamOptions): AsyncIterable<ModelStreamEvent> {
    for await (const event of super.stream(messages, options)) {
      const start = event as { type: string; start?: { type?: string } }
      if (start.type === 'modelContentBlockStartEvent' && start.start?.type === 'toolUseStart') {
        yield { type: 'modelContentBlockStartEvent' } as ModelStreamEvent
        yield {
          type: 'modelContentBlockDeltaEvent',
          delta: { type: 'textDelta', text: 'Sure, starting that now.' },
        } as ModelStreamEvent
        yield { type: 'modelContentBlockStopEvent' } as ModelStreamEvent
      }
      yield event
    }
  }
}

describe('how a turn ends when something goes wrong on the way', () => {
  // Epochs of 150 ms: a 40-epoch inline run lasts about 6 s.
  const stack = useRuntimeStack({ epochDelayMs: 150 })
  const servers: AgentRuntimeServer[] = []
  // Closing twice is harmless: a test that fails half-way leaves nothing listening.
  after(() => Promise.all(servers.map((server) => server.close())))

  const serve = async (options: { model?: DemoModel; turnTimeoutMs?: number } = {}) => {
    const pendingWrites = new PendingWrites({
      onOwedChange: () => {},
      logger: { warn: () => {} },
      baseDelayMs: 50,
      maxDelayMs: 200,
    })
    const server = await AgentRuntimeServer.start({
      port: 0,
      host: '127.0.0.1',
      defaultMemoryId: stack.memoryId,
      ...(options.turnTimeoutMs !== undefined && { turnTimeoutMs: options.turnTimeoutMs }),
      handler: createAgentInvocationHandler({
        model: options.model ?? new DemoModel(),
        memoryClient: stack.env.data,
        mcp: { url: stack.mcp.url, bearerToken: TEST_TOKEN },
        sessionManager: { retry: FAST_RETRY },
        pendingWrites,
        logger: { warn: () => {} },
      }),
    })
    servers.push(server)
    return { server, pendingWrites }
  }

  test('a turn stopped by its time limit still hands what it could not write to the background retries', async () => {
    const { server, pendingWrites } = await serve({ turnTimeoutMs: 1500 })
    const sessionId = sessionIdFor('timeout-owed')
    const turn = streamTurn(server.url, sessionId, 'Train a model called late for 40 epochs and wait for it')
    await turn.midTool
    // From now on memory refuses writes: the stopped turn's last write fails.
    stack.env.service.faults.set({ CreateEvent: { errorRate: 1 } })
    try {
      const last = (await turn.ended).at(-1)
      assert.equal(last?.type === 'error' && last.code, 'TURN_TIMEOUT')
      assert.equal(pendingWrites.size, 1, 'the stopped turn was closed and its unwritten messages kept')
    } finally {
      stack.env.service.faults.set({})
    }
    await waitFor(() => pendingWrites.size === 0, 10_000, 'the owed writes to land')
    const stored = await storedMessages(stack, 'default', sessionId)
    assert.equal(stored.at(-1)?.role, 'assistant', 'the end of the stopped turn is stored')
    await server.close()
  })

  test('a write that fails before a tool runs fails the turn: the preamble is not taken for an answer', async () => {
    const { server } = await serve({ model: new PreambleModel() })
    stack.env.service.faults.set({ CreateEvent: { errorRate: 1 } })
    try {
      const response = await fetch(`${server.url}/invocations`, {
        method: 'POST',
        headers: { [SESSION_ID_HEADER]: sessionIdFor('preamble-write') },
        body: JSON.stringify({ prompt: 'Train a model called never for 3 epochs' }),
      })
      assert.equal(response.status, 502)
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'MEMORY_UNAVAILABLE')
    } finally {
      stack.env.service.faults.set({})
    }
    await server.close()
  })

  test('with RUNTIME_ON_DISCONNECT=abort, a caller that leaves while its request is checked runs nothing', async () => {
    let ran = false
    const handler: InvocationHandler = async (invocation) => {
      ran = true
      return { response: 'ran', session_id: invocation.runtimeSessionId, tasks: [] }
    }
    let checking: () => void = () => {}
    const checked = new Promise<void>((resolve) => {
      checking = resolve
    })
    const server = await AgentRuntimeServer.start({
      port: 0,
      host: '127.0.0.1',
      defaultMemoryId: stack.memoryId,
      onDisconnect: 'abort',
      handler,
      // A slow check (a JWKS fetch, say): the caller leaves meanwhile.
      callers: async () => {
        checking()
        await new Promise((resolve) => setTimeout(resolve, 300))
        return { actorId: 'default', token: undefined }
      },
    })
    servers.push(server)
    const leave = new AbortController()
    const request = fetch(`${server.url}/invocations`, {
      method: 'POST',
      body: JSON.stringify({ prompt: 'hello' }),
      signal: leave.signal,
    }).catch(() => undefined)
    await checked
    leave.abort()
    await request
    await waitFor(() => server.running === 0, 5_000, 'the request to be dropped')
    assert.equal(ran, false)
    await server.close()
  })
})
