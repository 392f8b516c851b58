/** What the server records of a task, whichever backend holds it. */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { CompositeSessionParts } from '../mcp/composite-session-header.ts'
import type { TraceCarrier } from '../telemetry/index.ts'
import type { CallMode } from './long-running-tool.ts'

/** The statuses of spec 2025-11-25 tasks (a queued task is `working`: its stage says it waits). */

/**
 * Where a queued task stands: its place in the queue (1 when it is next), or `starting` once a
 * worker has taken it and is about to mark it running (it is no longer waiting for anyone).
 */
export type QueuePlace = number | 'starting'

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled'
/** The three end states. */
export type TaskEndStatus = 'completed' | 'failed' | 'cancelled'

/**
 * Where a task's execution stands: waiting for a slot, running in a process, or over. A task
 * cancelled while it runs elsewhere is `cancelled` but still `running` until that process stops it.
 */
export type TaskStage = 'queued' | 'running' | 'done'

/** True for completed, failed and cancelled. */
export function isEnded(status: TaskStatus): status is TaskEndStatus {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

/** What the server knows of one task. */
export interface TaskRecord {
  readonly taskId: string
  /** The actor that owns it: only this owner can see or cancel it. */
  readonly owner: string
  readonly tool: string
  readonly input: unknown
  /** How the call that started it runs. */
  readonly mode: CallMode
  /** Where the result goes in memory; null when the caller sent no composite header. */
  readonly caller: CompositeSessionParts | null
  readonly status: TaskStatus
  readonly stage: TaskStage
  readonly statusMessage: string | undefined
  readonly progress: number | undefined
  readonly total: number | undefined
  readonly result: CallToolResult | undefined
  readonly createdAt: number
  readonly updatedAt: number
  readonly ttlMs: number
  readonly pollIntervalMs: number
  /** How many times its tool was started (0 while it first waits in the queue). */
  readonly runs: number
  /** The process that holds it (runs it, or will run it from its queue), when one does. */
  readonly workerId?: string | undefined
  /** Where it stands while queued (set by the runner on reads): see {@link QueuePlace}. */
  readonly queuePosition?: QueuePlace | undefined
  /** Where its memory event stands, read with the task (undefined when none is queued). */
  readonly delivery?: DeliveryState | undefined
  /** The trace context of the call that started it: its runs and delivery join that trace. */
  readonly traceContext?: TraceCarrier | undefined
}

/** The fields of a task at its creation. */
export type NewTaskRecord = Pick<
  TaskRecord,
  | 'taskId'
  | 'owner'
  | 'tool'
  | 'input'
  | 'mode'
  | 'caller'
  | 'createdAt'
  | 'ttlMs'
  | 'pollIntervalMs'
  | 'traceContext'
>

/** How a task ended. */
export interface TaskEnd {
  readonly status: TaskEndStatus
  readonly statusMessage?: string
  readonly result: CallToolResult
  readonly endedAt: number
}

/** A memory event owed for an ended task: the exact CreateEvent content, so every retry is identical. */
export interface OutboxEntry {
  readonly taskId: string
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  readonly eventTimestampMs: number
  readonly text: string
  /** The task's trace context, so the write shows in the trace of the call that started it. */
  readonly traceContext?: TraceCarrier | undefined
}

/** An outbox row waiting for delivery. */
export interface PendingDelivery extends OutboxEntry {
  /** Delivery attempts made so far (not the task's runs). */
  readonly attempts: number
}

/** Progress or a status message of a running task. */
export interface TaskProgress {
  readonly progress?: number
  readonly total?: number
  readonly statusMessage?: string
  readonly updatedAt: number
}

/** A page of tasks. */
export interface TaskPage {
  readonly tasks: TaskRecord[]
  readonly nextCursor?: string
}

/** Where a task's memory event stands: what check_task_status reports as `delivery`. */
export interface DeliveryState {
  readonly state: 'pending' | 'delivered' | 'failed'
  readonly attempts: number
  /** Why the last attempt failed (cleared once delivered). */
  readonly lastError: string | undefined
}
