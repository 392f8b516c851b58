/**
 * `notifications/tasks` over `subscriptions/listen` (spec 2026-07-28 with the tasks extension): a
 * client that lists task ids in its subscription filter is sent each task's state as it changes,
 * the same `DetailedTask` that `tasks/get` answers, on the listen request's own stream. The SDK's
 * listen stream carries no task events, so a subscription that names tasks is served here: the
 * tasks are read from the store (so a task run by another process is followed too), and the
 * subscription ends with its response once every task it follows has ended.
 */
import { McpServerError } from './errors.ts'
import type { TasksExtension } from './tasks-extension.ts'

/** The listen request, as far as this file reads it. */
export interface TaskListen {
  readonly id: string | number
  readonly taskIds: readonly string[]
  readonly owner: string
}

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId'
const ENDED = new Set(['completed', 'failed', 'cancelled'])

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
  const meta = { [SUBSCRIPTION_ID]: listen.id }
  // The client ends a subscription by closing its stream: the read loop stops then.
  const ended = new AbortController()
  signal.addEventListener('abort', () => ended.abort(), { once: true })
  signal = ended.signal
  const stream = new ReadableStream<Uint8Array>({
    cancel: () => ended.abort(),
    start: async (controller) => {
      const send = (message: unknown) =>
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(message)}\n\n`))
      // The tasks this owner has: another's, or an unknown id, is left out of the acknowledgement.
      const followed: string[] = []
      for (const taskId of listen.taskIds) {
        const found = await tasks.get(taskId, listen.owner).catch(() => undefined)
        if (found !== undefined) followed.push(taskId)
      }
      send({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: { taskIds: followed }, _meta: meta },
      })
      const seen = new Map<string, string>()
      const open = new Set(followed)
      while (open.size > 0 && !signal.aborted) {
        for (const taskId of [...open]) {
          const task = await tasks.get(taskId, listen.owner).catch(() => undefined)
          if (task === undefined) {
            open.delete(taskId)
            continue
          }
          const state = `${task.status}|${task.statusMessage ?? ''}|${task.lastUpdatedAt}`
          if (seen.get(taskId) !== state) {
            seen.set(taskId, state)
            send({ jsonrpc: '2.0', method: 'notifications/tasks', params: { ...task, _meta: meta } })
          }
          if (ENDED.has(task.status)) open.delete(taskId)
        }
        if (open.size > 0) await new Promise((resolve) => setTimeout(resolve, pollMs))
      }
      if (signal.aborted) return
      send({ jsonrpc: '2.0', id: listen.id, result: { resultType: 'complete', _meta: meta } })
      controller.close()
    },
  })
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  })
}
