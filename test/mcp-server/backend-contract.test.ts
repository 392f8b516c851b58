import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import {
  defineLongRunningTool,
  INTERRUPTED_MESSAGE,
  type LongRunningMcpServer,
  type LongRunningTool,
  type NewTaskRecord,
  RERUN_MESSAGE,
  SHUT_DOWN_BEFORE_START_MESSAGE,
  SqliteTaskStore,
  type TaskStore,
  TOOL_GONE_MESSAGE,
} from '../../src/mcp-server/index.ts'
import { BullMqTaskQueue } from '../../src/mcp-server/bullmq-task-queue.ts'
import { RedisConnection } from '../../src/mcp-server/redis-connection.ts'
import { RedisKeys } from '../../src/mcp-server/redis-task-layout.ts'
import { RedisTaskStore } from '../../src/mcp-server/redis-task-store.ts'
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

/** Tools that run until the test releases them, recording starts and aborts; `held_rerun` is run again after a crash. */
function heldTools() {
  const started: string[] = []
  const aborted: string[] = []
  const releases = new Map<string, () => void>()
  const definition = {
    description: 'Runs until released.',
    input: z.object({ label: z.string() }),
    run: async ({ label }: { label: string }, ctx: { signal: AbortSignal }) => {
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
  }
  const held = defineLongRunningTool({ name: 'held', ...definition })
  const heldRerun = defineLongRunningTool({ name: 'held_rerun', onRestart: 'rerun', ...definition })
  const release = (label: string) => {
    const open = releases.get(label)
    assert.ok(open, `${label} is running`)
    open()
  }
  return { tools: [held, heldRerun], started, aborted, release }
}

/**
 * What a process that died mid-run leaves on each backend, written as that process would have: on
 * SQLite the task is running, held by a process whose lease is gone; on Redis it is running for a
 * dead worker, and its BullMQ job is back in the queue (as BullMQ's stalled-job check puts it).
 */
async function leaveInterrupted(
  kind: 'sqlite' | 'redis',
  where: {
    dataDir: string
    redisUrl: string | undefined
    tools: readonly LongRunningTool[]
  },
  task: NewTaskRecord,
): Promise<void> {
  if (kind === 'sqlite') {
    const store = new SqliteTaskStore({ dataDir: where.dataDir })
    try {
      await store.create(task, { stage: 'running', holder: 'a-process-that-died' })
    } finally {
      await store.close()
    }
    return
  }
  const connection = await RedisConnection.open({ url: where.redisUrl as string })
  try {
    const store: TaskStore = new RedisTaskStore({ connection, keys: new RedisKeys('longrun') })
    const { rank } = await store.create(task, { stage: 'queued', holder: undefined })
    await store.claim(task.taskId, {
      from: { stage: 'queued', holder: undefined },
      holder: 'a-worker-that-died',
      stage: 'running',
      addRun: true,
      statusMessage: null,
      now: task.createdAt,
    })
    await store.confirm(task.taskId)
    const queue = new BullMqTaskQueue({
      connection,
      prefix: 'longrun-bull',
      tools: where.tools,
      runWorker: false,
    })
    await queue.requeue({ taskId: task.taskId, tool: task.tool, rank })
    await queue.close()
  } finally {
    connection.close()
  }
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
        // Short leases: tasks a dead process left are taken over within a couple of seconds.
        leaseMs: 3000,
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

    test('a task whose process died mid-run runs again when its tool says so, saying why, and fails otherwise; one event each', async () => {
      const memory = { sessionId: 's-contract-restart', memoryId, actorId: 'contract-restart' }
      const interrupted = (taskId: string, tool: string, label: string): NewTaskRecord => ({
        taskId,
        owner: memory.actorId,
        tool,
        input: { label },
        mode: 'async',
        caller: memory,
        createdAt: Date.now(),
        ttlMs: 60_000,
        pollIntervalMs: 100,
      })
      const where = { dataDir: dir.path, redisUrl: redis?.url, tools: held.tools }
      await leaveInterrupted(kind, where, interrupted(`rerun-${kind}`, 'held_rerun', 'again'))
      await leaveInterrupted(kind, where, interrupted(`fail-${kind}`, 'held', 'never'))
      await leaveInterrupted(kind, where, interrupted(`gone-${kind}`, 'removed_tool', 'gone'))
      const client = await connect('contract-restart')
      await waitFor(() => (held.started.includes('again') ? true : undefined), 10_000, 'the re-run to start')
      const rerun = await status(client, `rerun-${kind}`)
      assert.equal(rerun.status, 'working')
      assert.equal(rerun.runs, 2)
      assert.equal(rerun.status_message, RERUN_MESSAGE)
      // One slot: on Redis the other task's job waits behind the re-run.
      held.release('again')
      await waitFor(async () =>
        (await status(client, `rerun-${kind}`)).status === 'completed' ? true : undefined,
      )
      const failed = await waitFor(async () => {
        const now = await status(client, `fail-${kind}`)
        return now.status === 'failed' ? now : undefined
      })
      assert.equal(failed.status_message, INTERRUPTED_MESSAGE)
      assert.equal(failed.runs, 1, 'not run again')
      // A tool no live process serves any more: failed, wherever it waited.
      const gone = await waitFor(async () => {
        const now = await status(client, `gone-${kind}`)
        return now.status === 'failed' ? now : undefined
      })
      assert.equal(gone.status_message, TOOL_GONE_MESSAGE)
      const events = await waitFor(async () => {
        const all = await listAllEvents(env.data, memoryId, memory.actorId, memory.sessionId)
        return all.length === 3 ? all : undefined
      })
      assert.equal(
        events.filter((event) => event.text.includes(`task rerun-${kind} (tool held_rerun) completed`))
          .length,
        1,
      )
      assert.equal(
        events.filter((event) => event.text.includes(`task fail-${kind} (tool held) failed`)).length,
        1,
      )
      assert.ok(!held.started.includes('never'))
    })

    test('delivery states alike: throttled writes stay pending with the reason, then land with it cleared; a missing memory fails at once', async () => {
      const client = await connect('contract-delivery')
      env.service.faults.set({ CreateEvent: { throttleRate: 1 } })
      let owedId: string
      try {
        owedId = (await startHeld(client, 'owed')).task_id as string
        await waitFor(() => (held.started.includes('owed') ? true : undefined))
        held.release('owed')
        const pending = await waitFor(async () => {
          const now = await status(client, owedId)
          const delivery = now.delivery as { state: string; attempts: number; reason: string | null }
          return delivery.attempts >= 1 ? delivery : undefined
        })
        assert.equal(pending.state, 'pending')
        assert.match(pending.reason ?? '', /Throttl/)
      } finally {
        env.service.faults.set({})
      }
      const landed = await waitFor(async () => {
        const delivery = (await status(client, owedId)).delivery as {
          state: string
          attempts: number
          reason: string | null
        }
        return delivery.state === 'delivered' ? delivery : undefined
      })
      assert.equal(landed.reason, null)
      assert.ok(landed.attempts >= 2, `counted every attempt (${landed.attempts})`)
      const lost = await connectClient(server.url, {
        memory: { sessionId: 's-nomem', memoryId: 'nomemory-AbCdEf1234', actorId: 'contract-delivery' },
      })
      clients.push(lost)
      const lostId = (await startHeld(lost, 'lost')).task_id as string
      await waitFor(() => (held.started.includes('lost') ? true : undefined))
      held.release('lost')
      const failed = await waitFor(async () => {
        const delivery = (await status(lost, lostId)).delivery as {
          state: string
          attempts: number
          reason: string | null
        }
        return delivery.state === 'failed' ? delivery : undefined
      })
      assert.equal(failed.attempts, 1, 'not retried')
      assert.match(failed.reason ?? '', /ResourceNotFoundException/)
    })
  })
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`the ${kind} backend: a shutdown`, () => {
    test('ends the inline calls still waiting for a slot (their requests close with the process), saying so', async () => {
      const dir = await tempDir()
      const redis = kind === 'redis' ? await startTestRedis() : undefined
      const held = heldTools()
      let next = 0
      const server = await startTestServer(dir.path, {
        tools: held.tools,
        taskConcurrency: 1,
        shutdownGraceMs: 200,
        newTaskId: () => `shutdown-${kind}-${(next += 1)}`,
        ...(redis !== undefined && { redis: { url: redis.url } }),
      })
      const client = await connectClient(server.url)
      try {
        // An inline call takes the only slot, the second waits behind it. Their answers never come
        // (the process stops): the client gives up on them when it closes.
        void client.callTool({ name: 'held', arguments: { label: 'occupies' } }).catch(() => undefined)
        await waitFor(() => (held.started.includes('occupies') ? true : undefined))
        void client.callTool({ name: 'held', arguments: { label: 'waits' } }).catch(() => undefined)
        const waiting = `shutdown-${kind}-2`
        await waitFor(async () =>
          (await server.backend.get(waiting))?.stage === 'queued' ? true : undefined,
        )
        await server.close()
        const store = await openStore(kind, dir.path, redis?.url)
        try {
          const ended = await store.get(waiting)
          assert.equal(ended?.status, 'failed')
          assert.equal(ended?.statusMessage, SHUT_DOWN_BEFORE_START_MESSAGE)
          assert.ok(!held.started.includes('waits'), 'it never ran')
        } finally {
          await store.close()
        }
      } finally {
        await client.close()
        await redis?.remove()
        await dir.remove()
      }
    })
  })
}

/** The store a backend of `kind` wrote, opened as another process would. */
async function openStore(kind: 'sqlite' | 'redis', dataDir: string, redisUrl: string | undefined) {
  if (kind === 'sqlite') return new SqliteTaskStore({ dataDir })
  const connection = await RedisConnection.open({ url: redisUrl as string })
  const store = new RedisTaskStore({ connection, keys: new RedisKeys('longrun') })
  return {
    get: (taskId: string) => store.get(taskId),
    close: async () => {
      await store.close()
      connection.close()
    },
  }
}
