/**
 * Spec-native tasks (2025-11-25, SEP-1686): tasks/get, tasks/result, tasks/list and tasks/cancel,
 * answered by our own handlers on the runner, for one request's owner. (The SDK installs its own
 * only when given its TaskStore; those answer "Failed to retrieve task: Task not found" inside an
 * `MCP error -32602:` prefix that the SDK client then prefixes again.)
 */
import type {
  CancelTaskResult,
  GetTaskResult,
  ListTasksResult,
  Result,
  Task,
} from '@modelcontextprotocol/sdk/types.js'
import type { TaskRecord } from './task-record.ts'
import type { TaskRunner } from './task-runner.ts'

/** The metadata key that ties a tasks/result answer to its task. */
const RELATED_TASK = 'io.modelcontextprotocol/related-task'

/** The wire form of a task (a queued task is `working`, its status message says it waits). */
export function toSpecTask(task: TaskRecord): Task {
  const statusMessage = queuedStatusMessage(task) ?? task.statusMessage
  return {
    taskId: task.taskId,
    status: task.status,
    ttl: task.ttlMs,
    createdAt: new Date(task.createdAt).toISOString(),
    lastUpdatedAt: new Date(task.updatedAt).toISOString(),
    pollInterval: task.pollIntervalMs,
    ...(statusMessage !== undefined && { statusMessage }),
  }
}

/** What a task still waiting for a slot says of its place (`starting` once a worker took it); undefined otherwise. */
export function queuedStatusMessage(task: TaskRecord): string | undefined {
  if (task.stage !== 'queued' || task.status !== 'working') return undefined
  if (task.queuePosition === 'starting') return 'starting'
  return `queued${task.queuePosition === undefined ? '' : `: position ${task.queuePosition}`}`
}

/** The four methods for one owner; not found and already ended are -32602, as the spec asks. */
export class SpecTasks {
  readonly #runner: TaskRunner

  constructor(runner: TaskRunner) {
    this.#runner = runner
  }

  async get(taskId: string, owner: string): Promise<GetTaskResult> {
    return toSpecTask(await this.#runner.get(taskId, owner))
  }

  /** Waits for the end (the spec's tasks/result blocks until the task is terminal), then its result. */
  async result(taskId: string, owner: string, signal: AbortSignal): Promise<Result> {
    const task = await this.#runner.waitForEnd(taskId, owner, signal)
    const result = task.result ?? { content: [{ type: 'text', text: `Task ${taskId} ${task.status}` }] }
    return { ...result, _meta: { ...result._meta, [RELATED_TASK]: { taskId } } }
  }

  async list(owner: string, cursor: string | undefined): Promise<ListTasksResult> {
    const page = await this.#runner.list(owner, cursor)
    return {
      tasks: page.tasks.map(toSpecTask),
      ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
    }
  }

  async cancel(taskId: string, owner: string): Promise<CancelTaskResult> {
    const task = await this.#runner.cancel(taskId, owner, 'taskId')
    return toSpecTask(task)
  }
}
