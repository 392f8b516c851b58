import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import { defineLongRunningTool, SqliteTaskStore, textStatisticsTool } from '../../src/mcp-server/index.ts'
import { AfterEndJobs } from '../../src/mcp-server/after-end-jobs.ts'
import { LocalOutboxQueue } from '../../src/mcp-server/local-outbox-queue.ts'
import { encodedLength } from '../../src/mcp-server/memory-event.ts'
import { MemoryEventWriter } from '../../src/mcp-server/memory-event-writer.ts'
import { memoryDelivery } from '../../src/mcp-server/result-delivery.ts'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'
import {
  connectClient,
  listAllEvents,
  startTask,
  startTestServer,
  structured,
  tempDir,
  waitFor,
  useMcpTestBed,
} from '../helpers/mcp-server.ts'

/** A tool whose result, pretty-printed, is full of quotes and newlines: it grows when JSON-escaped. */
const bigResultTool = defineLongRunningTool({
  name: 'big_result',
  description: 'Returns many small records.',
  input: z.object({ records: z.number().int().min(1).max(100_000) }),
  mode: 'async',
  run: async ({ records }) => ({
    records: Array.from({ length: records }, (_, index) => ({
      id: index,
      name: `record "${index}"`,
      ok: true,
    })),
  }),
})

describe('memory delivery of task results', () => {
  const bed = useMcpTestBed(() => ({ tools: [bigResultTool, textStatisticsTool()] }))

  test('a result too large for one event lands exactly once, truncated with a marker, and stays whole in get_task_results', async () => {
    const memory = { sessionId: 'session-big', memoryId: bed.memoryId, actorId: 'user-big' }
    const client = await bed.connect({ memory })
    const taskId = await startTask(client, 'big_result', { records: 2500 })
    const status = await waitFor(async () => {
      const view = structured(
        await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
      )
      const delivery = view.delivery as { state: string }
      return delivery.state === 'pending' ? undefined : view
    })
    assert.deepEqual(status.delivery, { state: 'delivered', reason: null, attempts: 1 })
    assert.equal(status.delivers_to_memory, true)
    const events = await listAllEvents(bed.env.data, bed.memoryId, memory.actorId, memory.sessionId)
    assert.equal(events.length, 1, 'exactly one event')
    // Once no task runs and no delivery is owed (the delivery pass that wrote it has ended too),
    // the count is final: nothing wrote the result a second time.
    await waitFor(
      () => bed.server.health.report().status === 'Healthy',
      10_000,
      'the runner and the delivery to go idle',
    )
    assert.equal(
      (await listAllEvents(bed.env.data, bed.memoryId, memory.actorId, memory.sessionId)).length,
      1,
      'still exactly one event once idle',
    )
    const stored = events[0]?.text ?? ''
    assert.ok(stored.length <= 100_000, `the stored text fits the service limit (${stored.length})`)
    const text = JSON.parse(stored).message.content[0].text as string
    assert.match(text, new RegExp(`^Long-running task ${taskId} \\(tool big_result\\) completed`))
    assert.match(
      text,
      new RegExp(
        `\\[result truncated: \\d+ of \\d+ characters shown; .*get_task_results with task_id ${taskId}\\]$`,
      ),
    )
    assert.equal(encodedLength(text), stored.length)
    const full = await client.callTool({ name: 'get_task_results', arguments: { task_id: taskId } })
    const result = structured(full).result as { records: unknown[] }
    assert.equal(result.records.length, 2500, 'get_task_results keeps the full result')
  })

  test('a memory that does not exist fails delivery permanently, and the status tools say why', async () => {
    const memory = { sessionId: 'session-nomem', memoryId: 'nomemory-AbCdEf1234', actorId: 'user-nomem' }
    const client = await bed.connect({ memory })
    const taskId = await startTask(client, 'start_text_statistics', { text: 'a b c' })
    const view = await waitFor(
      async () => {
        const now = structured(
          await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
        )
        return (now.delivery as { state: string }).state === 'failed' ? now : undefined
      },
      10_000,
      'a failed delivery',
    )
    const delivery = view.delivery as { state: string; reason: string; attempts: number }
    assert.match(delivery.reason, /ResourceNotFoundException/)
    assert.equal(delivery.attempts, 1, 'not retried')
    assert.equal(view.delivers_to_memory, false)
    const results = structured(
      await client.callTool({ name: 'get_task_results', arguments: { task_id: taskId } }),
    )
    assert.equal((results.delivery as { state: string }).state, 'failed')
  })

  test('an event the service still refuses as invalid is replaced by a short summary, written once', async () => {
    const store = new SqliteTaskStore({ dataDir: ':memory:' })
    const writer = new MemoryEventWriter({ client: bed.env.data, baseDelayMs: 10, maxDelayMs: 50 })
    const jobs = new AfterEndJobs({ store, kinds: [memoryDelivery(writer)] })
    const delivery = new LocalOutboxQueue({ schedule: store.schedule('w') })
    try {
      const memory = { sessionId: 'session-fallback', memoryId: bed.memoryId, actorId: 'user-fallback' }
      await store.create(
        {
          taskId: 'fallback-task',
          owner: memory.actorId,
          tool: 'big_result',
          input: {},
          mode: 'async',
          caller: memory,
          createdAt: 1000,
          ttlMs: 60_000,
          pollIntervalMs: 100,
        },
        { stage: 'running', holder: 'w' },
      )
      // A row whose text was sized by no one (an older bed.server, say): far over the service's limit.
      const text = `Long-running task fallback-task (tool big_result) completed.\nResult:\n${'x'.repeat(150_000)}`
      await store.end(
        'fallback-task',
        { status: 'completed', result: { content: [{ type: 'text', text: 'ok' }] }, endedAt: 2000 },
        { how: 'complete', workerId: 'w' },
        [
          {
            taskId: 'fallback-task',
            kind: 'memory',
            payload: { taskId: 'fallback-task', ...memory, eventTimestampMs: 2000, text },
          },
        ],
      )
      await delivery.start({ attempt: jobs.attempt, owed: () => jobs.owed() })
      const state = await waitFor(async () => {
        const now = (await store.get('fallback-task'))?.delivery
        return now?.state === 'pending' ? undefined : now
      })
      assert.equal(state?.state, 'delivered')
      assert.equal(state?.attempts, 2, 'the refused full text, then the summary')
      assert.equal(state?.lastError, undefined, 'cleared once delivered')
      const events = await listAllEvents(bed.env.data, bed.memoryId, memory.actorId, memory.sessionId)
      assert.equal(events.length, 1)
      const written = JSON.parse(events[0]?.text ?? '{}').message.content[0].text as string
      assert.match(written, /^Long-running task fallback-task \(tool big_result\) completed\.\n/)
      assert.match(written, /get_task_results with task_id fallback-task/)
    } finally {
      await delivery.close()
      await store.close()
    }
  })

  test('GET /ping stays HealthyBusy while a result is still owed to memory, and turns Healthy once it lands', async () => {
    const ping = async () =>
      ((await (await fetch(new URL('/ping', bed.server.url))).json()) as { status: string }).status
    const memory = { sessionId: 'session-owed', memoryId: bed.memoryId, actorId: 'user-owed' }
    const client = await bed.connect({ memory })
    bed.env.service.faults.set({ CreateEvent: { errorNext: 1_000_000 } })
    try {
      const taskId = await startTask(client, 'start_text_statistics', { text: 'a b' })
      await waitFor(async () => {
        const view = structured(
          await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
        )
        const delivery = view.delivery as { attempts: number }
        return view.status === 'completed' && delivery.attempts > 0 ? true : undefined
      })
      assert.equal(await ping(), 'HealthyBusy', 'the task ended but its event is still owed')
    } finally {
      bed.env.service.faults.set({})
    }
    await waitFor(async () => ((await ping()) === 'Healthy' ? true : undefined), 10_000, 'Healthy')
    const events = await listAllEvents(bed.env.data, bed.memoryId, memory.actorId, memory.sessionId)
    assert.equal(events.length, 1)
  })
})

describe('delivery problems are said loudly, once, and shown in the task status', () => {
  /** A logger that keeps its lines. */
  const recording = () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = []
    return {
      lines,
      logger: {
        log: (level: string, message: string, fields: Record<string, unknown> = {}) =>
          lines.push({ level, message, fields }),
      },
    }
  }

  test('without usable AWS credentials: said at start and once more, never per retry; the status says why it is owed', async () => {
    const env = await startLocalAgentCore()
    const dir = await tempDir()
    const { lines, logger } = recording()
    const noCredentials = new BedrockAgentCoreClient({
      region: 'us-east-1',
      endpoint: env.service.url,
      credentials: async () => {
        const error = new Error('Could not load credentials from any providers')
        error.name = 'CredentialsProviderError'
        throw error
      },
    })
    const server = await startTestServer(dir.path, {
      memoryClient: noCredentials,
      logger,
      deliveryMaxDelayMs: 50,
    })
    try {
      const memoryId = await env.createMemory()
      const client = await connectClient(server.url, {
        memory: { sessionId: 's-creds', memoryId, actorId: 'u-creds' },
      })
      const taskId = await startTask(client, 'start_text_statistics', { text: 'a b' })
      const view = await waitFor(async () => {
        const status = structured(
          await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
        )
        const delivery = status.delivery as { state: string; attempts: number; reason: string | null }
        return delivery.attempts >= 3 ? delivery : undefined
      })
      assert.equal(view.state, 'pending', 'retried: credentials may still come')
      assert.match(view.reason ?? '', /CredentialsProviderError/)
      const loud = lines.filter((line) => line.level === 'error' && /AWS credentials/.test(line.message))
      assert.equal(loud.length, 1, 'one error line, however many retries')
      assert.ok(lines.some((line) => line.message === 'task started' && line.fields.taskId === taskId))
      assert.ok(lines.some((line) => line.message === 'task ended' && line.fields.taskId === taskId))
      await client.close()
    } finally {
      await server.close()
      noCredentials.destroy()
      await env.close()
      await dir.remove()
    }
  })

  test('a memory that does not exist: the delivery fails at once with the reason, said once for all its tasks', async () => {
    const env = await startLocalAgentCore()
    const dir = await tempDir()
    const { lines, logger } = recording()
    const server = await startTestServer(dir.path, { memoryClient: env.data, logger })
    try {
      const memory = { sessionId: 's-missing', memoryId: 'missing-Zz9Yy8Xx7W', actorId: 'u-missing' }
      const client = await connectClient(server.url, { memory })
      const ids = [
        await startTask(client, 'start_text_statistics', { text: 'one' }),
        await startTask(client, 'start_text_statistics', { text: 'two' }),
      ]
      for (const taskId of ids) {
        const delivery = await waitFor(async () => {
          const status = structured(
            await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }),
          )
          const owed = status.delivery as { state: string; reason: string | null }
          return owed.state === 'failed' ? owed : undefined
        })
        assert.match(delivery.reason ?? '', /ResourceNotFoundException/)
      }
      const loud = lines.filter(
        (line) => line.level === 'error' && line.fields.memoryId === 'missing-Zz9Yy8Xx7W',
      )
      assert.equal(loud.length, 1)
      await client.close()
    } finally {
      await server.close()
      await env.close()
      await dir.remove()
    }
  })
})
