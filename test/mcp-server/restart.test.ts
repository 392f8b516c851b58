import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SqliteTaskStore } from '../../src/mcp-server/index.ts'
import { type ServiceProcess, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import {
  connectClient,
  listAllEvents,
  structured,
  mcpProcessEnv,
  tempDir,
  waitFor,
} from '../helpers/mcp-server.ts'

const MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname

type Child = ServiceProcess
const startChild = (env: Record<string, string>) => startServiceProcess(MAIN, env)
const kill = async (child: Child, signal: NodeJS.Signals) => {
  await stopServiceProcess(child, signal)
}

describe('server process killed with SIGKILL mid-task', () => {
  let env: LocalAgentCoreFixture
  let dir: { path: string; remove(): Promise<void> }
  const children: Child[] = []

  before(async () => {
    env = await startLocalAgentCore()
    dir = await tempDir()
  })
  after(async () => {
    for (const child of children) await kill(child, 'SIGKILL')
    await env.close()
    await dir.remove()
  })

  test('re-runs or fails interrupted tasks, never stuck, and writes each memory event exactly once despite throttling', async () => {
    const memoryId = await env.createMemory()
    const memory = { sessionId: 'session-restart', memoryId, actorId: 'user-restart' }
    const baseEnv = mcpProcessEnv(env.service.url, dir.path, {
      MCP_DELIVERY_BASE_DELAY_MS: '20',
      MCP_DELIVERY_MAX_DELAY_MS: '200',
    })
    // First life: training paced at 100 ms an epoch, so both tasks are mid-way when the process dies.
    const first = await startChild({ ...baseEnv, MCP_TRAINING_EPOCH_DELAY_MS: '100' })
    children.push(first)
    const client = await connectClient(first.url, { memory })
    const training = structured(
      await client.callTool({ name: 'start_model_training', arguments: { model_name: 'crash', epochs: 40 } }),
    ).task_id as string
    const statistics = structured(
      await client.callTool({
        name: 'start_text_statistics',
        arguments: { documents: 100_000, chunk_size: 1 },
      }),
    ).task_id as string
    await waitFor(
      async () => {
        const a = structured(
          await client.callTool({ name: 'check_task_status', arguments: { task_id: training } }),
        )
        const b = structured(
          await client.callTool({ name: 'check_task_status', arguments: { task_id: statistics } }),
        )
        return a.progress !== null && b.progress !== null ? true : undefined
      },
      15_000,
      'both tasks to report progress',
    )
    await client.close()
    await kill(first, 'SIGKILL')

    // The memory service throttles and loses a response while the second life delivers.
    env.service.faults.set({ CreateEvent: { throttleNext: 4, loseResponseNext: 1 } })
    const second = await startChild({ ...baseEnv, MCP_TRAINING_EPOCH_DELAY_MS: '0' })
    children.push(second)
    const again = await connectClient(second.url, { memory })
    const statusOf = async (taskId: string) =>
      structured(await again.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
    const rerun = await waitFor(
      async () => {
        const status = await statusOf(training)
        return status.status === 'completed' ? status : undefined
      },
      20_000,
      'the re-run to complete',
    )
    assert.equal(rerun.runs, 2, 'the training task was re-run once')
    const failed = await statusOf(statistics)
    assert.equal(failed.status, 'failed')
    assert.equal(failed.status_message, 'interrupted by a server restart')
    const result = structured(
      await again.callTool({ name: 'get_task_results', arguments: { task_id: training } }),
    )
    assert.equal((result.result as { epochs: number }).epochs, 40)

    const outbox = new SqliteTaskStore({ dataDir: dir.path })
    try {
      await waitFor(
        async () =>
          (await outbox.get(training))?.delivery?.state === 'delivered' &&
          (await outbox.get(statistics))?.delivery?.state === 'delivered'
            ? true
            : undefined,
        20_000,
        'both memory events to be acknowledged',
      )
    } finally {
      await outbox.close()
    }
    await again.close()
    const stats = env.service.faults.counts().CreateEvent
    assert.ok((stats?.throttled ?? 0) >= 1, 'throttling was injected')
    assert.equal(stats?.responsesLost, 1, 'a response was lost after the write committed')

    // A third life finds nothing owed and writes nothing more.
    await kill(second, 'SIGTERM')
    env.service.faults.set({})
    const third = await startChild(baseEnv)
    children.push(third)
    const third_client = await connectClient(third.url, { memory })
    assert.equal(
      structured(await third_client.callTool({ name: 'check_task_status', arguments: { task_id: training } }))
        .status,
      'completed',
    )
    await third_client.close()

    const events = await listAllEvents(env.data, memoryId, memory.actorId, memory.sessionId)
    const texts = events.map((event) => JSON.parse(event.text).message.content[0].text as string)
    assert.equal(events.length, 2, 'exactly one event per task')
    assert.equal(
      texts.filter((text) => text.includes(`task ${training} (tool model_training) completed`)).length,
      1,
    )
    assert.equal(
      texts.filter(
        (text) =>
          text.includes(`task ${statistics} (tool text_statistics) failed`) &&
          text.includes('interrupted by a server restart'),
      ).length,
      1,
    )
  })

  test('a crash after memory stored the event but before the server recorded it still leaves exactly one event', async () => {
    const memoryId = await env.createMemory()
    const memory = { sessionId: 'session-ack-crash', memoryId, actorId: 'user-ack-crash' }
    const crashDir = await tempDir()
    const baseEnv = mcpProcessEnv(env.service.url, crashDir.path, { MCP_DELIVERY_MAX_DELAY_MS: '60000' })
    try {
      // First life: the service commits the event, the answer is lost, and the server then waits a
      // long backoff before retrying - it is killed in that window, with the outbox row still pending.
      env.service.faults.resetCounts()
      env.service.faults.set({ CreateEvent: { loseResponseNext: 1 } })
      const first = await startChild({ ...baseEnv, MCP_DELIVERY_BASE_DELAY_MS: '60000' })
      children.push(first)
      const client = await connectClient(first.url, { memory })
      const taskId = structured(
        await client.callTool({
          name: 'start_text_statistics',
          arguments: { text: 'alpha beta beta gamma' },
        }),
      ).task_id as string
      await waitFor(
        async () => ((env.service.faults.counts().CreateEvent?.responsesLost ?? 0) >= 1 ? true : undefined),
        15_000,
        'the first delivery to be stored with its answer lost',
      )
      await client.close()
      await kill(first, 'SIGKILL')
      const stored = await listAllEvents(env.data, memoryId, memory.actorId, memory.sessionId)
      assert.equal(stored.length, 1, 'the service stored the event before the crash')
      const outbox = new SqliteTaskStore({ dataDir: crashDir.path })
      assert.equal(
        (await outbox.get(taskId))?.delivery?.state,
        'pending',
        'the server never learnt it was delivered',
      )
      await outbox.close()

      // Second life: the pending row is delivered again with the same idempotency token.
      const second = await startChild({ ...baseEnv, MCP_DELIVERY_BASE_DELAY_MS: '20' })
      children.push(second)
      const reopened = new SqliteTaskStore({ dataDir: crashDir.path })
      try {
        await waitFor(
          async () => ((await reopened.get(taskId))?.delivery?.state === 'delivered' ? true : undefined),
          20_000,
          'the redelivery to be acknowledged',
        )
      } finally {
        await reopened.close()
      }
      await kill(second, 'SIGTERM')
      const events = await listAllEvents(env.data, memoryId, memory.actorId, memory.sessionId)
      assert.equal(events.length, 1, 'exactly one event for the task')
      assert.ok(events[0]?.text.includes(taskId))
    } finally {
      env.service.faults.set({})
      await crashDir.remove()
    }
  })
})
