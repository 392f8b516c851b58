/**
 * The benchmark's baseline: our TaskBackend interface over the MCP SDK's InMemoryTaskStore, so the
 * same server and client run once on the durable SQLite backend and once on the SDK's in-memory
 * store. Every task runs at once (no queue: the benchmark's tool declares a limit no burst reaches);
 * what the SDK task lacks (owner, tool, progress) sits in a side map, as any adapter would keep it.
 */
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks'
import type { CallToolResult, Task } from '@modelcontextprotocol/sdk/types.js'
import type {
  NewTaskRecord,
  Recovery,
  TaskBackend,
  TaskEnd,
  TaskExecutor,
  TaskPage,
  TaskProgress,
  TaskRecord,
} from '../../src/mcp-server/index.ts'

interface Extra {
  readonly task: NewTaskRecord
  progress?: number
  total?: number
  result?: CallToolResult
}

/** Tasks in the SDK's InMemoryTaskStore (owner = the SDK's session scope). Nothing survives a restart. */
export class InMemoryBaselineBackend implements TaskBackend {
  readonly deliversResults = false
  readonly waiting = 0
  readonly #memory = new InMemoryTaskStore()
  readonly #extra = new Map<string, Extra>()
  #executor: TaskExecutor | undefined

  async submit(task: NewTaskRecord): Promise<TaskRecord> {
    const created = await this.#memory.createTask(
      { ttl: task.ttlMs, pollInterval: task.pollIntervalMs },
      0,
      { method: 'tools/call', params: { name: task.tool, arguments: task.input as Record<string, unknown> } },
      task.owner,
    )
    this.#extra.set(created.taskId, { task: { ...task, taskId: created.taskId } })
    const record = this.#record(created)
    void this.#executor?.run(record, new AbortController().signal)
    return record
  }

  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    const extra = this.#extra.get(taskId)
    if (extra === undefined || (owner !== undefined && extra.task.owner !== owner)) return undefined
    const task = await this.#memory.getTask(taskId, extra.task.owner)
    return task === null ? undefined : this.#record(task)
  }

  async list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage> {
    const page = await this.#memory.listTasks(options.cursor, owner)
    return {
      tasks: page.tasks.map((task) => this.#record(task)),
      ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
    }
  }

  async saveProgress(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<void> {
    for (const { taskId, patch } of updates) {
      const extra = this.#extra.get(taskId)
      if (extra === undefined) continue
      if (patch.progress !== undefined) extra.progress = patch.progress
      if (patch.total !== undefined) extra.total = patch.total
      if (patch.statusMessage !== undefined) {
        await this.#memory.updateTaskStatus(taskId, 'working', patch.statusMessage, extra.task.owner)
      }
    }
  }

  async complete(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined> {
    const current = await this.#memory.getTask(task.taskId, task.owner)
    if (current === null || ['completed', 'failed', 'cancelled'].includes(current.status)) return undefined
    ;(this.#extra.get(task.taskId) as Extra).result = end.result
    await this.#memory.storeTaskResult(
      task.taskId,
      end.status === 'completed' ? 'completed' : 'failed',
      end.result,
      task.owner,
    )
    return this.get(task.taskId)
  }

  async cancel(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined> {
    const current = await this.#memory.getTask(task.taskId, task.owner)
    if (current === null || ['completed', 'failed', 'cancelled'].includes(current.status)) return undefined
    ;(this.#extra.get(task.taskId) as Extra).result = end.result
    await this.#memory.updateTaskStatus(task.taskId, 'cancelled', end.statusMessage, task.owner)
    return this.get(task.taskId)
  }

  async queuePosition(): Promise<number | undefined> {
    return undefined
  }

  async start(executor: TaskExecutor): Promise<Recovery> {
    this.#executor = executor
    return { rerun: 0, failed: 0 }
  }

  pause(): void {}

  /** Stops the SDK store's TTL timers. */
  async close(): Promise<void> {
    this.#memory.cleanup()
  }

  #record(task: Task): TaskRecord {
    const extra = this.#extra.get(task.taskId) as Extra
    return {
      ...extra.task,
      status: task.status,
      stage: ['completed', 'failed', 'cancelled'].includes(task.status) ? 'done' : 'running',
      statusMessage: task.statusMessage,
      progress: extra.progress,
      total: extra.total,
      result: extra.result,
      updatedAt: Date.parse(task.lastUpdatedAt),
      runs: 1,
    }
  }
}
