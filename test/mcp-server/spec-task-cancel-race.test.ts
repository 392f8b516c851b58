import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { CallToolResultSchema, CreateTaskResultSchema, ErrorCode } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import {
  defineLongRunningTool,
  type LongRunningMcpServer,
  SqliteTaskStore,
  type TaskStore,
} from '../../src/mcp-server/index.ts'
import { connectClient, startTestServer, tempDir } from '../helpers/mcp-server.ts'

/**
 * A store that makes tasks/cancel lose its race with the task's end, every time: the first read of
 * the armed task answers "working" only after the task has ended, so the SDK's terminal-status check
 * passes and our cancel finds the task already completed.
 */
class RacingStore implements TaskStore {
  readonly #inner: SqliteTaskStore
  readonly #finished = new Map<string, () => void>()
  #armed: { taskId: string; finishTask: () => void } | undefined

  constructor(inner: SqliteTaskStore) {
    this.#inner = inner
  }

  /** The next read of `taskId` lets the task finish (`finishTask`) and waits for its end first. */
  arm(taskId: string, finishTask: () => void): void {
    this.#armed = { taskId, finishTask }
  }

  create: TaskStore['create'] = (task) => this.#inner.create(task)
  list: TaskStore['list'] = (owner, options) => this.#inner.list(owner, options)
  update: TaskStore['update'] = (taskId, patch) => this.#inner.update(taskId, patch)
  unfinished: TaskStore['unfinished'] = () => this.#inner.unfinished()
  restart: TaskStore['restart'] = (taskId, now) => this.#inner.restart(taskId, now)
  removeExpired: TaskStore['removeExpired'] = (now) => this.#inner.removeExpired(now)

  async get(taskId: string, owner?: string): ReturnType<TaskStore['get']> {
    const task = await this.#inner.get(taskId, owner)
    const armed = this.#armed
    if (armed === undefined || armed.taskId !== taskId) return task
    this.#armed = undefined
    const ended = new Promise<void>((resolve) => this.#finished.set(taskId, resolve))
    armed.finishTask()
    await ended
    return task
  }

  async finish(...args: Parameters<TaskStore['finish']>): ReturnType<TaskStore['finish']> {
    const ended = await this.#inner.finish(...args)
    this.#finished.get(args[0])?.()
    return ended
  }
}

describe('spec-native tasks/cancel racing the task end', () => {
  let dir: { path: string; remove(): Promise<void> }
  let inner: SqliteTaskStore
  let store: RacingStore
  let server: LongRunningMcpServer
  let client: Client
  const gates = new Map<string, () => void>()

  before(async () => {
    dir = await tempDir()
    inner = new SqliteTaskStore({ dataDir: dir.path })
    store = new RacingStore(inner)
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
    server = await startTestServer(dir.path, { store, tools: [gatedJob] })
    client = await connectClient(server.url)
  })
  after(async () => {
    await client.close()
    await server.close()
    inner.close()
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

    let failure: { code?: number; message?: string } | undefined
    try {
      await client.experimental.tasks.cancelTask(taskId)
    } catch (error) {
      failure = error as { code?: number; message?: string }
    }
    assert.ok(failure !== undefined, 'the cancel is refused')
    assert.equal(failure.code, ErrorCode.InvalidParams)
    // The same answer as a cancel that arrives after the end (the SDK's own check).
    assert.match(failure.message ?? '', /Cannot cancel task in terminal status: completed/)

    const task = await client.experimental.tasks.getTask(taskId)
    assert.equal(task.status, 'completed')
    const result = await client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)
    assert.deepEqual(result.content, [{ type: 'text', text: 'gated job done' }])

    const late = await client.experimental.tasks.cancelTask(taskId).then(
      () => undefined,
      (error: unknown) => error as { code?: number; message?: string },
    )
    assert.equal(late?.code, ErrorCode.InvalidParams)
    assert.equal(late?.message, failure.message)
  })
})
