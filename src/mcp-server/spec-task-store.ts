/**
 * Spec-native tasks (2025-11-25, SEP-1686) on our durable store: the SDK's experimental TaskStore
 * interface, bound to one request's owner. The SDK's own tasks/get, tasks/result, tasks/list and
 * tasks/cancel handlers call it; we never hand them another actor's task.
 */
import type { TaskStore as SdkTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks'
import type { Result, Task } from '@modelcontextprotocol/sdk/types.js'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { JsonRpcError, McpServerError } from './errors.ts'
import type { TaskRunner } from './task-runner.ts'
import { isEnded, type TaskRecord, type TaskStatus, type TaskStore } from './task-store.ts'

/** Page size of tasks/list and list_tasks. */
export const TASK_PAGE_SIZE = 50

/** The wire form of a task. */
export function toSpecTask(task: TaskRecord): Task {
  return {
    taskId: task.taskId,
    status: task.status,
    ttl: task.ttlMs,
    createdAt: new Date(task.createdAt).toISOString(),
    lastUpdatedAt: new Date(task.updatedAt).toISOString(),
    pollInterval: task.pollIntervalMs,
    ...(task.statusMessage !== undefined && { statusMessage: task.statusMessage }),
  }
}

/**
 * The SDK TaskStore for one request's owner. The SDK reaches createTask and storeTaskResult only
 * through a handler's `extra.taskStore`, which our tools/call handler never uses (it starts spec
 * tasks through the runner itself): both refuse, so a task has exactly one way to start and to end.
 */
export class OwnerScopedTaskStore implements SdkTaskStore {
  readonly #store: TaskStore
  readonly #runner: TaskRunner
  readonly #owner: string
  readonly #clock: () => number

  constructor(store: TaskStore, runner: TaskRunner, owner: string, clock: () => number = Date.now) {
    this.#store = store
    this.#runner = runner
    this.#owner = owner
    this.#clock = clock
  }

  async createTask(): Promise<Task> {
    throw new McpError(ErrorCode.InvalidRequest, 'not supported: tasks start through tools/call')
  }

  async getTask(taskId: string): Promise<Task | null> {
    const task = await this.#store.get(taskId, this.#owner)
    return task === undefined ? null : toSpecTask(this.#runner.current(task))
  }

  async storeTaskResult(): Promise<void> {
    throw new McpError(ErrorCode.InvalidRequest, 'not supported: a task ends only by its tool or a cancel')
  }

  async getTaskResult(taskId: string): Promise<Result> {
    const task = await this.#store.get(taskId, this.#owner)
    if (task === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, `Task not found: ${taskId}`)
    if (task.result === undefined) {
      throw new JsonRpcError(
        ErrorCode.InvalidParams,
        `Task ${taskId} has no result yet (status: ${task.status})`,
      )
    }
    return task.result
  }

  async updateTaskStatus(taskId: string, status: TaskStatus, statusMessage?: string): Promise<void> {
    if (status === 'cancelled') {
      await translate(
        () => this.#runner.cancel(taskId, this.#owner, statusMessage ?? 'cancelled by the caller'),
        McpError,
      )
      return
    }
    // Only tasks/cancel ('cancelled') and extra.sendRequest ('input_required') reach here from the SDK.
    if (isEnded(status)) {
      throw new McpError(ErrorCode.InvalidRequest, `not supported: a task cannot be set to ${status}`)
    }
    const task = await this.#store.get(taskId, this.#owner)
    if (task === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, `Task not found: ${taskId}`)
    if (statusMessage !== undefined)
      await this.#store.update(taskId, { statusMessage, updatedAt: this.#clock() })
  }

  async listTasks(cursor?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const page = await translate(() => this.#store.list(this.#owner, { cursor, limit: TASK_PAGE_SIZE }))
    return {
      tasks: page.tasks.map((task) => toSpecTask(this.#runner.current(task))),
      ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
    }
  }
}

/**
 * Our errors as the JSON-RPC errors the spec asks for (invalid params for a bad id or a finished
 * task). The SDK's tasks/cancel handler passes on only its own McpError and turns anything else
 * into -32600, so that path asks for `McpError`: a cancel losing the race with the task's end must
 * still answer -32602, as the SDK answers a cancel that arrives after the end.
 */
export async function translate<T>(
  work: () => Promise<T>,
  As: new (code: number, message: string, data?: unknown) => Error = JsonRpcError,
): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof McpServerError) {
      throw new As(ErrorCode.InvalidParams, error.message, {
        code: error.code,
        ...(error.field !== undefined && { field: error.field }),
      })
    }
    throw error
  }
}
