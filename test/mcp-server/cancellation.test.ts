import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import {
  CallToolResultSchema,
  ErrorCode,
  LoggingMessageNotificationSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { defineLongRunningTool, type LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { connectClient, startTestServer, TEST_TOKEN, tempDir, waitFor } from '../helpers/mcp-server.ts'

/** Task ids of started `hold` calls, and whether each one's signal was aborted. */
const held = new Map<string, AbortSignal>()

/** Reports progress once, then holds until its signal aborts: only a cancel can end it. */
const holdTool = defineLongRunningTool({
  name: 'hold',
  description: 'Holds until cancelled.',
  input: z.object({ label: z.string() }),
  mode: 'inline',
  run: async (_input, ctx) => {
    held.set(ctx.taskId, ctx.signal)
    ctx.progress(1, 2, 'holding')
    await new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })
    })
  },
})

/** Reports progress once, then stays silent for 2.5 s (a step with no progress of its own). */
const quietTool = defineLongRunningTool({
  name: 'quiet',
  description: 'Silent for a while.',
  input: z.object({}),
  mode: 'inline',
  run: async (_input, ctx) => {
    ctx.progress(1, 2)
    await delay(2500, undefined, { signal: ctx.signal })
    ctx.progress(2, 2)
    return { done: true }
  },
})

describe('inline calls: client cancellation and heartbeats', () => {
  let dir: { path: string; remove(): Promise<void> }
  let server: LongRunningMcpServer
  const clients: Client[] = []
  const connect = async (actorId: string) => {
    const client = await connectClient(server.url, {
      memory: { sessionId: 's1', memoryId: 'mem-AbCdEf1234', actorId },
    })
    clients.push(client)
    return client
  }
  /** The task id of the `hold` call labelled `label`, once it runs. */
  const heldTask = (label: string) =>
    waitFor(async () => {
      for (const taskId of held.keys()) {
        const task = await server.backend.get(taskId)
        if ((task?.input as { label?: string } | undefined)?.label === label) return taskId
      }
      return undefined
    })
  const ended = (taskId: string) =>
    waitFor(
      async () => {
        const task = await server.backend.get(taskId)
        return task !== undefined && task.status !== 'working' ? task : undefined
      },
      10_000,
      `the end of ${taskId}`,
    )

  before(async () => {
    dir = await tempDir()
    server = await startTestServer(dir.path, { tools: [holdTool, quietTool], heartbeatIntervalMs: 200 })
  })
  after(async () => {
    for (const client of clients) await client.close()
    await server.close()
    await dir.remove()
  })

  test("a client AbortSignal cancels the inline task and aborts the tool's signal", async () => {
    const client = await connect('actor-abort')
    const controller = new AbortController()
    const call = client.callTool({ name: 'hold', arguments: { label: 'abort' } }, CallToolResultSchema, {
      signal: controller.signal,
      onprogress: () => controller.abort('the user pressed stop'),
    })
    // The SDK rejects the call with the abort reason, wrapped in an McpError.
    await assert.rejects(
      call,
      (error: unknown) =>
        error instanceof McpError &&
        error.code === ErrorCode.RequestTimeout &&
        error.message.includes('the user pressed stop'),
    )
    const taskId = await heldTask('abort')
    const task = await ended(taskId)
    assert.equal(task.status, 'cancelled')
    assert.equal(held.get(taskId)?.aborted, true)
  })

  test('a client timeout cancels the inline task', async () => {
    const client = await connect('actor-timeout')
    const call = client.callTool({ name: 'hold', arguments: { label: 'timeout' } }, CallToolResultSchema, {
      timeout: 300,
      onprogress: () => {},
    })
    await assert.rejects(call, (error: { code?: number }) => error.code === ErrorCode.RequestTimeout)
    const task = await ended(await heldTask('timeout'))
    assert.equal(task.status, 'cancelled')
  })

  test('closing the HTTP connection of the call cancels the inline task', async () => {
    const controller = new AbortController()
    const response = await fetch(server.url, {
      method: 'POST',
      signal: controller.signal,
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'hold', arguments: { label: 'disconnect' } },
      }),
    })
    assert.equal(response.status, 200)
    const taskId = await heldTask('disconnect')
    controller.abort()
    const task = await ended(taskId)
    assert.equal(task.status, 'cancelled')
  })

  test('a cancel notification reaches only the same actor’s call with that request id, and no response follows it', async () => {
    const post = (actorId: string, body: unknown, signal?: AbortSignal) =>
      fetch(server.url, {
        method: 'POST',
        ...(signal !== undefined && { signal }),
        headers: {
          authorization: `Bearer ${TEST_TOKEN}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': `s1@@@mem-AbCdEf1234@@@${actorId}`,
        },
        body: JSON.stringify(body),
      })
    const cancel = (actorId: string, requestId: number) =>
      post(actorId, {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId, reason: 'stop' },
      })
    const response = await post('actor-owner', {
      jsonrpc: '2.0',
      id: 4242,
      method: 'tools/call',
      params: { name: 'hold', arguments: { label: 'routed' } },
    })
    const taskId = await heldTask('routed')
    assert.equal((await cancel('actor-intruder', 4242)).status, 202)
    assert.equal((await cancel('actor-owner', 4243)).status, 202)
    // Both notifications were handled (202 answers after dispatch); the call still runs.
    assert.equal((await server.backend.get(taskId))?.status, 'working')
    assert.equal(held.get(taskId)?.aborted, false)
    assert.equal((await cancel('actor-owner', 4242)).status, 202)
    const task = await ended(taskId)
    assert.equal(task.status, 'cancelled')
    // As the spec asks of a cancelled request, no response follows: the stream just ends.
    const stream = await response.text()
    assert.doesNotMatch(stream, /"id":4242/)
  })

  test('a tool silent for 2.5 s survives a 1 s client timeout that resets on progress: heartbeats are progress too', async () => {
    const client = await connect('actor-quiet')
    const progress: Array<{ progress: number; message?: string }> = []
    let logMessages = 0
    client.setNotificationHandler(LoggingMessageNotificationSchema, () => {
      logMessages += 1
    })
    const result = await client.callTool({ name: 'quiet', arguments: {} }, CallToolResultSchema, {
      timeout: 1000,
      resetTimeoutOnProgress: true,
      onprogress: (each) =>
        progress.push({
          progress: each.progress,
          ...(each.message !== undefined && { message: each.message }),
        }),
    })
    assert.deepEqual(result.structuredContent, { done: true })
    assert.ok(
      progress.some((each) => each.message === 'still working'),
      'heartbeat progress arrived',
    )
    for (let i = 1; i < progress.length; i += 1) {
      assert.ok(
        (progress[i]?.progress as number) > (progress[i - 1]?.progress as number),
        'progress increases',
      )
    }
    assert.equal(progress.at(-1)?.progress, 2, 'the tool’s own final progress still gets through')
    assert.ok(logMessages > 0, 'heartbeat log messages are still sent')
  })
})
