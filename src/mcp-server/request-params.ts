/**
 * Structural checks of the params of `tools/call` and `tasks/*` requests, run before the SDK sees
 * them: the SDK's request schemas reject a missing `name` or a non-object `arguments` as an internal
 * error carrying a raw validation dump; we answer invalid params naming the field instead, and
 * nothing starts.
 */

import { isRecord } from '../shared/is-record.ts'

/** A request this server refuses before dispatch. */
export interface MalformedRequest {
  /** The JSON-RPC id to answer (null when it has none). */
  readonly id: string | number | null
  /** The offending field, relative to `params` (`name`, `arguments`, `task`, `taskId`, ...). */
  readonly field: string
  readonly message: string
}

const TASK_ID_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/cancel'])

/**
 * The first malformed request in `message` (a single JSON-RPC message or a batch), or undefined when
 * every request is well formed. `taskToolNames` are tools that refuse task-augmented execution.
 */
export function malformedRequest(
  message: unknown,
  taskToolNames: readonly string[],
): MalformedRequest | undefined {
  const messages = Array.isArray(message) ? message : [message]
  for (const each of messages) {
    const problem = checkOne(each, taskToolNames)
    if (problem !== undefined) return problem
  }
  return undefined
}

function checkOne(message: unknown, taskToolNames: readonly string[]): MalformedRequest | undefined {
  if (!isRecord(message) || typeof message.method !== 'string') return undefined
  const rawId = message.id
  // Notifications (no id) get no answer; the SDK ignores what it cannot parse.
  if (typeof rawId !== 'string' && typeof rawId !== 'number') return undefined
  const id = rawId
  const method = message.method
  const params = message.params
  const fail = (field: string, what: string): MalformedRequest => ({
    id,
    field,
    message: `Invalid params of ${method}: ${field} ${what}`,
  })
  if (method === 'tools/call') {
    if (!isRecord(params)) return fail('params', 'must be an object with name and arguments')
    if (typeof params.name !== 'string' || params.name.length === 0) {
      return fail('name', 'must be a non-empty string naming the tool')
    }
    if (params.arguments !== undefined && !isRecord(params.arguments)) {
      return fail('arguments', 'must be an object')
    }
    if (params.task !== undefined) {
      if (!isRecord(params.task)) return fail('task', 'must be an object')
      const ttl = params.task.ttl
      if (ttl !== undefined && ttl !== null && (typeof ttl !== 'number' || !(ttl >= 0))) {
        return fail('task.ttl', 'must be a non-negative number of milliseconds')
      }
      if (taskToolNames.includes(params.name)) {
        return fail('task', `must be absent: tool ${params.name} does not support task execution`)
      }
    }
    if (params._meta !== undefined && !isRecord(params._meta)) return fail('_meta', 'must be an object')
    return undefined
  }
  if (TASK_ID_METHODS.has(method)) {
    if (!isRecord(params) || typeof params.taskId !== 'string' || params.taskId.length === 0) {
      return fail('taskId', 'must be a non-empty string')
    }
    return undefined
  }
  if (method === 'tasks/list' && params !== undefined) {
    if (!isRecord(params)) return fail('params', 'must be an object')
    if (params.cursor !== undefined && typeof params.cursor !== 'string')
      return fail('cursor', 'must be a string')
  }
  return undefined
}
