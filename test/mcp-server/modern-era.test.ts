/**
 * MCP spec 2026-07-28 on the server's one endpoint, through the SDK 2.4 client: discovery without
 * `initialize`, tools listed and called inline with progress, and durable tasks through the tasks
 * extension (`io.modelcontextprotocol/tasks`): created only once stored, read with `tasks/get` (the
 * result inlined), cancelled, scoped to their owner, and results delivered into the caller's memory
 * exactly once. The SDK 2.4 client refuses a task answer to `tools/call` (it has no tasks support),
 * so task calls go as the extension's raw JSON-RPC, with the era's envelope and headers.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { z } from 'zod'
import { defineLongRunningTool, textStatisticsTool } from '../../src/mcp-server/index.ts'
import { TASKS_EXTENSION } from '../../src/mcp-server/tasks-extension.ts'
import { listAllEvents, TEST_TOKEN, useMcpTestBed, waitFor } from '../helpers/mcp-server.ts'
import { MODERN_ERA, modernPost, modernRequest, type ModernRequestOptions } from '../helpers/modern-mcp.ts'

const ERA = MODERN_ERA

/** A tool that runs until cancelled (or `seconds` pass), reporting progress. */
const slowTool = defineLongRunningTool({
  name: 'slow_count',
  description: 'Counts slowly.',
  input: z.object({ seconds: z.number().min(0).max(60) }),
  run: async ({ seconds }, ctx) => {
    const end = Date.now() + seconds * 1000
    let n = 0
    while (Date.now() < end) {
      ctx.signal.throwIfAborted()
      n += 1
      ctx.progress(n, undefined, `counted ${n}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return { counted: n }
  },
})

describe('spec 2026-07-28 with the tasks extension, beside 2025-11-25 on one endpoint', () => {
  const bed = useMcpTestBed(() => ({ tools: [textStatisticsTool(), slowTool] }))
  const memoryOf = (label: string) => ({
    sessionId: `modern-${label}`,
    memoryId: bed.memoryId,
    actorId: `modern-${label}`,
  })

  const post = (method: string, params: Record<string, unknown>, options: ModernRequestOptions = {}) =>
    modernPost(bed.server.url, method, params, options)
  const taskGet = (taskId: string, memory?: ReturnType<typeof memoryOf>, extension = true) =>
    post('tasks/get', { taskId }, { name: taskId, extension, ...(memory !== undefined && { memory }) })

  test('the SDK 2.4 client discovers the server without initialize, lists the tools and calls one inline with progress', async () => {
    const client = new Client(
      { name: 'modern', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: ERA } } },
    )
    await client.connect(
      new StreamableHTTPClientTransport(new URL(bed.server.url), {
        requestInit: { headers: { authorization: `Bearer ${TEST_TOKEN}` } },
      }),
    )
    try {
      assert.equal(client.getProtocolEra(), 'modern')
      assert.ok(client.getServerCapabilities()?.extensions?.[TASKS_EXTENSION] !== undefined)
      const names = (await client.listTools()).tools.map((tool) => tool.name)
      for (const name of ['text_statistics', 'start_text_statistics', 'check_task_status', 'slow_count'])
        assert.ok(names.includes(name), name)
      const progress: number[] = []
      const result = await client.callTool(
        { name: 'slow_count', arguments: { seconds: 0.3 } },
        { onprogress: (update) => progress.push(update.progress) },
      )
      assert.ok(progress.length > 0, 'progress arrived while the call ran')
      assert.ok(((result.structuredContent as { counted?: number }).counted ?? 0) > 0)
      // The task tools stay for every client: a background start answers a task id.
      const started = await client.callTool({ name: 'start_text_statistics', arguments: { text: 'a b a' } })
      assert.equal(typeof (started.structuredContent as { task_id?: unknown }).task_id, 'string')
    } finally {
      await client.close()
    }
  })

  test('a tools/call of a client that declared the extension is a task: stored first, read with tasks/get, its result delivered into memory once', async () => {
    const memory = memoryOf('task')
    const created = await post(
      'tools/call',
      { name: 'text_statistics', arguments: { text: 'one two one' } },
      { memory, name: 'text_statistics' },
    )
    assert.equal(created.result?.resultType, 'task')
    const taskId = String(created.result?.taskId)
    for (const field of ['status', 'createdAt', 'lastUpdatedAt', 'ttlMs'])
      assert.ok(field in (created.result ?? {}), field)
    // Durably created before the answer: tasks/get finds it at once.
    const first = await taskGet(taskId, memory)
    assert.equal(first.result?.taskId, taskId)
    const ended = await waitFor(async () => {
      const answer = await taskGet(taskId, memory)
      return answer.result?.status === 'completed' ? answer.result : undefined
    })
    assert.equal((ended.result as { isError?: boolean } | undefined)?.isError ?? false, false)
    assert.ok(JSON.stringify(ended.result).includes('one'))
    const events = await waitFor(async () => {
      const found = await listAllEvents(bed.env.data, memory.memoryId, memory.actorId, memory.sessionId)
      return found.length > 0 ? found : undefined
    })
    assert.equal(events.length, 1)
    assert.ok(events[0]?.text.includes(taskId))
  })

  test('tasks/cancel stops a running task and acknowledges an ended one; another owner finds nothing', async () => {
    const memory = memoryOf('cancel')
    const created = await post(
      'tools/call',
      { name: 'slow_count', arguments: { seconds: 30 } },
      { memory, name: 'slow_count' },
    )
    const taskId = String(created.result?.taskId)
    const cancel = await post('tasks/cancel', { taskId }, { memory, name: taskId })
    assert.equal(cancel.result?.resultType, 'complete')
    const cancelled = await waitFor(async () => {
      const answer = await taskGet(taskId, memory)
      return answer.result?.status === 'cancelled' ? answer : undefined
    })
    assert.equal(cancelled.result?.status, 'cancelled')
    const again = await post('tasks/cancel', { taskId }, { memory, name: taskId })
    assert.equal(again.result?.resultType, 'complete', 'cancel of an ended task is acknowledged')
    const foreign = await taskGet(taskId, memoryOf('someone-else'))
    assert.equal(foreign.error?.code, -32602)
  })

  test('the extension is for clients that declared it; tasks/result and tasks/list do not exist in this era', async () => {
    const memory = memoryOf('gate')
    const created = await post(
      'tools/call',
      { name: 'text_statistics', arguments: { text: 'x' } },
      { memory, name: 'text_statistics' },
    )
    const taskId = String(created.result?.taskId)
    const undeclared = await taskGet(taskId, memory, false)
    assert.equal(undeclared.error?.code, -32021)
    // A client without the extension gets the tool's answer inline.
    const inline = await post(
      'tools/call',
      { name: 'text_statistics', arguments: { text: 'x y' } },
      { memory, name: 'text_statistics', extension: false },
    )
    assert.equal(inline.result?.resultType, 'complete')
    assert.ok(Array.isArray(inline.result?.content))
    for (const method of ['tasks/result', 'tasks/list']) {
      const answer = await post(method, { taskId }, { memory, name: taskId })
      assert.equal(answer.error?.code, -32601, method)
    }
  })

  test('subscriptions/listen naming tasks pushes notifications/tasks as each changes, then ends once they ended', async () => {
    const memory = memoryOf('listen')
    const created = await post(
      'tools/call',
      { name: 'slow_count', arguments: { seconds: 0.6 } },
      { memory, name: 'slow_count' },
    )
    const taskId = String(created.result?.taskId)
    const other = await post(
      'tools/call',
      { name: 'slow_count', arguments: { seconds: 0 } },
      { memory: memoryOf('listen-other'), name: 'slow_count' },
    )
    const foreignId = String(other.result?.taskId)
    const listen = (extension: boolean) =>
      modernRequest(
        bed.server.url,
        'subscriptions/listen',
        { notifications: { taskIds: [taskId, foreignId] } },
        { memory, extension, id: 7 },
      )
    const refused = await listen(false)
    assert.equal(refused.status, 400)
    assert.equal(((await refused.json()) as { error: { code: number } }).error.code, -32021)
    const answer = await listen(true)
    assert.match(answer.headers.get('content-type') ?? '', /text\/event-stream/)
    const messages = (await answer.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map(
        (line) =>
          JSON.parse(line.slice(6)) as {
            method?: string
            id?: number
            params?: Record<string, unknown>
            result?: Record<string, unknown>
          },
      )
    const [ack, ...rest] = messages
    assert.equal(ack?.method, 'notifications/subscriptions/acknowledged')
    assert.deepEqual(
      (ack?.params?.notifications as { taskIds: string[] }).taskIds,
      [taskId],
      "another's task is not followed",
    )
    const updates = rest.filter((message) => message.method === 'notifications/tasks')
    assert.ok(updates.length >= 1)
    assert.ok(updates.every((update) => update.params?.taskId === taskId))
    const last = updates.at(-1)?.params
    assert.equal(last?.status, 'completed')
    assert.ok(last?.result !== undefined, 'the final state inlines the result, as tasks/get does')
    const end = messages.at(-1)
    assert.equal(end?.id, 7)
    assert.equal(end?.result?.resultType, 'complete')
    for (const message of messages) {
      const meta = (message.params?._meta ?? message.result?._meta) as Record<string, unknown> | undefined
      assert.equal(meta?.['io.modelcontextprotocol/subscriptionId'], 7)
    }
  })
})
