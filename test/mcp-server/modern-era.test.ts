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
import { formatCompositeSessionHeader, MEMORY_HEADER } from '../../src/contract/index.ts'
import { TASKS_EXTENSION } from '../../src/mcp-server/tasks-extension.ts'
import { listAllEvents, TEST_TOKEN, useMcpTestBed, waitFor } from '../helpers/mcp-server.ts'

const ERA = '2026-07-28'

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

interface RawAnswer {
  readonly status: number
  readonly result?: Record<string, unknown>
  readonly error?: { code: number; message: string }
}

describe('spec 2026-07-28 with the tasks extension, beside 2025-11-25 on one endpoint', () => {
  const bed = useMcpTestBed(() => ({ tools: [textStatisticsTool(), slowTool] }))
  const memoryOf = (label: string) => ({
    sessionId: `modern-${label}`,
    memoryId: bed.memoryId,
    actorId: `modern-${label}`,
  })

  /** One request of the era, as the SDK 2 transport frames it, with the tasks extension declared or not. */
  const post = async (
    method: string,
    params: Record<string, unknown>,
    options: { extension?: boolean; memory?: ReturnType<typeof memoryOf>; name?: string } = {},
  ): Promise<RawAnswer> => {
    const capabilities = options.extension === false ? {} : { extensions: { [TASKS_EXTENSION]: {} } }
    const response = await fetch(bed.server.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': ERA,
        'mcp-method': method,
        ...(options.name !== undefined && { 'mcp-name': options.name }),
        ...(options.memory !== undefined && {
          [MEMORY_HEADER]: formatCompositeSessionHeader(options.memory),
        }),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': ERA,
            'io.modelcontextprotocol/clientCapabilities': capabilities,
            'io.modelcontextprotocol/clientInfo': { name: 'modern-test', version: '1.0.0' },
          },
        },
      }),
    })
    const text = await response.text()
    // An SSE answer carries the response as its last data line.
    const json = response.headers.get('content-type')?.includes('text/event-stream')
      ? JSON.parse(
          text
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .at(-1)
            ?.slice(6) ?? '{}',
        )
      : JSON.parse(text)
    return {
      status: response.status,
      ...(json.result !== undefined && { result: json.result }),
      ...(json.error !== undefined && { error: json.error }),
    }
  }
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
})
