import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, test } from 'node:test'
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

/** What the data directory says of a task and of the processes working on it (read at each call). */
function inspect(dataDir: string) {
  const read = <T>(sql: string, ...args: string[]): T => {
    const db = new DatabaseSync(join(dataDir, 'mcp-tasks.sqlite'), { readOnly: true })
    try {
      return db.prepare(sql).all(...args) as T
    } finally {
      db.close()
    }
  }
  return {
    task: (taskId: string) =>
      read<{ status: string; stage: string; runs: number; worker_id: string | null }[]>(
        'SELECT status, stage, runs, worker_id FROM tasks WHERE task_id = ?',
        taskId,
      ).map((row) => ({ ...row }))[0],
    outboxOwner: (taskId: string) =>
      read<{ worker_id: string }[]>('SELECT worker_id FROM outbox WHERE task_id = ?', taskId)[0]?.worker_id,
    workers: () =>
      read<{ worker_id: string; pid: number }[]>('SELECT worker_id, pid FROM workers').map((row) => ({
        workerId: row.worker_id,
        pid: row.pid,
      })),
  }
}

describe('processes side by side on one data directory (SQLite)', () => {
  let env: LocalAgentCoreFixture
  let dir: { path: string; remove(): Promise<void> }
  const children: ServiceProcess[] = []
  let baseEnv: Record<string, string>
  const start = async (extra: Record<string, string> = {}) => {
    const child = await startServiceProcess(MAIN, { ...baseEnv, ...extra })
    children.push(child)
    return child
  }

  before(async () => {
    env = await startLocalAgentCore()
    dir = await tempDir()
    baseEnv = mcpProcessEnv(env.service.url, dir.path, {
      MCP_DELIVERY_BASE_DELAY_MS: '20',
      MCP_DELIVERY_MAX_DELAY_MS: '200',
      MCP_HEARTBEAT_INTERVAL_MS: '100',
      MCP_TASK_LEASE_MS: '3000',
      MCP_TRAINING_EPOCH_DELAY_MS: '100',
    })
  })
  after(async () => {
    for (const child of children) await stopServiceProcess(child, 'SIGKILL')
    await env.close()
    await dir.remove()
  })

  test('a second process works beside the first: it leaves its tasks alone, forwards a cancel to it, and takes over once it is killed', async () => {
    const memoryId = await env.createMemory()
    const memory = { sessionId: 'session-beside', memoryId, actorId: 'user-beside' }
    const first = await start()
    const a = await connectClient(first.url, { memory })
    const startTraining = async (client: typeof a, name: string, epochs: number) =>
      structured(
        await client.callTool({ name: 'start_model_training', arguments: { model_name: name, epochs } }),
      ).task_id as string
    // Long enough to outlast a second process's start on a busy machine.
    const finishes = await startTraining(a, 'beside-finish', 40)
    const cancelled = await startTraining(a, 'beside-cancel', 400)
    const survives = await startTraining(a, 'beside-survive', 120)

    // The second process starts on the same directory while all three run in the first.
    const second = await start()
    const b = await connectClient(second.url, { memory })
    const statusOn = async (client: typeof a, taskId: string) =>
      structured(await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
    // Every caller of either process sees the same tasks, with the progress the first one writes.
    await waitFor(async () => {
      const status = await statusOn(b, finishes)
      return typeof status.progress === 'number' && status.progress > 0 ? status : undefined
    })
    const firstWorker = inspect(dir.path).task(finishes)?.worker_id
    assert.ok(firstWorker?.includes(`:${first.process.pid}:`), 'the first process holds its task')

    // A cancel sent to the second process stops the run in the first within a poll interval.
    const view = structured(await b.callTool({ name: 'cancel_task', arguments: { task_id: cancelled } }))
    assert.equal(view.status, 'cancelled')
    await waitFor(
      () => (inspect(dir.path).task(cancelled)?.stage === 'done' ? true : undefined),
      5000,
      'the run to stop',
    )

    const done = await waitFor(async () => {
      const status = await statusOn(a, finishes)
      return status.status === 'completed' ? status : undefined
    })
    assert.equal(done.runs, 1, 'run once, by the first process: the second never re-ran it')
    assert.equal(inspect(dir.path).task(finishes)?.worker_id, firstWorker)

    // Killed mid-task: the second process sees the first is gone and runs its task again.
    await a.close()
    await stopServiceProcess(first, 'SIGKILL')
    const rerun = await waitFor(
      async () => {
        const status = await statusOn(b, survives)
        return status.status === 'completed' ? status : undefined
      },
      30_000,
      'the second process to re-run the task the first left',
    )
    assert.equal(rerun.runs, 2)
    assert.ok(inspect(dir.path).task(survives)?.worker_id?.includes(`:${second.process.pid}:`))
    await b.close()

    const events = await waitFor(async () => {
      const all = await listAllEvents(env.data, memoryId, memory.actorId, memory.sessionId)
      return all.length >= 3 ? all : undefined
    })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const final = await listAllEvents(env.data, memoryId, memory.actorId, memory.sessionId)
    assert.equal(
      final.length,
      3,
      `exactly one event per task: ${events.map((event) => event.text).join(' | ')}`,
    )
    for (const [taskId, outcome] of [
      [finishes, 'completed'],
      [cancelled, 'cancelled'],
      [survives, 'completed'],
    ] as const) {
      assert.equal(
        final.filter((event) => event.text.includes(`task ${taskId} (tool model_training) ${outcome}`))
          .length,
        1,
      )
    }
  })

  test('a process that cannot listen (the port is taken) re-runs nothing and claims no delivery', async () => {
    const memoryId = await env.createMemory()
    const memory = { sessionId: 'session-port', memoryId, actorId: 'user-port' }
    // The result cannot be written yet: the row stays owed by the live process.
    env.service.faults.set({ CreateEvent: { errorNext: 1_000_000 } })
    try {
      const live = await start()
      const client = await connectClient(live.url, { memory })
      const running = structured(
        await client.callTool({
          name: 'start_model_training',
          arguments: { model_name: 'port-live', epochs: 300 },
        }),
      ).task_id as string
      const owed = structured(
        await client.callTool({ name: 'start_text_statistics', arguments: { text: 'owed result' } }),
      ).task_id as string
      await waitFor(() => (inspect(dir.path).outboxOwner(owed) !== undefined ? true : undefined))
      const before = inspect(dir.path)
      const liveWorker = before.task(running)?.worker_id
      const workersBefore = before.workers()
      const port = new URL(live.url).port
      await assert.rejects(start({ MCP_PORT: port }), /EADDRINUSE/)
      const afterFailed = inspect(dir.path)
      assert.deepEqual(afterFailed.workers(), workersBefore, 'the failed process never registered')
      assert.deepEqual(afterFailed.task(running), { ...before.task(running), stage: 'running', runs: 1 })
      assert.equal(afterFailed.task(running)?.worker_id, liveWorker)
      assert.equal(afterFailed.outboxOwner(owed), liveWorker, 'the delivery stays with the live process')
      await client.callTool({ name: 'cancel_task', arguments: { task_id: running } })
      await client.close()
    } finally {
      env.service.faults.set({})
    }
  })
})
