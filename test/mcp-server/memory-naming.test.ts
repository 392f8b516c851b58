/**
 * How a caller names its memory: the composite `Mcp-Session-Id` (spec 2025-11-25, the seed's way),
 * longrun's own `x-longrun-memory` header (which spec 2026-07-28, without protocol sessions, keeps)
 * and the `io.longrun/memory` entry of a request's `_meta`, with the same value and the same checks.
 * A background call that names none, while the server delivers results, is told so in its answer.
 */
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { textStatisticsTool } from '../../src/mcp-server/index.ts'
import { formatCompositeSessionHeader, MEMORY_HEADER, MEMORY_META_KEY } from '../../src/contract/index.ts'
import { LongRunningMcpClient } from '../../src/mcp/index.ts'
import { DELIVERY_META_KEY, NOT_DELIVERED } from '../../src/mcp-server/tool-calls.ts'
import { listAllEvents, structured, TEST_TOKEN, useMcpTestBed, waitFor } from '../helpers/mcp-server.ts'

/** A real SDK client sending exactly `headers` besides its token (no Mcp-Session-Id of ours). */
async function clientWith(url: string, headers: Record<string, string>): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers } },
  })
  const client = new Client({ name: 'memory-naming', version: '1.0.0' }, { capabilities: {} })
  await client.connect(transport)
  return client
}

const TEXT = { text: 'one two three two one' }

describe('naming the caller memory in both eras', () => {
  const bed = useMcpTestBed(() => ({ tools: [textStatisticsTool()] }))
  const memoryOf = (label: string) => ({
    sessionId: `session-${label}`,
    memoryId: bed.memoryId,
    actorId: `actor-${label}`,
  })
  const delivered = async (memory: ReturnType<typeof memoryOf>) =>
    waitFor(async () => {
      const events = await listAllEvents(bed.env.data, memory.memoryId, memory.actorId, memory.sessionId)
      return events.length > 0 ? events : undefined
    }, 30_000)

  test('x-longrun-memory alone delivers the result into that session, once', async () => {
    const memory = memoryOf('header')
    const client = await clientWith(bed.server.url, { [MEMORY_HEADER]: formatCompositeSessionHeader(memory) })
    try {
      const started = await client.callTool({ name: 'start_text_statistics', arguments: TEXT })
      assert.equal(structured(started).delivers_to_memory, true)
      const events = await delivered(memory)
      assert.equal(events.length, 1)
      assert.match(events[0]?.text ?? '', new RegExp(String(structured(started).task_id)))
    } finally {
      await client.close()
    }
  })

  test("a request's _meta names the memory when no header does; its tasks are that actor's", async () => {
    const memory = memoryOf('meta')
    const client = await clientWith(bed.server.url, {})
    try {
      const _meta = { [MEMORY_META_KEY]: formatCompositeSessionHeader(memory) }
      const started = await client.callTool({ name: 'start_text_statistics', arguments: TEXT, _meta })
      const taskId = String(structured(started).task_id)
      assert.equal(structured(started).delivers_to_memory, true)
      assert.equal((await delivered(memory)).length, 1)
      // The same actor (through _meta) sees the task; a request naming no memory does not.
      const own = await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId }, _meta })
      assert.equal(structured(own).task_id, taskId)
      const other = await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } })
      assert.equal((structured(other).error as { code?: string } | undefined)?.code, 'TASK_NOT_FOUND')
    } finally {
      await client.close()
    }
  })

  test('forms that disagree, or a malformed one, are refused before anything starts', async () => {
    const memory = memoryOf('clash')
    const post = (headers: Record<string, string>) =>
      fetch(bed.server.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_TOKEN}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'start_text_statistics', arguments: TEXT },
        }),
      })
    const clash = await post({
      'mcp-session-id': formatCompositeSessionHeader(memory),
      [MEMORY_HEADER]: formatCompositeSessionHeader({ ...memory, actorId: 'someone-else' }),
    })
    assert.equal(clash.status, 400)
    assert.equal(
      ((await clash.json()) as { error?: { data?: { code?: string } } }).error?.data?.code,
      'INVALID_REQUEST',
    )
    const malformed = await post({ [MEMORY_HEADER]: 'not-a-composite-value' })
    assert.equal(malformed.status, 400)
    const metaClient = await clientWith(bed.server.url, {
      [MEMORY_HEADER]: formatCompositeSessionHeader(memory),
    })
    try {
      await assert.rejects(
        metaClient.callTool({
          name: 'start_text_statistics',
          arguments: TEXT,
          _meta: {
            [MEMORY_META_KEY]: formatCompositeSessionHeader({ ...memory, sessionId: 'session-other' }),
          },
        }),
        (error: { data?: { code?: string } }) => error.data?.code === 'INVALID_REQUEST',
      )
      await assert.rejects(
        metaClient.callTool({
          name: 'start_text_statistics',
          arguments: TEXT,
          _meta: { [MEMORY_META_KEY]: 42 },
        }),
        (error: { data?: { code?: string } }) => error.data?.code === 'INVALID_REQUEST',
      )
    } finally {
      await metaClient.close()
    }
    const listed = await clientWith(bed.server.url, { [MEMORY_HEADER]: formatCompositeSessionHeader(memory) })
    try {
      const tasks = structured(await listed.callTool({ name: 'list_tasks', arguments: {} }))
        .tasks as unknown[]
      assert.equal(tasks.length, 0, 'nothing was started')
    } finally {
      await listed.close()
    }
  })

  test('a background call that names no memory is told its result will not be delivered', async () => {
    const client = await clientWith(bed.server.url, {})
    try {
      const started = await client.callTool({ name: 'start_text_statistics', arguments: TEXT })
      assert.equal(structured(started).delivers_to_memory, false)
      const text = (started.content as { type: string; text: string }[])[0]?.text ?? ''
      assert.ok(text.endsWith(NOT_DELIVERED))
      const named = await clientWith(bed.server.url, {
        [MEMORY_HEADER]: formatCompositeSessionHeader(memoryOf('told')),
      })
      try {
        const told = await named.callTool({ name: 'start_text_statistics', arguments: TEXT })
        const answer = (told.content as { type: string; text: string }[])[0]?.text ?? ''
        assert.ok(!answer.includes(NOT_DELIVERED))
      } finally {
        await named.close()
      }
      // A spec-native task says it in its CreateTaskResult's _meta.
      const created = await client.request(
        { method: 'tools/call', params: { name: 'text_statistics', arguments: TEXT, task: {} } },
        (await import('@modelcontextprotocol/sdk/types.js')).CreateTaskResultSchema,
      )
      assert.equal(created._meta?.[DELIVERY_META_KEY], NOT_DELIVERED)
    } finally {
      await client.close()
    }
  })

  test('LongRunningMcpClient sends both forms, so results reach memory whatever the server reads', async () => {
    // A pass-through proxy that records the headers of every request.
    const seen: IncomingHttpHeaders[] = []
    const target = new URL(bed.server.url)
    const proxy = createServer((incoming, outgoing) => {
      seen.push(incoming.headers)
      const forwarded = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: incoming.url,
          method: incoming.method,
          headers: { ...incoming.headers, host: target.host },
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoing)
        },
      )
      incoming.pipe(forwarded)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const memory = memoryOf('client')
    const client = new LongRunningMcpClient({
      url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${target.pathname}`,
      bearerToken: TEST_TOKEN,
      memory,
    })
    try {
      await client.connect()
      const tools = await client.listTools()
      assert.ok(tools.some((tool) => tool.name === 'start_text_statistics'))
      const value = formatCompositeSessionHeader(memory)
      assert.ok(seen.length > 0)
      for (const headers of seen) {
        assert.equal(headers['mcp-session-id'], value)
        assert.equal(headers[MEMORY_HEADER], value)
      }
    } finally {
      await client.disconnect()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })
})
