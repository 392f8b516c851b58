/**
 * `notifications/tasks` over `subscriptions/listen` (spec 2026-07-28 with the tasks extension): a
 * client that lists task ids in its subscription filter is sent each task's state as it changes,
 * the same `DetailedTask` that `tasks/get` answers, on the listen request's own stream. The SDK's
 * listen stream carries no task events, so a subscription that names tasks is served here: the
 * tasks are read from the store (so a task run by another process is followed too), and the
 * subscription ends with its response once every task it follows has ended.
 */
import { SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server'
import { McpServerError } from './errors.ts'
import { isEnded } from './task-record.ts'
import type { DetailedExtensionTask, TasksExtension } from './tasks-extension.ts'

/** The listen request, as far as this file reads it. */
export interface TaskListen {
  readonly id: string | number
  readonly taskIds: readonly string[]
  readonly owner: string
}

/**
 * One read of a task for `owner`: the task; `gone` when it is not theirs (or no longer stored);
 * undefined when the store could not answer this time (the next round reads it again).
 */
async function readTask(
  tasks: TasksExtension,
  taskId: string,
  owner: string,
): Promise<DetailedExtensionTask | 'gone' | undefined> {
  try {
    return await tasks.get(taskId, owner)
  } catch (error) {
    if (error instanceof McpServerError && error.code === 'TASK_NOT_FOUND') return 'gone'
    return undefined
  }
}

/** Whether a parsed message is a listen request whose filter names tasks. */
export function taskListenOf(
  message: unknown,
): { id: string | number; taskIds: string[]; meta: unknown } | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined
  const { method, id, params } = message as {
    method?: unknown
    id?: unknown
    params?: { notifications?: { taskIds?: unknown }; _meta?: unknown }
  }
  if (method !== 'subscriptions/listen' || (typeof id !== 'string' && typeof id !== 'number'))
    return undefined
  const taskIds = params?.notifications?.taskIds
  if (!Array.isArray(taskIds) || taskIds.length === 0) return undefined
  if (!taskIds.every((taskId) => typeof taskId === 'string'))
    throw new McpServerError('INVALID_PARAMS', 'notifications.taskIds must be a list of task ids', {
      field: 'notifications.taskIds',
    })
  return { id, taskIds: [...new Set(taskIds as string[])].slice(0, 100), meta: params?._meta }
}

/** The subscription's stream: the acknowledgement, each change of a task, then the response. */
export function taskSubscription(
  tasks: TasksExtension,
  listen: TaskListen,
  signal: AbortSignal,
  pollMs: number,
): Response {
  const encoder = new TextEncoder()
  const meta = { [SUBSCRIPTION_ID_META_KEY]: listen.id }
  // The client ends a subscription by closing its stream (or hanging up): the read loop stops then.
  const cancelled = new AbortController()
  const stopped = AbortSignal.any([signal, cancelled.signal])
  const stream = new ReadableStream<Uint8Array>({
    cancel: () => cancelled.abort(),
    start: async (controller) => {
      const send = (message: unknown) =>
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(message)}\n\n`))
      // The tasks this owner has: another's, or an unknown id, is left out of the acknowledgement.
      // Those reads are also each task's first state, sent right after it.
      const first = new Map<string, DetailedExtensionTask | undefined>()
      for (const taskId of listen.taskIds) {
        const found = await readTask(tasks, taskId, listen.owner)
        if (found !== 'gone') first.set(taskId, found)
      }
      send({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: { taskIds: [...first.keys()] }, _meta: meta },
      })
      const seen = new Map<string, string>()
      const open = new Set(first.keys())
      const report = (taskId: string, task: DetailedExtensionTask | 'gone' | undefined) => {
        if (task === undefined) return // the store did not answer: read again next round
        if (task === 'gone') return void open.delete(taskId)
        const state = `${task.status}|${task.statusMessage ?? ''}|${task.lastUpdatedAt}`
        if (seen.get(taskId) !== state) {
          seen.set(taskId, state)
          send({ jsonrpc: '2.0', method: 'notifications/tasks', params: { ...task, _meta: meta } })
        }
        if (isEnded(task.status)) open.delete(taskId)
      }
      for (const [taskId, task] of first) report(taskId, task)
      while (open.size > 0 && !stopped.aborted) {
        await new Promise((resolve) => setTimeout(resolve, pollMs))
        for (const taskId of [...open]) report(taskId, await readTask(tasks, taskId, listen.owner))
      }
      if (stopped.aborted) return
      send({ jsonrpc: '2.0', id: listen.id, result: { resultType: 'complete', _meta: meta } })
      controller.close()
    },
  })
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  })
}
