/**
 * The tasks extension of MCP spec 2026-07-28 (`io.modelcontextprotocol/tasks`, SEP-2663) over the
 * server's durable tasks: `tasks/get` (the result inlined once the task ended), `tasks/update` and
 * `tasks/cancel` (acknowledgements), for one owner. No `tasks/list` and no `tasks/result` exist in
 * this era. The SDK (2.4) has no server side of the extension yet: this file is it, in one place,
 * to be replaced when the SDK ships its own.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { McpServerError } from './errors.ts'
import { queuedStatusMessage } from './spec-tasks.ts'
import type { TaskRecord } from './task-record.ts'
import type { TaskRunner } from './task-runner.ts'

/** The extension's identifier, in capabilities and `server/discover`. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks'

/** A task as the extension sends it (`CreateTaskResult` and `tasks/get` share these fields). */
export interface ExtensionTask {
  readonly taskId: string
  readonly status: 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled'
  readonly statusMessage?: string
  readonly createdAt: string
  readonly lastUpdatedAt: string
  readonly ttlMs: number | null
  readonly pollIntervalMs?: number
}

/** `tasks/get`'s answer: an ended task carries its result (completed) or its error (failed). */
export interface DetailedExtensionTask extends ExtensionTask {
  readonly result?: CallToolResult
  readonly error?: { readonly code: number; readonly message: string }
}

/**
 * A task in the extension's words. Progress travels in `statusMessage` (the extension sends no
 * progress notifications on tasks): a queued task says where it waits, a running one its progress.
 * A tool that reported its own failure (`ToolError`) is a task that `completed` with an `isError`
 * result, as the extension asks of tool errors; any other failure is `failed`, with the reason.
 */
export function toExtensionTask(task: TaskRecord): ExtensionTask {
  const progress =
    task.progress === undefined
      ? undefined
      : `${task.progress}${task.total === undefined ? '' : `/${task.total}`}`
  const statusMessage =
    queuedStatusMessage(task) ??
    ([progress, task.statusMessage].filter((part) => part !== undefined).join(' ') || undefined)
  return {
    taskId: task.taskId,
    status: statusOf(task),
    createdAt: new Date(task.createdAt).toISOString(),
    lastUpdatedAt: new Date(task.updatedAt).toISOString(),
    ttlMs: task.ttlMs,
    pollIntervalMs: task.pollIntervalMs,
    ...(statusMessage !== undefined && { statusMessage }),
  }
}

function statusOf(task: TaskRecord): ExtensionTask['status'] {
  if (task.status === 'failed') return isToolError(task.result) ? 'completed' : 'failed'
  return task.status
}

/**
 * A failure the tool reported itself (a `ToolError`: its result carries `structuredContent.error`
 * with a code the model can act on) is a tool error, which the extension reports as `completed`
 * with an `isError` result; anything else (a crash, a run a restart interrupted) failed the task.
 */
function isToolError(result: CallToolResult | undefined): boolean {
  const error = (result?.structuredContent as { error?: { code?: unknown } } | undefined)?.error
  return result?.isError === true && typeof error?.code === 'string'
}

/** The extension's three methods for one owner. */
export class TasksExtension {
  readonly #runner: TaskRunner

  constructor(runner: TaskRunner) {
    this.#runner = runner
  }

  /** The task with, once it ended, its result (or error); TASK_NOT_FOUND for another owner's. */
  async get(taskId: string, owner: string): Promise<DetailedExtensionTask> {
    const task = await this.#runner.get(taskId, owner, 'taskId')
    const view = toExtensionTask(task)
    if (view.status === 'completed' && task.result !== undefined) return { ...view, result: task.result }
    if (view.status === 'failed')
      return { ...view, error: { code: -32603, message: task.statusMessage ?? 'the task failed' } }
    return view
  }

  /** An acknowledgement: no tool here asks for input, so any answer is ignored (as the extension allows). */
  async update(taskId: string, owner: string): Promise<void> {
    await this.#runner.get(taskId, owner, 'taskId')
  }

  /** Cancels a task; a task that ended already is acknowledged the same (cancel is idempotent here). */
  async cancel(taskId: string, owner: string): Promise<void> {
    try {
      await this.#runner.cancel(taskId, owner, 'taskId')
    } catch (error) {
      if (error instanceof McpServerError && error.code === 'TASK_ALREADY_ENDED') return
      throw error
    }
  }
}
