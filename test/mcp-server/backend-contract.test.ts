import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { defineLongRunningTool, type LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import {
  connectClient,
  listAllEvents,
  startTestServer,
  structured,
  tempDir,
  waitFor,
} from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'

/** Tools that run until the test releases them, recording starts and aborts. */
function heldTools() {
  const started: string[] = []
  const aborted: string[] = []
  const releases = new Map<string, () => void>()
  const held = defineLongRunningTool({
    name: 'held',
    description: 'Runs until released.',
    input: z.object({ label: z.string() }),
    run: async ({ label }, ctx) => {
      started.push(label)
      await new Promise<void>((resolve, reject) => {
        releases.set(label, resolve)
        ctx.signal.addEventListener(
          'abort',
          () => {
            aborted.push(label)
            reject(new Error('stopped'))
          },
          { once: true },
        )
      })
      return { label }
    },
  })
  const release = (label: string) => {
    const open = releases.get(label)
    assert.ok(open, `${label} is running`)
    open()
  }
  return { tools: [held], started, aborted, release }
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`the ${kind} backend: what every backend does alike`, () => {
    let env: LocalAgentCoreFixture
    let redis: TestRedis | undefined
    let dir: { path: string; remove(): Promise<void> }
    let server: LongRunningMcpServer
    let memoryId: string
    const clients: Client[] = []
    const held = heldTools()
    const connect = async (actorId: string) => {
      const client = await connectClient(server.url, {
        memory: { sessionId: `s-${actorId}`, memoryId, actorId },
      })
      clients.push(client)
      return client
    }
    const status = async (client: Client, taskId: string) =>
      structured(await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
    const startHeld = async (client: Client, label: string) =>
      structured(await client.callTool({ name: 'start_held', arguments: { label } }))

    before(async () => {
      env = await startLocalAgentCore()
      memoryId = await env.createMemory()
      dir = await tempDir()
      if (kind === 'redis') redis = await startTestRedis()
      server = await startTestServer(dir.path, {
        memoryClient: env.data,
        tools: held.tools,
        taskConcurrency: 1,
        queueLimit: 4,
        heartbeatIntervalMs: 50,
        ...(redis !== undefined && { redis: { url: redis.url } }),
      })
    })
    after(async () => {
      for (const client of clients) await client.close()
      await server.close()
      await env.close()
      await redis?.remove()
      await dir.remove()
    })

    test('a background task runs, reports, ends with its result, and writes one memory event', async () => {
      const client = await connect('contract-result')
      const started = await startHeld(client, 'r1')
      await waitFor(() => (held.started.includes('r1') ? true : undefined))
      assert.equal((await status(client, started.task_id as string)).status, 'working')
      held.release('r1')
      const done = await waitFor(async () => {
        const now = await status(client, started.task_id as string)
        return now.status === 'completed' && (now.delivery as { state: string }).state === 'delivered'
          ? now
          : undefined
      })
      assert.equal(done.runs, 1)
      const result = await client.callTool({
        name: 'get_task_results',
        arguments: { task_id: started.task_id },
      })
      assert.deepEqual(structured(result).result, { label: 'r1' })
      const events = await listAllEvents(env.data, memoryId, 'contract-result', 's-contract-result')
      assert.equal(events.length, 1)
      assert.match(
        events[0]?.text ?? '',
        new RegExp(`task ${String(started.task_id)} \\(tool held\\) completed`),
      )
    })

    test('queued tasks say so with their place; an actor with one task goes before a backlog; a full queue refuses', async () => {
      const greedy = await connect('contract-greedy')
      const modest = await connect('contract-modest')
      const g1 = await startHeld(greedy, 'g1')
      await waitFor(() => (held.started.includes('g1') ? true : undefined))
      const g2 = await startHeld(greedy, 'g2')
      await startHeld(greedy, 'g3')
      const m1 = await startHeld(modest, 'm1')
      assert.equal(g2.status, 'queued')
      // m1's owner runs nothing: it starts before g2 and g3.
      assert.equal((await status(modest, m1.task_id as string)).queue_position, 1)
      assert.equal((await status(greedy, g2.task_id as string)).queue_position, 2)
      await startHeld(greedy, 'g4')
      const refused = await greedy.callTool({ name: 'start_held', arguments: { label: 'g5' } }).then(
        () => assert.fail('expected QUEUE_FULL'),
        (error: { data?: { code?: string } }) => error,
      )
      assert.equal(refused.data?.code, 'QUEUE_FULL')
      held.release('g1')
      await waitFor(() => (held.started.includes('m1') ? true : undefined))
      assert.deepEqual(held.started.slice(-2), ['g1', 'm1'])
      for (const label of ['m1', 'g2', 'g3', 'g4']) {
        await waitFor(() => (held.started.includes(label) ? true : undefined))
        held.release(label)
      }
      await waitFor(async () =>
        (await status(greedy, g1.task_id as string)).status === 'completed' ? true : undefined,
      )
      const listed = structured(await greedy.callTool({ name: 'list_tasks', arguments: {} }))
        .tasks as unknown[]
      assert.equal(listed.length, 4, 'the refused start left nothing')
    })

    test('a cancel stops a running task (its signal aborts) and a queued one never runs; each writes one event', async () => {
      const client = await connect('contract-cancel')
      const running = await startHeld(client, 'c-run')
      await waitFor(() => (held.started.includes('c-run') ? true : undefined))
      const queued = await startHeld(client, 'c-queued')
      // The queued one first: cancelling the running one frees the slot it waits for.
      for (const task of [queued, running]) {
        const view = structured(
          await client.callTool({ name: 'cancel_task', arguments: { task_id: task.task_id } }),
        )
        assert.equal(view.status, 'cancelled')
      }
      await waitFor(() => (held.aborted.includes('c-run') ? true : undefined), 5000, 'the tool to be stopped')
      const events = await waitFor(async () => {
        const all = await listAllEvents(env.data, memoryId, 'contract-cancel', 's-contract-cancel')
        return all.length === 2 ? all : undefined
      })
      assert.ok(events.every((event) => /\(tool held\) cancelled/.test(event.text)))
      assert.ok(!held.started.includes('c-queued'))
    })

    test('another actor finds no task of this one; spec tasks and inline calls work; listing pages with a cursor', async () => {
      const owner = await connect('contract-owner')
      const other = await connect('contract-other')
      const task = await startHeld(owner, 'o1')
      const missing = await other.callTool({
        name: 'check_task_status',
        arguments: { task_id: task.task_id },
      })
      assert.equal((structured(missing).error as { code: string }).code, 'TASK_NOT_FOUND')
      await waitFor(() => (held.started.includes('o1') ? true : undefined))
      held.release('o1')
      const inline = owner.callTool({ name: 'held', arguments: { label: 'inline' } }, CallToolResultSchema)
      await waitFor(() => (held.started.includes('inline') ? true : undefined))
      held.release('inline')
      assert.deepEqual((await inline).structuredContent, { label: 'inline' })
      // The SDK client asks for a task only for a tool it knows takes one (from tools/list).
      await owner.listTools()
      const created = await owner.experimental.tasks.callToolStream(
        { name: 'held', arguments: { label: 'spec' } },
        CallToolResultSchema,
      )
      const first = await created.next()
      assert.equal(first.value?.type, 'taskCreated')
      await waitFor(() => (held.started.includes('spec') ? true : undefined))
      held.release('spec')
      for await (const message of created)
        if (message.type === 'result') assert.deepEqual(message.result.structuredContent, { label: 'spec' })
      // Two background tasks of this owner (the inline call is not listed), one per page.
      const page = await server.backend.list('contract-owner', { limit: 1 })
      assert.equal(page.tasks.length, 1)
      const next = await server.backend.list('contract-owner', { limit: 1, cursor: page.nextCursor })
      assert.equal(next.tasks.length, 1)
      assert.notEqual(next.tasks[0]?.taskId, page.tasks[0]?.taskId)
      assert.equal(next.nextCursor, undefined)
    })

    test('a task keeps the trace context of the call that started it, through its run to its end', async () => {
      const traceContext = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
      const taskId = `trace-${kind}`
      await server.backend.submit({
        taskId,
        owner: 'contract-trace',
        tool: 'held',
        input: { label: 'traced' },
        mode: 'async',
        caller: null,
        createdAt: Date.now(),
        ttlMs: 60_000,
        pollIntervalMs: 100,
        traceContext,
      })
      await waitFor(() => (held.started.includes('traced') ? true : undefined))
      assert.deepEqual((await server.backend.get(taskId))?.traceContext, traceContext)
      held.release('traced')
      const ended = await waitFor(async () => {
        const task = await server.backend.get(taskId)
        return task?.status === 'completed' ? task : undefined
      })
      assert.deepEqual(ended.traceContext, traceContext)
    })
  })
}
