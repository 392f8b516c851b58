/** What the server records of a task, whichever backend holds it. */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { CompositeSessionParts } from '../contract/index.ts'
import type { TraceCarrier } from '../telemetry/index.ts'
import type { CallMode } from './long-running-tool.ts'

/**
 * The memory a task's result goes to, and, when an agent runtime started it, the runtime session
 * its end may wake (see `wake-delivery.ts`) and the depth of the turn that started it in a chain of
 * continuations (0 or absent: a turn the user started).
 */
export interface TaskCaller extends CompositeSessionParts {
  readonly runtimeSessionId?: string | undefined
  readonly continuationDepth?: number | undefined
}

/**
 * Where a queued task stands: its place in the queue (1 when it is next), or `starting` once a
 * worker has taken it and is about to mark it running (it is no longer waiting for anyone).
 */
export type QueuePlace = number | 'starting'

/** The statuses of spec 2025-11-25 tasks (a queued task is `working`: its stage says it waits). */
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
  readonly caller: TaskCaller | null
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

/** Where a task is placed when it is recorded. */
export interface Placement {
  readonly stage: 'queued' | 'running'
  /**
   * The process whose own queue holds it: it alone starts it, and another takes it over only once
   * that process's lease ran out. Undefined: a shared queue (BullMQ) holds it.
   */
  readonly holder: string | undefined
}

/** The record of a task just created, as a read would return it (nothing is owed for it yet). */
export function newRecord(task: NewTaskRecord, placement: Placement): TaskRecord {
  return {
    taskId: task.taskId,
    owner: task.owner,
    tool: task.tool,
    input: task.input ?? null,
    mode: task.mode,
    caller: task.caller,
    status: 'working',
    stage: placement.stage,
    statusMessage: undefined,
    progress: undefined,
    total: undefined,
    result: undefined,
    createdAt: task.createdAt,
    updatedAt: task.createdAt,
    ttlMs: task.ttlMs,
    pollIntervalMs: task.pollIntervalMs,
    runs: placement.stage === 'running' ? 1 : 0,
    workerId: placement.holder,
    ...(task.traceContext !== undefined && { traceContext: task.traceContext }),
  }
}

/** Names one after-end job: a task and the kind of work owed for it. */
export interface JobKey {
  readonly taskId: string
  /** `memory` for the result event; a kind is owed at most once per task. */
  readonly kind: string
}

/**
 * Durable work owed after a task ended (its memory event today), recorded with the end in one
 * write and retried until it settles. `payload` is the exact content, so every retry is the same.
 */
export interface AfterEndJob extends JobKey {
  readonly payload: unknown
}

/** An after-end job as recorded, with where it stands. */
export interface OwedJob extends AfterEndJob {
  readonly state: DeliveryState['state']
  /** Attempts made so far. */
  readonly attempts: number
  readonly lastError: string | undefined
}

/**
 * What one attempt at a job leaves recorded (the store counts the attempt): still pending (retried
 * at `retryAt`, with `payload` replacing the old one when given), or settled. A settlement may
 * record `then`, the jobs owed next, in the same write.
 */
export interface Settlement {
  readonly state: DeliveryState['state']
  readonly lastError: string | undefined
  readonly retryAt?: number
  readonly payload?: unknown
  readonly then?: readonly AfterEndJob[]
}

/** The kind of a task's memory event (its state is what a task's `delivery` reports). */
export const MEMORY_JOB = 'memory'
