/**
 * The benchmark's baseline: our TaskStore interface over the MCP SDK's InMemoryTaskStore, so the
 * same server and client run once on the durable SQLite store and once on the SDK's in-memory one.
 * What the SDK task lacks (owner, tool, progress) sits in a side map, as any adapter would keep it.
 */
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks'
import type { CallToolResult, Task } from '@modelcontextprotocol/sdk/types.js'
import type {
  NewTaskRecord,
  OutboxEntry,
  TaskEnd,
  TaskPage,
  TaskRecord,
  TaskStore,
} from '../../src/mcp-server/index.ts'

interface Extra {
  readonly task: NewTaskRecord
  progress?: number
  total?: number
  result?: CallToolResult
}

/** Our TaskStore on the SDK's InMemoryTaskStore (owner = the SDK's session scope). Nothing survives a restart. */
export class InMemoryBaselineStore implements TaskStore {
  readonly #memory = new InMemoryTaskStore()
  readonly #extra = new Map<string, Extra>()

  async create(task: NewTaskRecord): Promise<TaskRecord> {
    const created = await this.#memory.createTask(
      { ttl: task.ttlMs, pollInterval: task.pollIntervalMs },
      0,
      { method: 'tools/call', params: { name: task.tool, arguments: task.input as Record<string, unknown> } },
      task.owner,
    )
    this.#extra.set(created.taskId, { task: { ...task, taskId: created.taskId } })
    return this.#record(created)
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

  async update(
    taskId: string,
    patch: { progress?: number; total?: number; statusMessage?: string },
  ): Promise<void> {
    const extra = this.#extra.get(taskId)
    if (extra === undefined) return
    if (patch.progress !== undefined) extra.progress = patch.progress
    if (patch.total !== undefined) extra.total = patch.total
    if (patch.statusMessage !== undefined) {
      await this.#memory.updateTaskStatus(taskId, 'working', patch.statusMessage, extra.task.owner)
    }
  }

  async finish(taskId: string, end: TaskEnd, delivery?: OutboxEntry): Promise<TaskRecord | undefined> {
    if (delivery !== undefined) throw new Error('the in-memory baseline has no outbox')
    const extra = this.#extra.get(taskId)
    if (extra === undefined) return undefined
    const task = await this.#memory.getTask(taskId, extra.task.owner)
    if (task === null || ['completed', 'failed', 'cancelled'].includes(task.status)) return undefined
    extra.result = end.result
    if (end.status === 'cancelled') {
      await this.#memory.updateTaskStatus(taskId, 'cancelled', end.statusMessage, extra.task.owner)
    } else {
      await this.#memory.storeTaskResult(taskId, end.status, end.result, extra.task.owner)
    }
    return this.get(taskId)
  }

  async unfinished(): Promise<TaskRecord[]> {
    return []
  }

  async restart(): Promise<void> {}

  async removeExpired(): Promise<number> {
    return 0
  }

  /** Stops the SDK store's TTL timers. */
  close(): void {
    this.#memory.cleanup()
  }

  #record(task: Task): TaskRecord {
    const extra = this.#extra.get(task.taskId) as Extra
    return {
      ...extra.task,
      status: task.status,
      statusMessage: task.statusMessage,
      progress: extra.progress,
      total: extra.total,
      result: extra.result,
      updatedAt: Date.parse(task.lastUpdatedAt),
      attempts: 1,
    }
  }
}
