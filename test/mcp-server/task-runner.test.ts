import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import { z } from 'zod'
import {
  defineLongRunningTool,
  INTERRUPTED_MESSAGE,
  type LongRunningTool,
  type NewTaskRecord,
  SqliteTaskBackend,
  SqliteTaskStore,
  type TaskProgress,
  type TaskRecord,
  TaskRunner,
  TOOL_GONE_MESSAGE,
} from '../../src/mcp-server/index.ts'
import { MemoryEventWriter } from '../../src/mcp-server/memory-event-writer.ts'
import { HealthStatus } from '../../src/shared/health-status.ts'
import { tempDir, waitFor, waitIdle } from '../helpers/mcp-server.ts'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'

const rerunTool = defineLongRunningTool({
  name: 'sum_to',
  description: 'Sums 1..n.',
  input: z.object({ n: z.number().int() }),
  onRestart: 'rerun',
  run: async ({ n }, ctx) => {
    let total = 0
    for (let i = 1; i <= n; i += 1) total += i
    ctx.progress(n, n)
    return { total, attempt: ctx.runNumber }
  },
})
const failTool = defineLongRunningTool({
  ...rerunTool,
  name: 'sum_once',
  onRestart: 'fail',
  run: rerunTool.run,
})

const interrupted = (taskId: string, tool: string, mode: NewTaskRecord['mode']): NewTaskRecord => ({
  taskId,
  owner: 'actor',
  tool,
  input: { n: 10 },
  mode,
  caller: { sessionId: 's', memoryId: 'mem-AbCdEf1234', actorId: 'actor' },
  createdAt: 1,
  ttlMs: 60_000,
  pollIntervalMs: 100,
})

/** A runner on a SQLite backend in memory (or in `dataDir`), started. */
async function startRunner(
  tools: readonly LongRunningTool[],
  options: {
    dataDir?: string
    heartbeatIntervalMs?: number
    clock?: () => number
    backend?: SqliteTaskBackend
  } = {},
) {
  const backend = options.backend ?? new SqliteTaskBackend({ dataDir: options.dataDir ?? ':memory:', tools })
  const runner = new TaskRunner({
    backend,
    tools,
    ...(options.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    ...(options.clock !== undefined && { clock: options.clock }),
  })
  return { backend, runner, recovered: await runner.begin() }
}

/** A writer that is never asked to write here (the outbox rows are only counted). */
const idleWriter = () =>
  new MemoryEventWriter({
    client: new BedrockAgentCoreClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
    baseDelayMs: 3_600_000,
  })

describe('task runner recovery', () => {
  test('re-runs rerun tools, fails the others, and queues one memory event for each end', async () => {
    const dir = await tempDir()
    try {
      // What a crash leaves behind: tasks running for a process that is gone.
      const seed = new SqliteTaskStore({ dataDir: dir.path })
      for (const [taskId, tool, mode] of [
        ['rerun-me', 'sum_to', 'async'],
        ['fail-me', 'sum_once', 'spec'],
        ['inline-call', 'sum_to', 'inline'],
        ['gone-tool', 'removed_tool', 'async'],
        ['crash-loop', 'sum_to', 'async'],
      ] as const) {
        await seed.create(interrupted(taskId, tool, mode), { stage: 'running', holder: 'gone' })
      }
      await seed.close()
      const db = new DatabaseSync(`${dir.path}/mcp-tasks.sqlite`)
      db.exec("UPDATE tasks SET runs = 3 WHERE task_id = 'crash-loop'")
      db.close()
      const backend = new SqliteTaskBackend({
        dataDir: dir.path,
        tools: [rerunTool, failTool],
        maxAttempts: 3,
        writer: idleWriter(),
      })
      const { runner, recovered } = await startRunner([rerunTool, failTool], { backend })
      assert.deepEqual(recovered, { rerun: 1, failed: 4 })
      const rerun = await waitForEnd(backend, 'rerun-me')
      assert.equal(rerun.status, 'completed')
      assert.deepEqual(rerun.result?.structuredContent, { total: 55, attempt: 2 })
      for (const taskId of ['fail-me', 'inline-call', 'crash-loop']) {
        const task = await backend.get(taskId)
        assert.equal(task?.status, 'failed', taskId)
        assert.equal(task?.statusMessage, INTERRUPTED_MESSAGE, taskId)
      }
      assert.equal((await backend.get('gone-tool'))?.statusMessage, TOOL_GONE_MESSAGE)
      // What the data directory says, read as another process would.
      const inspect = new SqliteTaskStore({ dataDir: dir.path })
      try {
        assert.deepEqual(
          (await inspect.owedJobs(['memory'])).map((job) => job.taskId).sort(),
          ['crash-loop', 'fail-me', 'gone-tool', 'rerun-me'],
          'inline calls answer in the response, not in memory',
        )
        assert.deepEqual(await inspect.orphans(), [])
      } finally {
        await inspect.close()
      }
      await runner.close()
    } finally {
      await dir.remove()
    }
  })

  test('HealthyBusy only while a task runs, with the time moving only on a change', async () => {
    let now = 1_000_000
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const held = defineLongRunningTool({
      name: 'held',
      description: 'Waits for the test.',
      input: z.object({}),
      run: async () => {
        await gate
        return 'done'
      },
    })
    const { backend, runner } = await startRunner([held], { clock: () => now })
    assert.deepEqual(runner.health.report(), { status: 'Healthy', time_of_last_update: 1000 })
    now = 2_000_000
    const task = await runner.start({ tool: held, input: {}, owner: 'a', caller: null, mode: 'async' })
    assert.deepEqual(runner.health.report(), { status: 'HealthyBusy', time_of_last_update: 2000 })
    now = 3_000_000
    assert.deepEqual(runner.health.report(), { status: 'HealthyBusy', time_of_last_update: 2000 })
    release()
    await waitForEnd(backend, task.taskId)
    // The runner is idle once its bookkeeping after the end ran (the store shows the end before that).
    await waitIdle(runner)
    assert.deepEqual(runner.health.report(), { status: 'Healthy', time_of_last_update: 3000 })
    await runner.close()
  })

  test('status changes within one second still move time_of_last_update, and owed deliveries count as busy', () => {
    let now = 5_000_200
    const health = new HealthStatus(() => now)
    const first = health.report().time_of_last_update
    health.setBusy(true)
    const busy = health.report()
    assert.equal(busy.status, 'HealthyBusy')
    assert.ok(busy.time_of_last_update > first, 'a change in the same second still moves the time')
    now += 10
    health.setBusy(false)
    assert.ok(health.report().time_of_last_update > busy.time_of_last_update)
    health.setDeliveryOwed(true)
    assert.equal(health.report().status, 'HealthyBusy')
    health.setBusy(true)
    const stamp = health.report().time_of_last_update
    health.setBusy(false)
    assert.deepEqual(health.report(), { status: 'HealthyBusy', time_of_last_update: stamp }, 'still owed')
    health.setDeliveryOwed(false)
    assert.equal(health.report().status, 'Healthy')
  })
})

/** The task once the store shows it ended. */
function waitForEnd(backend: SqliteTaskBackend, taskId: string): Promise<TaskRecord> {
  return waitFor(
    async () => {
      const task = await backend.get(taskId)
      return task !== undefined && task.status !== 'working' ? task : undefined
    },
    10_000,
    `the end of task ${taskId}`,
  )
}

/** A tool that waits for the test to open its gate; it reports `reports` progress steps first. */
function gatedTool(reports: number) {
  let open: (outcome: 'return' | 'throw') => void = () => {}
  const opened = new Promise<'return' | 'throw'>((resolve) => {
    open = resolve
  })
  let started: () => void = () => {}
  const running = new Promise<void>((resolve) => {
    started = resolve
  })
  const tool = defineLongRunningTool({
    name: 'gated',
    description: 'Reports progress, then waits for the test (ignoring its signal).',
    input: z.object({}),
    run: async (_input, ctx) => {
      for (let i = 1; i <= reports; i += 1) ctx.progress(i, reports, `step ${i}`)
      started()
      if ((await opened) === 'throw') throw new Error('the tool failed')
      return 'done'
    },
  })
  return { tool, open, running }
}

/** Starts `gated`'s tool on `runner` as owner 'a' with no caller. */
function startGated(
  runner: TaskRunner,
  gated: ReturnType<typeof gatedTool>,
  mode: NewTaskRecord['mode'],
  watch?: Parameters<TaskRunner['start']>[0]['watch'],
) {
  return runner.start({
    tool: gated.tool,
    input: {},
    owner: 'a',
    caller: null,
    mode,
    ...(watch && { watch }),
  })
}

/** Counts the progress writes that reach the store. */
class CountingBackend extends SqliteTaskBackend {
  updates = 0
  override async saveProgress(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<void> {
    this.updates += 1
    return super.saveProgress(updates)
  }
}

describe('task runner events and progress', () => {
  for (const outcome of ['return', 'throw', 'cancel'] as const) {
    test(`a watcher attached at the start hears exactly one end when the task ends by ${outcome}`, async () => {
      const gated = gatedTool(1)
      const { backend, runner } = await startRunner([gated.tool])
      const ends: string[] = []
      try {
        const task = await startGated(runner, gated, 'inline', (event) => {
          if (event.type === 'end') ends.push(event.task.status)
        })
        await gated.running
        if (outcome === 'cancel') await runner.cancel(task.taskId, 'a')
        // After a cancel the tool still returns (it ignores its signal): that must not end it twice.
        gated.open(outcome === 'throw' ? 'throw' : 'return')
        await waitIdle(runner)
        const expected = { return: 'completed', throw: 'failed', cancel: 'cancelled' }[outcome]
        assert.deepEqual(ends, [expected])
        assert.equal((await backend.get(task.taskId))?.status, expected)
      } finally {
        await runner.close()
      }
    })
  }

  test('progress stays in memory while the task runs, is readable at once, and is written on the heartbeat and at the end', async () => {
    const gated = gatedTool(10_000)
    const store = new CountingBackend({ dataDir: ':memory:', tools: [gated.tool] })
    // A heartbeat far away: nothing but the end writes progress in the first half of the test.
    const { runner } = await startRunner([gated.tool], { backend: store, heartbeatIntervalMs: 3_600_000 })
    try {
      const task = await startGated(runner, gated, 'async')
      await gated.running
      assert.equal(store.updates, 0, '10,000 progress calls made no write')
      const stored = await store.get(task.taskId)
      assert.equal(stored?.progress, undefined, 'not yet written')
      const current = runner.current(stored as TaskRecord)
      assert.equal(current.progress, 10_000)
      assert.equal(current.total, 10_000)
      assert.equal(current.statusMessage, 'step 10000')
      gated.open('return')
      await waitIdle(runner)
      const ended = await store.get(task.taskId)
      assert.equal(ended?.status, 'completed')
      assert.equal(ended?.progress, 10_000, 'the last progress was written before the end')
      assert.equal(ended?.total, 10_000)
      assert.equal(store.updates, 1)
    } finally {
      await runner.close()
    }
  })

  test('the heartbeat tick writes the latest progress of a running task', async () => {
    const gated = gatedTool(500)
    const store = new CountingBackend({ dataDir: ':memory:', tools: [gated.tool] })
    const { runner } = await startRunner([gated.tool], { backend: store, heartbeatIntervalMs: 20 })
    try {
      const task = await startGated(runner, gated, 'async')
      await gated.running
      const written = await waitFor(
        async () => {
          const now = await store.get(task.taskId)
          return now?.progress === 500 ? now : undefined
        },
        15_000,
        'the heartbeat to write progress',
      )
      assert.equal(written.status, 'working')
      assert.equal(written.statusMessage, 'step 500')
      assert.equal(store.updates, 1, 'one write for 500 progress calls')
      gated.open('return')
      await waitIdle(runner)
      assert.equal(store.updates, 1, 'nothing new to write at the end')
    } finally {
      await runner.close()
    }
  })
})
