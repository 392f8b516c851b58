/**
 * The async task tools every client can use, even one that knows nothing of spec-native tasks:
 * check_task_status, get_task_results, cancel_task and list_tasks. They see only the caller's own
 * background tasks (inline calls are not listed: their result is the call's answer).
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import type { RequestScope } from './request-scope.ts'
import { parseArguments } from './tool-arguments.ts'
import type { TaskRunner } from './task-runner.ts'
import { taskView } from './task-view.ts'

/** Names of the async task tools. */
export const TASK_TOOL_NAMES = ['check_task_status', 'get_task_results', 'cancel_task', 'list_tasks'] as const
export type TaskToolName = (typeof TASK_TOOL_NAMES)[number]

const TASK_ID = z.string().min(1, 'task_id must not be empty').max(256)
const INPUTS = {
  check_task_status: z.object({ task_id: TASK_ID }),
  get_task_results: z.object({ task_id: TASK_ID }),
  cancel_task: z.object({ task_id: TASK_ID }),
  list_tasks: z.object({ cursor: z.string().max(1024).optional() }),
} as const

const DESCRIPTIONS: Record<TaskToolName, string> = {
  check_task_status:
    'Status and progress of a background task started by one of the start_ tools (queued tasks say so, with their place in the queue).',
  get_task_results: 'Result of a background task once it has ended (completed, failed or cancelled).',
  cancel_task: 'Cancels a background task that is queued or still running.',
  list_tasks:
    'Lists your background tasks (those started by start_ tools or as spec-native tasks, not calls that ran inline), newest first; pass next_cursor to page on.',
}

/** True when `name` is one of the task tools. */
export function isTaskTool(name: string): name is TaskToolName {
  return (TASK_TOOL_NAMES as readonly string[]).includes(name)
}

/** The task tools' entries in the tool list (they take no task requests themselves). */
export function taskToolDefinitions(): Tool[] {
  return TASK_TOOL_NAMES.map((name) => ({
    name,
    description: DESCRIPTIONS[name],
    inputSchema: z.toJSONSchema(INPUTS[name], { io: 'input' }) as Tool['inputSchema'],
    execution: { taskSupport: 'forbidden' },
  }))
}

/** Answers the task tools for one request's owner. */
export class TaskTools {
  readonly #runner: TaskRunner
  readonly #deliversResults: boolean

  constructor(runner: TaskRunner, deliversResults: boolean) {
    this.#runner = runner
    this.#deliversResults = deliversResults
  }

  async call(name: TaskToolName, args: unknown, scope: RequestScope): Promise<CallToolResult> {
    const view = (task: Parameters<typeof taskView>[0]) => taskView(task, this.#deliversResults)
    if (name === 'list_tasks') {
      const { cursor } = parseArguments(name, INPUTS.list_tasks, args)
      const page = await this.#runner.list(scope.owner, cursor)
      return jsonResult({ tasks: page.tasks.map(view), next_cursor: page.nextCursor ?? null })
    }
    const { task_id: taskId } = parseArguments(name, INPUTS[name], args)
    if (name === 'cancel_task')
      return jsonResult(view(await this.#runner.cancel(taskId, scope.owner, 'task_id')))
    const task = await this.#runner.get(taskId, scope.owner, 'task_id')
    if (name === 'check_task_status') return jsonResult(view(task))
    if (task.result === undefined) {
      return jsonResult({
        ...view(task),
        note: 'The task has not ended yet; call get_task_results again later.',
      })
    }
    return {
      content: [
        { type: 'text', text: `Task ${task.taskId} (${task.tool}) ${task.status}.` },
        ...task.result.content,
      ],
      structuredContent: { ...view(task), result: task.result.structuredContent ?? null },
      ...(task.status !== 'completed' && { isError: true }),
    }
  }
}

function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value }
}
