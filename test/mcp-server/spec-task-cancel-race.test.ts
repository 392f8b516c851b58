import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { CallToolResultSchema, CreateTaskResultSchema, ErrorCode } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import {
  defineLongRunningTool,
  type LongRunningMcpServer,
  SqliteTaskBackend,
  type TaskEnd,
  type TaskRecord,
} from '../../src/mcp-server/index.ts'
import { connectClient, startTestServer, tempDir } from '../helpers/mcp-server.ts'

/**
 * A backend that makes tasks/cancel lose its race with the task's end, every time: the first read
 * of the armed task answers "working" only after the task has ended, so the terminal-status check
 * passes and our cancel finds the task already completed.
 */
class RacingBackend extends SqliteTaskBackend {
  readonly #finished = new Map<string, () => void>()
  #armed: { taskId: string; finishTask: () => void } | undefined

  /** The next read of `taskId` lets the task finish (`finishTask`) and waits for its end first. */
  arm(taskId: string, finishTask: () => void): void {
    this.#armed = { taskId, finishTask }
  }

  override async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    const task = await super.get(taskId, owner)
    const armed = this.#armed
    if (armed === undefined || armed.taskId !== taskId) return task
    this.#armed = undefined
    const ended = new Promise<void>((resolve) => this.#finished.set(taskId, resolve))
    armed.finishTask()
    await ended
    return task
  }

  override async complete(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined> {
    const ended = await super.complete(task, end)
    this.#finished.get(task.taskId)?.()
    return ended
  }
}

describe('spec-native tasks/cancel racing the task end', () => {
  let dir: { path: string; remove(): Promise<void> }
  let store: RacingBackend
  let server: LongRunningMcpServer
  let client: Client
  const gates = new Map<string, () => void>()

  before(async () => {
    dir = await tempDir()
    const gatedJob = defineLongRunningTool({
      name: 'gated_job',
      description: 'Finishes when the test opens its gate.',
      input: z.object({}),
      run: (_input, ctx) =>
        new Promise<string>((resolve, reject) => {
          gates.set(ctx.taskId, () => resolve('gated job done'))
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })
        }),
    })
    store = new RacingBackend({ dataDir: dir.path, tools: [gatedJob] })
    server = await startTestServer(dir.path, { backend: store, tools: [gatedJob] })
    client = await connectClient(server.url)
  })
  after(async () => {
    await client.close()
    await server.close()
    await dir.remove()
  })

  test('a cancel that loses the race with completion is invalid params (-32602), and the result is kept', async () => {
    const created = await client.request(
      { method: 'tools/call', params: { name: 'gated_job', arguments: {}, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    )
    const taskId = created.task.taskId
    assert.equal(created.task.status, 'working')
    store.arm(taskId, () => {
      const open = gates.get(taskId)
      assert.ok(open !== undefined, 'the tool is running')
      open()
    })

    let failure: { code?: number; message?: string; data?: unknown } | undefined
    try {
      await client.experimental.tasks.cancelTask(taskId)
    } catch (error) {
      failure = error as { code?: number; message?: string; data?: unknown }
    }
    assert.ok(failure !== undefined, 'the cancel is refused')
    assert.equal(failure.code, ErrorCode.InvalidParams)
    assert.deepEqual(failure.data, { code: 'TASK_ALREADY_ENDED', field: 'taskId' })

    const task = await client.experimental.tasks.getTask(taskId)
    assert.equal(task.status, 'completed')
    const result = await client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)
    assert.deepEqual(result.content, [{ type: 'text', text: 'gated job done' }])

    const late = await client.experimental.tasks.cancelTask(taskId).then(
      () => undefined,
      (error: unknown) => error as { code?: number; message?: string; data?: unknown },
    )
    // The same answer as a cancel that arrives after the end.
    assert.equal(late?.code, ErrorCode.InvalidParams)
    assert.deepEqual(late?.data, failure.data)
  })
})
