import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  ErrorCode,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import {
  listAllEvents,
  startTask,
  structured,
  TEST_TOKEN,
  waitFor,
  useMcpTestBed,
} from '../helpers/mcp-server.ts'

/** The JSON-RPC error a rejected promise carries. */
async function rpcError(
  promise: Promise<unknown>,
): Promise<{ code: number; message: string; data?: unknown }> {
  try {
    await promise
  } catch (error) {
    return error as { code: number; message: string; data?: unknown }
  }
  assert.fail('expected a JSON-RPC error')
}

/** The error of a tool result with `isError` (a tool execution error the model reads). */
function toolError(result: unknown): { code: string; field?: string; message: string } {
  const answer = result as { isError?: boolean; structuredContent?: { error?: unknown } }
  assert.equal(answer.isError, true, 'a tool execution error')
  return answer.structuredContent?.error as { code: string; field?: string; message: string }
}

/** The SDK client prefixes a JSON-RPC error's message once ("MCP error -32602: ..."): never twice. */
function assertPrefixedOnce(message: string): void {
  assert.equal(message.match(/MCP error/g)?.length ?? 0, 1, message)
}

describe('long-running MCP server', () => {
  const bed = useMcpTestBed(() => ({ epochDelayMs: 200, heartbeatIntervalMs: 150 }))

  test('a plain call far longer than the client timeout stays alive on progress and heartbeats', async () => {
    const client = await bed.connect()
    const progress: number[] = []
    const heartbeats: unknown[] = []
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      heartbeats.push(notification.params.data)
    })
    // 15 epochs paced at 200 ms: about 3 s against a 1 s timeout that only progress resets.
    const result = await client.callTool(
      { name: 'model_training', arguments: { model_name: 'alive', epochs: 15 } },
      CallToolResultSchema,
      { timeout: 1000, resetTimeoutOnProgress: true, onprogress: (p) => progress.push(p.progress) },
    )
    assert.equal(result.isError, undefined)
    // The tool's own progress (whole epochs) arrives in order; heartbeats add values a tiny step
    // above the last (0 for one before the first epoch, on a busy machine).
    assert.deepEqual(
      progress.filter((value) => Number.isInteger(value) && value > 0),
      Array.from({ length: 15 }, (_, i) => i + 1),
    )
    for (let i = 1; i < progress.length; i += 1) {
      assert.ok((progress[i] as number) > (progress[i - 1] as number), 'progress only increases')
    }
    const scores = structured(result)
    assert.equal(scores.epochs, 15)
    assert.ok((scores.final_loss as number) < (scores.initial_loss as number), 'the loss went down')
    assert.ok((scores.test_accuracy as number) > 0.6, 'the model learned something')
    assert.ok(existsSync(scores.artifact_path as string), 'the model artifact is saved')
    assert.ok(heartbeats.length > 0, 'heartbeat log messages arrived during the call')
  })

  test('without resetTimeoutOnProgress the same call hits the client timeout', async () => {
    const client = await bed.connect()
    const error = await rpcError(
      client.callTool(
        { name: 'model_training', arguments: { model_name: 'timeout', epochs: 15 } },
        CallToolResultSchema,
        {
          timeout: 1000,
          onprogress: () => {},
        },
      ),
    )
    assert.equal(error.code, ErrorCode.RequestTimeout)
  })

  test('async task tools: start, status, result, list, and the result lands once in memory', async () => {
    const memory = { sessionId: 'session-async', memoryId: bed.memoryId, actorId: 'user-async' }
    const client = await bed.connect({ memory })
    const taskId = await startTask(client, 'start_model_training', { model_name: 'bg', epochs: 5 })
    assert.match(taskId, /^[A-Za-z0-9_-]{24}$/)
    const status = structured(
      await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
    )
    assert.equal(status.task_id, taskId)
    assert.ok(['working', 'completed'].includes(status.status as string))
    const done = await waitFor(async () => {
      const result = await client.callTool({ name: 'get_task_results', arguments: { task_id: taskId } })
      return structured(result).status === 'completed' ? result : undefined
    })
    const result = structured(done).result as Record<string, unknown>
    assert.equal(result.model_name, 'bg')
    assert.equal(result.epochs, 5)
    const listed = structured(await client.callTool({ name: 'list_tasks', arguments: {} })).tasks as Array<{
      task_id: string
    }>
    assert.ok(listed.some((task) => task.task_id === taskId))
    const events = await waitFor(async () => {
      const all = await listAllEvents(bed.env.data, bed.memoryId, memory.actorId, memory.sessionId)
      return all.length > 0 ? all : undefined
    })
    assert.equal(events.length, 1)
    const message = JSON.parse(events[0]?.text ?? '{}')
    assert.equal(message.message.role, 'user')
    assert.match(
      message.message.content[0].text,
      new RegExp(`task ${taskId} \\(tool model_training\\) completed`),
    )
    assert.match(message.message.content[0].text, /test_accuracy/)
  })

  test('cancel_task cancels a running task, writes a cancelled event, and cancelling again is a tool error', async () => {
    const memory = { sessionId: 'session-cancel', memoryId: bed.memoryId, actorId: 'user-cancel' }
    const client = await bed.connect({ memory })
    const taskId = await startTask(client, 'start_model_training', { model_name: 'c', epochs: 500 })
    const cancelled = structured(
      await client.callTool({ name: 'cancel_task', arguments: { task_id: taskId } }),
    )
    assert.equal(cancelled.status, 'cancelled')
    const again = toolError(await client.callTool({ name: 'cancel_task', arguments: { task_id: taskId } }))
    assert.equal(again.code, 'TASK_ALREADY_ENDED')
    assert.equal(again.field, 'task_id')
    const events = await waitFor(async () => {
      const all = await listAllEvents(bed.env.data, bed.memoryId, memory.actorId, memory.sessionId)
      return all.length > 0 ? all : undefined
    })
    assert.equal(events.length, 1)
    assert.match(events[0]?.text ?? '', /cancelled/)
  })

  test('spec-native tasks through client.experimental.tasks: create, get, result, list, cancel', async () => {
    const client = await bed.connect({
      memory: { sessionId: 'session-spec', memoryId: bed.memoryId, actorId: 'user-spec' },
    })
    const tools = await client.listTools()
    assert.equal(
      tools.tools.find((tool) => tool.name === 'model_training')?.execution?.taskSupport,
      'optional',
    )
    const messages: string[] = []
    let taskId = ''
    for await (const message of client.experimental.tasks.callToolStream(
      { name: 'model_training', arguments: { model_name: 'spec', epochs: 3 } },
      CallToolResultSchema,
    )) {
      messages.push(message.type)
      if (message.type === 'taskCreated') taskId = message.task.taskId
      if (message.type === 'result') assert.equal(structured(message.result).epochs, 3)
    }
    assert.deepEqual([messages[0], messages.at(-1)], ['taskCreated', 'result'])
    const task = await client.experimental.tasks.getTask(taskId)
    assert.equal(task.status, 'completed')
    const result = await client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)
    assert.equal(structured(result).model_name, 'spec')
    const listed = await client.experimental.tasks.listTasks()
    assert.ok(listed.tasks.some((each) => each.taskId === taskId))

    const long = client.experimental.tasks.callToolStream(
      { name: 'model_training', arguments: { model_name: 'spec-long', epochs: 500 } },
      CallToolResultSchema,
    )
    const first = await long.next()
    assert.equal(first.value?.type, 'taskCreated')
    const longId = first.value?.type === 'taskCreated' ? first.value.task.taskId : ''
    const cancelled = await client.experimental.tasks.cancelTask(longId)
    assert.equal(cancelled.status, 'cancelled')
    await long.return()
    const error = await rpcError(client.experimental.tasks.cancelTask(longId))
    assert.equal(error.code, ErrorCode.InvalidParams)
    assert.deepEqual(error.data, { code: 'TASK_ALREADY_ENDED', field: 'taskId' })
    assertPrefixedOnce(error.message)
  })

  test("another actor's task answers not found exactly like a missing id", async () => {
    const owner = await bed.connect({
      memory: { sessionId: 's1', memoryId: bed.memoryId, actorId: 'owner-actor' },
    })
    const other = await bed.connect({
      memory: { sessionId: 's1', memoryId: bed.memoryId, actorId: 'other-actor' },
    })
    const taskId = await startTask(owner, 'start_text_statistics', { documents: 50 })
    const foreign = toolError(
      await other.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
    )
    const missing = toolError(
      await other.callTool({ name: 'check_task_status', arguments: { task_id: 'no-such-task' } }),
    )
    assert.equal(foreign.code, 'TASK_NOT_FOUND')
    assert.equal(foreign.message.replace(taskId, 'ID'), missing.message.replace('no-such-task', 'ID'))
    const foreignSpec = await rpcError(other.experimental.tasks.getTask(taskId))
    const missingSpec = await rpcError(other.experimental.tasks.getTask('no-such-task'))
    assert.equal(foreignSpec.code, ErrorCode.InvalidParams)
    assert.deepEqual(foreignSpec.data, { code: 'TASK_NOT_FOUND', field: 'taskId' })
    assert.equal(foreignSpec.message.replace(taskId, 'ID'), missingSpec.message.replace('no-such-task', 'ID'))
    assertPrefixedOnce(missingSpec.message)
    for (const method of ['tasks/result', 'tasks/cancel'] as const) {
      const answer = await rpcError(
        other.request({ method, params: { taskId } }, CallToolResultSchema.passthrough()),
      )
      assert.deepEqual(answer.data, { code: 'TASK_NOT_FOUND', field: 'taskId' }, method)
    }
    toolError(await other.callTool({ name: 'cancel_task', arguments: { task_id: taskId } }))
    const otherList = structured(await other.callTool({ name: 'list_tasks', arguments: {} }))
      .tasks as unknown[]
    assert.equal(otherList.length, 0)
    assert.notEqual((await owner.experimental.tasks.getTask(taskId)).status, 'cancelled')
  })

  test('invalid arguments are a tool error naming the field (a task request: invalid params), and nothing starts', async () => {
    const client = await bed.connect({
      memory: { sessionId: 's-invalid', memoryId: bed.memoryId, actorId: 'user-invalid' },
    })
    // Spec 2025-11-25 (SEP-1303): input validation errors are tool execution errors.
    const tooFew = toolError(
      await client.callTool({ name: 'start_model_training', arguments: { model_name: 'x', epochs: 0 } }),
    )
    assert.equal(tooFew.code, 'INVALID_ARGUMENTS')
    assert.equal(tooFew.field, 'epochs')
    const badName = toolError(
      await client.callTool({ name: 'model_training', arguments: { model_name: '../etc', epochs: 1 } }),
    )
    assert.equal(badName.field, 'model_name')
    const specBad = await rpcError(
      client.request(
        {
          method: 'tools/call',
          params: { name: 'model_training', arguments: { epochs: 2 }, task: { ttl: 1000 } },
        },
        CreateTaskResultSchema,
      ),
    )
    assert.equal(specBad.code, ErrorCode.InvalidParams)
    assert.deepEqual(specBad.data, { code: 'INVALID_ARGUMENTS', field: 'model_name' })
    const unknown = await rpcError(client.callTool({ name: 'no_such_tool', arguments: {} }))
    assert.equal(unknown.code, ErrorCode.InvalidParams)
    assert.deepEqual(unknown.data, { code: 'UNKNOWN_TOOL', field: 'name' })
    // A huge name is not echoed back whole.
    const huge = await rpcError(client.callTool({ name: `x${'y'.repeat(3_000_000)}`, arguments: {} }))
    assert.deepEqual(huge.data, { code: 'UNKNOWN_TOOL', field: 'name' })
    assert.ok(huge.message.length < 1000, `an error of ${huge.message.length} characters`)
    const listed = structured(await client.callTool({ name: 'list_tasks', arguments: {} })).tasks as unknown[]
    assert.equal(listed.length, 0, 'no task was recorded')
  })

  test('structurally malformed params are invalid params naming the field, with no raw dump, and nothing starts', async () => {
    const actorId = 'user-malformed'
    const headers = {
      authorization: `Bearer ${TEST_TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': `s-malformed@@@${bed.memoryId}@@@${actorId}`,
    }
    const call = async (method: string, params: unknown) => {
      const response = await fetch(bed.server.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }),
      })
      const text = await response.text()
      assert.doesNotMatch(text, /"expected"|invalid_type/, `no raw validation dump for ${method}`)
      return JSON.parse(text) as { id: number; error: { code: number; message: string; data: unknown } }
    }
    const cases: Array<[string, unknown, string]> = [
      ['tools/call', { arguments: { documents: 5 } }, 'name'],
      ['tools/call', { name: 'start_text_statistics', arguments: 'x' }, 'arguments'],
      ['tools/call', { name: 'start_text_statistics', arguments: [1] }, 'arguments'],
      ['tools/call', 'not-an-object', 'params'],
      ['tasks/get', {}, 'taskId'],
      ['tasks/result', { taskId: 5 }, 'taskId'],
      ['tasks/cancel', undefined, 'taskId'],
      ['tools/call', { name: 'check_task_status', arguments: { task_id: 'x' }, task: {} }, 'task'],
    ]
    for (const [method, params, field] of cases) {
      const answer = await call(method, params)
      assert.equal(answer.id, 7)
      assert.equal(answer.error.code, ErrorCode.InvalidParams, `${method} ${JSON.stringify(params)}`)
      assert.deepEqual(answer.error.data, { code: 'INVALID_PARAMS', field })
      assert.match(answer.error.message, new RegExp(`\\b${field}\\b`))
    }
    const client = await bed.connect({
      memory: { sessionId: 's-malformed', memoryId: bed.memoryId, actorId },
    })
    const listed = structured(await client.callTool({ name: 'list_tasks', arguments: {} })).tasks as unknown[]
    assert.equal(listed.length, 0, 'no task was recorded for this actor')
  })

  test('requests without a valid token get 401; a malformed composite header gets 400 before anything starts', async () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }
    const post = (headers: Record<string, string>, body: string = JSON.stringify(initialize)) =>
      fetch(bed.server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body,
      })
    // RFC 6750: a bare challenge when no token came, invalid_token when one was refused; a static
    // token has no authorization server, so no protected-resource metadata is pointed at or served.
    const missing = await post({})
    assert.equal(missing.status, 401)
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="longrun-mcp"')
    assert.deepEqual(((await missing.json()) as { error: { data: unknown } }).error.data, {
      code: 'UNAUTHENTICATED',
    })
    const wrong = await post({ authorization: 'Bearer wrong' })
    assert.equal(wrong.status, 401)
    assert.match(
      wrong.headers.get('www-authenticate') ?? '',
      /^Bearer realm="longrun-mcp", error="invalid_token", error_description="[^"]+"$/,
    )
    const metadata = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', bed.server.url))
    assert.equal(metadata.status, 404)
    assert.equal((await post({ authorization: `Bearer ${TEST_TOKEN}` })).status, 200)
    // AgentCore's own session ids (no @@@) are accepted and simply name no memory.
    assert.equal(
      (await post({ authorization: `Bearer ${TEST_TOKEN}`, 'mcp-session-id': 'a1b2c3d4-runtime-id' })).status,
      200,
    )
    const malformed = await post({
      authorization: `Bearer ${TEST_TOKEN}`,
      'mcp-session-id': 'sess@@@not a memory@@@actor',
    })
    assert.equal(malformed.status, 400)
    const body = (await malformed.json()) as { error: { data: unknown } }
    assert.deepEqual(body.error.data, { code: 'INVALID_REQUEST', field: 'Mcp-Session-Id' })
    const callBody = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'start_text_statistics', arguments: {} },
    })
    const rejected = await post(
      { authorization: `Bearer ${TEST_TOKEN}`, 'mcp-session-id': 'a@@@b' },
      callBody.replace('"arguments":{}', '"arguments":{"text":"marker-rejected-header"}'),
    )
    assert.equal(rejected.status, 400)
    // Checked in the database itself: no task of any owner carries this request's input.
    const db = new DatabaseSync(join(bed.dataDir, 'mcp-tasks.sqlite'), { readOnly: true })
    try {
      const row = db
        .prepare("SELECT count(*) AS n FROM tasks WHERE input LIKE '%marker-rejected-header%'")
        .get() as { n: number }
      assert.equal(row.n, 0)
    } finally {
      db.close()
    }
  })

  test('oversized, malformed, empty-batch and wrong-method requests get 4xx without a stack trace', async () => {
    const headers = {
      authorization: `Bearer ${TEST_TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    }
    const malformed = await fetch(bed.server.url, { method: 'POST', headers, body: '{"jsonrpc": "2.0", ' })
    assert.equal(malformed.status, 400)
    const malformedText = await malformed.text()
    assert.match(malformedText, /Parse error/)
    assert.doesNotMatch(malformedText, /\n\s+at /)
    const huge = await fetch(bed.server.url, {
      method: 'POST',
      headers,
      body: `"${'x'.repeat(5 * 1024 * 1024)}"`,
    })
    assert.equal(huge.status, 413)
    const emptyBatch = await fetch(bed.server.url, { method: 'POST', headers, body: '[]' })
    assert.equal(emptyBatch.status, 400)
    assert.equal(
      ((await emptyBatch.json()) as { error: { data: { code: string } } }).error.data.code,
      'INVALID_REQUEST',
    )
    const notJsonRpc = await fetch(bed.server.url, { method: 'POST', headers, body: '{"hello": 1}' })
    assert.ok(notJsonRpc.status >= 400 && notJsonRpc.status < 500)
    assert.doesNotMatch(await notJsonRpc.text(), /\n\s+at /)
    assert.equal((await fetch(bed.server.url, { method: 'GET', headers })).status, 405)
    assert.equal((await fetch(new URL('/elsewhere', bed.server.url), { headers })).status, 404)
    const rebinding = await fetch(bed.server.url, {
      method: 'POST',
      headers: { ...headers, origin: 'http://evil.example.com' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    assert.equal(rebinding.status, 403, 'a foreign Origin is refused on a loopback server')
  })

  test('a body over the limit gets its 413 while the client is still sending: Node fetch and the SDK client read it every time', async () => {
    const headers = {
      authorization: `Bearer ${TEST_TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    }
    const chunk = new Uint8Array(1024 * 1024).fill(0x20)
    // Chunked and slow: no declared length, so the limit is found while the body still arrives,
    // the case where answering at once resets the sender.
    const streamed = () => {
      let sent = 0
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 2))
          if (sent++ < 8) controller.enqueue(chunk)
          else controller.close()
        },
      })
    }
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const declared = await fetch(bed.server.url, {
        method: 'POST',
        headers,
        body: ' '.repeat(6 * 1024 * 1024),
      })
      assert.equal(declared.status, 413)
      assert.equal(
        ((await declared.json()) as { error: { data: { code: string } } }).error.data.code,
        'BODY_TOO_LARGE',
      )
      const chunked = await fetch(bed.server.url, {
        method: 'POST',
        headers,
        body: streamed(),
        duplex: 'half',
      } as RequestInit)
      assert.equal(chunked.status, 413)
      await chunked.body?.cancel()
    }
    const client = await bed.connect()
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const error = await rpcError(
        client.callTool({ name: 'text_statistics', arguments: { text: 'x'.repeat(5 * 1024 * 1024) } }),
      )
      // The SDK's StreamableHTTPError carries the HTTP status it read (a reset carries none).
      assert.equal(error.code, 413)
    }
  })

  test('without a composite header a task runs and its status tools work, but nothing is queued for memory', async () => {
    const client = await bed.connect()
    const started = await client.callTool({
      name: 'start_text_statistics',
      arguments: { text: 'a b\n\nb c c' },
    })
    const taskId = structured(started).task_id as string
    assert.equal(structured(started).delivers_to_memory, false)
    const done = await waitFor(async () => {
      const result = await client.callTool({ name: 'get_task_results', arguments: { task_id: taskId } })
      return structured(result).status === 'completed' ? structured(result) : undefined
    })
    assert.deepEqual((done.result as { top_words: unknown }).top_words, [
      { word: 'b', count: 2 },
      { word: 'c', count: 2 },
      { word: 'a', count: 1 },
    ])
    assert.equal((await bed.server.backend.get(taskId))?.delivery, undefined)
  })

  test('GET /ping is HealthyBusy while a task runs and its time changes only with the status', async () => {
    const ping = async () =>
      (await (await fetch(new URL('/ping', bed.server.url))).json()) as {
        status: string
        time_of_last_update: number
      }
    const idle = await waitFor(async () => {
      const report = await ping()
      return report.status === 'Healthy' ? report : undefined
    })
    assert.deepEqual(await ping(), idle, 'unchanged while the status is unchanged')
    const client = await bed.connect()
    const taskId = await startTask(client, 'start_model_training', { model_name: 'busy', epochs: 500 })
    const busy = await ping()
    assert.equal(busy.status, 'HealthyBusy')
    // Every status change moves the time by at least one second, even within the same second.
    assert.ok(busy.time_of_last_update > idle.time_of_last_update)
    assert.deepEqual(await ping(), busy)
    await client.callTool({ name: 'cancel_task', arguments: { task_id: taskId } })
    const after = await waitFor(async () => {
      const report = await ping()
      return report.status === 'Healthy' ? report : undefined
    })
    assert.ok(after.time_of_last_update > busy.time_of_last_update)
  })
})
