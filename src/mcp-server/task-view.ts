/** How a task reads to a caller of the task tools (snake_case JSON an agent reads). */
import type { TaskRecord } from './task-record.ts'

/** The view of `task` (as the runner reports it, with progress not yet stored). */
export function taskView(task: TaskRecord, deliversResults: boolean): Record<string, unknown> {
  const owed = deliversResults && task.caller !== null && task.mode !== 'inline'
  const row = task.delivery
  const delivery = !owed
    ? { state: 'none', reason: null, attempts: 0 }
    : row === undefined
      ? { state: 'pending', reason: null, attempts: 0 }
      : { state: row.state, reason: row.lastError ?? null, attempts: row.attempts }
  // A task waiting for a slot says so, with its place, rather than pretending to run; one a worker
  // has just taken is working (it no longer waits), though its record is not marked running yet.
  const starting = task.queuePosition === 'starting'
  const queued = task.stage === 'queued' && task.status === 'working' && !starting
  return {
    task_id: task.taskId,
    tool: task.tool,
    status: queued ? 'queued' : task.status,
    ...(queued && { queue_position: task.queuePosition ?? null }),
    status_message: starting ? 'starting' : (task.statusMessage ?? null),
    progress: task.progress ?? null,
    total: task.total ?? null,
    created_at: new Date(task.createdAt).toISOString(),
    updated_at: new Date(task.updatedAt).toISOString(),
    // How many times the tool was started (delivery attempts are counted under `delivery`).
    runs: task.runs,
    // The caller's own memory session, where the result goes (a console lists a session's tasks).
    session_id: task.caller?.sessionId ?? null,
    delivers_to_memory: delivery.state === 'pending' || delivery.state === 'delivered',
    delivery,
  }
}
