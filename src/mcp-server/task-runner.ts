/**
 * Runs long-running tools as durable tasks: records each start and end, feeds progress to whoever
 * watches, cancels on request, re-runs or fails what a crash interrupted, and queues the memory
 * event of every task whose caller named a session.
 */
import { randomBytes } from 'node:crypto'
import { setImmediate } from 'node:timers/promises'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { CompositeSessionParts } from '../mcp/composite-session-header.ts'
import { userTextEventPayload } from '../memory/external-event.ts'
import { MEMORY_LIMITS } from '../memory/limits.ts'
import { McpServerError } from './errors.ts'
import { HealthStatus } from '../shared/health-status.ts'
import type { Logger } from '../shared/logger.ts'
import { silentLogger } from '../shared/logger.ts'
import type { LongRunningTool, ToolContext } from './long-running-tool.ts'
import {
  isEnded,
  type OutboxEntry,
  type TaskEnd,
  type TaskKind,
  type TaskProgress,
  type TaskRecord,
  type TaskStore,
} from './task-store.ts'

/** What a watcher of a running task hears. */
export type TaskEvent =
  | {
      readonly type: 'progress'
      readonly progress: number
      readonly total?: number
      readonly message?: string
    }
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'heartbeat'; readonly elapsedMs: number }
  | { readonly type: 'end'; readonly task: TaskRecord }

/** Configuration of {@link TaskRunner}. */
export interface TaskRunnerConfig {
  readonly store: TaskStore
  readonly tools: readonly LongRunningTool[]
  /** Results of ended tasks are kept this long (default 7 days). */
  readonly ttlMs?: number
  /** The poll interval suggested to spec-task clients (default 1000 ms). */
  readonly pollIntervalMs?: number
  /** Interval of heartbeat events to watchers of running tasks (default 10 s). */
  readonly heartbeatIntervalMs?: number
  /** A task interrupted this many times is failed instead of re-run again (default 3). */
  readonly maxAttempts?: number
  /** Queue a memory event when a task of a caller that named a session ends (default true). */
  readonly deliverResults?: boolean
  /** Called after a task end queued a memory event (wakes the delivery loop). */
  readonly onDeliveryQueued?: () => void
  readonly health?: HealthStatus
  readonly clock?: () => number
  /** Unguessable ids by default: 144 random bits. */
  readonly newTaskId?: () => string
  readonly logger?: Logger
}

/** A request to start a task; `input` has passed the tool's schema. */
export interface StartTask {
  readonly tool: LongRunningTool
  readonly input: Record<string, unknown>
  readonly owner: string
  readonly caller: CompositeSessionParts | null
  readonly kind: TaskKind
  /** A shorter time-to-live the caller asked for (spec tasks); capped by the server's. */
  readonly ttlMs?: number | undefined
  /** A watcher attached before the task can run, so it cannot miss any event (inline calls). */
  readonly watch?: ((event: TaskEvent) => void) | undefined
}

/** Progress or a status message reported since the last write to the store. */
type PendingProgress = TaskProgress

interface ActiveTask {
  readonly controller: AbortController
  readonly startedAt: number
  readonly watchers: Set<(event: TaskEvent) => void>
  /** The latest progress not yet written: kept in memory, written on the heartbeat tick and at the end. */
  pending?: PendingProgress | undefined
}

/**
 * Longest conversational text of one memory event, measured as the service measures it: AFTER the
 * text is wrapped in the SessionMessage JSON (which escapes quotes, newlines and backslashes). The
 * service's limit less a margin.
 */
export const MAX_EVENT_PAYLOAD_CHARS = MEMORY_LIMITS.conversationalText - 1_000

export const INTERRUPTED_MESSAGE = 'interrupted by a server restart'

/** Starts, watches, cancels and recovers tasks. */
export class TaskRunner {
  readonly health: HealthStatus
  readonly #store: TaskStore
  readonly #tools: Map<string, LongRunningTool>
  readonly #ttlMs: number
  readonly #pollIntervalMs: number
  readonly #heartbeatIntervalMs: number
  readonly #maxAttempts: number
  readonly #deliverResults: boolean
  readonly #onDeliveryQueued: () => void
  readonly #clock: () => number
  readonly #newTaskId: () => string
  readonly #logger: Logger
  readonly #active = new Map<string, ActiveTask>()
  readonly #settled = new Set<Promise<void>>()
  #heartbeat: NodeJS.Timeout | undefined
  #closing = false

  constructor(config: TaskRunnerConfig) {
    this.#store = config.store
    this.#tools = new Map(config.tools.map((tool) => [tool.name, tool]))
    this.#ttlMs = config.ttlMs ?? 7 * 24 * 3600 * 1000
    this.#pollIntervalMs = config.pollIntervalMs ?? 1000
    this.#heartbeatIntervalMs = config.heartbeatIntervalMs ?? 10_000
    this.#maxAttempts = config.maxAttempts ?? 3
    this.#deliverResults = config.deliverResults ?? true
    this.#onDeliveryQueued = config.onDeliveryQueued ?? (() => {})
    this.#clock = config.clock ?? Date.now
    this.#newTaskId = config.newTaskId ?? (() => randomBytes(18).toString('base64url'))
    this.#logger = config.logger ?? silentLogger
    this.health = config.health ?? new HealthStatus(this.#clock)
  }

  /** How many tasks run in this process now. */
  get running(): number {
    return this.#active.size
  }

  /** Records a new task and starts it in the background; returns the stored task. */
  async start(request: StartTask): Promise<TaskRecord> {
    if (this.#closing) throw new McpServerError('INVALID_CONFIG', 'the server is shutting down')
    const ttlMs =
      request.ttlMs === undefined ? this.#ttlMs : Math.max(0, Math.min(request.ttlMs, this.#ttlMs))
    const task = await this.#store.create({
      taskId: this.#newTaskId(),
      owner: request.owner,
      tool: request.tool.name,
      input: request.input,
      kind: request.kind,
      caller: request.caller,
      createdAt: this.#clock(),
      ttlMs,
      pollIntervalMs: this.#pollIntervalMs,
    })
    this.#launch(task, request.tool, request.watch)
    return task
  }

  /**
   * The task as it stands now: a task running in this process carries progress not yet written to
   * the store (written on the heartbeat tick), so status reads lay it over the stored row.
   */
  current(task: TaskRecord): TaskRecord {
    if (isEnded(task.status)) return task
    const pending = this.#active.get(task.taskId)?.pending
    if (pending === undefined) return task
    return {
      ...task,
      ...(pending.progress !== undefined && { progress: pending.progress }),
      ...(pending.total !== undefined && { total: pending.total }),
      ...(pending.statusMessage !== undefined && { statusMessage: pending.statusMessage }),
      updatedAt: pending.updatedAt,
    }
  }

  /** Subscribes to a running task's events; returns the unsubscribe function (no-op when not running here). */
  watch(taskId: string, listener: (event: TaskEvent) => void): () => void {
    const active = this.#active.get(taskId)
    if (active === undefined) return () => {}
    active.watchers.add(listener)
    return () => active.watchers.delete(listener)
  }

  /** Cancels the owner's running task; TASK_NOT_FOUND for a missing or foreign id, TASK_ALREADY_ENDED once ended. */
  async cancel(
    taskId: string,
    owner: string | undefined,
    reason = 'cancelled by the caller',
  ): Promise<TaskRecord> {
    const task = await this.#store.get(taskId, owner)
    if (task === undefined) throw taskNotFound(taskId)
    if (isEnded(task.status)) throw alreadyEnded(task)
    const ended = await this.#end(task, this.#failedEnd(task, 'cancelled', reason))
    this.#active.get(taskId)?.controller.abort(new Error(reason))
    if (ended === undefined) {
      const now = await this.#store.get(taskId)
      throw alreadyEnded(now ?? task)
    }
    return ended
  }

  /**
   * Deals with tasks a crash left unfinished: re-runs those whose tool says `rerun` (started in the
   * background, up to maxAttempts) and fails the others with "interrupted by a server restart".
   * Inline tasks are always failed: the request that waited for them is gone.
   */
  async recover(): Promise<{ rerun: number; failed: number }> {
    let rerun = 0
    let failed = 0
    for (const task of await this.#store.unfinished()) {
      if (this.#active.has(task.taskId)) continue
      const tool = this.#tools.get(task.tool)
      if (tool?.onRestart === 'rerun' && task.kind !== 'inline' && task.attempts < this.#maxAttempts) {
        await this.#store.restart(task.taskId, this.#clock())
        const fresh = await this.#store.get(task.taskId)
        if (fresh === undefined) continue
        this.#launch(fresh, tool)
        rerun += 1
      } else {
        const message =
          tool === undefined ? `${INTERRUPTED_MESSAGE} (tool no longer exists)` : INTERRUPTED_MESSAGE
        await this.#end(task, this.#failedEnd(task, 'failed', message))
        failed += 1
      }
      this.#logger.log('info', 'recovered an interrupted task', { taskId: task.taskId, tool: task.tool })
    }
    return { rerun, failed }
  }

  /** True once {@link close} began: new tasks are refused and aborts come from the shutdown. */
  get closing(): boolean {
    return this.#closing
  }

  /**
   * Shuts down: aborts every running tool and waits for them at most `graceMs` (default 10 s). A tool
   * that still returns a value within the grace period keeps its result (recorded as completed); a
   * tool that throws or outlives the grace period stays "working" in the store and the next start
   * recovers it, exactly as after a crash (re-run for `rerun` tools). Returns how many were left.
   */
  async close(graceMs = 10_000): Promise<{ left: number }> {
    this.#closing = true
    for (const active of this.#active.values()) active.controller.abort(new Error('server shutting down'))
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs)
    })
    await Promise.race([Promise.allSettled([...this.#settled]), deadline])
    clearTimeout(timer)
    this.#stopHeartbeat()
    const left = this.#active.size
    if (left > 0) this.#logger.log('warn', 'tasks still running after the shutdown grace period', { left })
    return { left }
  }

  #launch(task: TaskRecord, tool: LongRunningTool, watch?: (event: TaskEvent) => void): void {
    const active: ActiveTask = {
      controller: new AbortController(),
      startedAt: this.#clock(),
      watchers: new Set(watch === undefined ? [] : [watch]),
    }
    this.#active.set(task.taskId, active)
    this.health.setBusy(true)
    this.#startHeartbeat()
    const settled = this.#execute(task, tool, active)
      .catch((error: unknown) => {
        // A store failure (disk full, I/O error, store closed) must not crash the process: the task
        // stays unfinished in the store and the next start recovers it.
        this.#logger.log('error', 'could not record the end of a task', {
          taskId: task.taskId,
          error: error instanceof Error ? error.message : String(error),
        })
      })
      .finally(() => {
        this.#active.delete(task.taskId)
        this.#settled.delete(settled)
        if (this.#active.size === 0) {
          this.health.setBusy(false)
          this.#stopHeartbeat()
        }
      })
    this.#settled.add(settled)
  }

  async #execute(task: TaskRecord, tool: LongRunningTool, active: ActiveTask): Promise<void> {
    const { signal } = active.controller
    const emit = (event: TaskEvent) => {
      for (const watcher of active.watchers) watcher(event)
    }
    // Progress stays in memory (one write per heartbeat tick, not one per call): a tool may report
    // progress 100,000 times, and each synchronous write would hold up the event loop.
    const record = (patch: Omit<PendingProgress, 'updatedAt'>) => {
      if (signal.aborted) return
      active.pending = { ...active.pending, ...patch, updatedAt: this.#clock() }
    }
    const ctx: ToolContext = {
      progress: (done, total, message) => {
        record({
          progress: done,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { statusMessage: message }),
        })
        // Most progress calls of a background task have no watcher: build no event for them.
        if (active.watchers.size === 0) return
        emit({
          type: 'progress',
          progress: done,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { message }),
        })
      },
      log: (message) => {
        record({ statusMessage: message })
        if (active.watchers.size > 0) emit({ type: 'log', message })
      },
      signal,
      taskId: task.taskId,
      caller: {
        sessionId: task.caller?.sessionId,
        memoryId: task.caller?.memoryId,
        actorId: task.caller?.actorId,
      },
      attempt: task.attempts,
    }
    let end: TaskEnd
    let returned = false
    try {
      // Let start() answer before the tool's first synchronous stretch runs.
      await setImmediate()
      const value = await tool.run(task.input as Record<string, unknown>, ctx)
      end = { status: 'completed', result: toCallToolResult(value), endedAt: this.#clock() }
      returned = true
    } catch (error) {
      end = this.#failedEnd(task, 'failed', error instanceof Error ? error.message : String(error))
    }
    // The last progress goes to the store even when the task is left for recovery.
    await this.#flush([[task.taskId, active]])
    // A cancel already recorded the end. A shutdown leaves the task for recovery unless the tool
    // still returned its result: finished work is kept, not thrown away.
    if (signal.aborted && !(this.#closing && returned)) return
    await this.#end(task, end)
  }

  /** The end of a task that failed or was cancelled: `message` is its status message and its result. */
  #failedEnd(task: TaskRecord, status: 'failed' | 'cancelled', message: string): TaskEnd {
    const outcome = status === 'cancelled' ? 'was cancelled' : 'failed'
    return {
      status,
      statusMessage: message,
      result: {
        content: [{ type: 'text', text: `Task ${task.taskId} ${outcome}: ${message}` }],
        isError: true,
      },
      endedAt: this.#clock(),
    }
  }

  /** Records a task's end and tells its watchers, whatever the status and whoever ended it. */
  async #end(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined> {
    const active = this.#active.get(task.taskId)
    if (active !== undefined) await this.#flush([[task.taskId, active]])
    const delivery = this.#deliverResults && task.kind !== 'inline' ? memoryEntry(task, end) : undefined
    const ended = await this.#store.finish(task.taskId, end, delivery)
    if (ended === undefined) return undefined
    this.#logger.log('info', 'task ended', { taskId: task.taskId, tool: task.tool, status: end.status })
    if (delivery !== undefined) this.#onDeliveryQueued()
    if (active !== undefined) for (const watcher of active.watchers) watcher({ type: 'end', task: ended })
    return ended
  }

  /**
   * Writes the progress kept in memory of `tasks`: several at once in one store call (one
   * transaction) when the store can. A failed write is logged and kept for the next tick.
   */
  async #flush(tasks: Iterable<readonly [string, ActiveTask]>): Promise<void> {
    const writes: { taskId: string; active: ActiveTask; patch: PendingProgress }[] = []
    for (const [taskId, active] of tasks) {
      if (active.pending === undefined) continue
      writes.push({ taskId, active, patch: active.pending })
      active.pending = undefined
    }
    const keep = (write: (typeof writes)[number]) => {
      // Newer reports (made while the write was under way) win over the failed ones.
      const newer = write.active.pending as PendingProgress | undefined
      write.active.pending = { ...write.patch, ...newer }
    }
    if (writes.length === 0) return
    if (writes.length > 1 && this.#store.updateMany !== undefined) {
      try {
        await this.#store.updateMany(writes.map(({ taskId, patch }) => ({ taskId, patch })))
      } catch (error) {
        for (const write of writes) keep(write)
        this.#logger.log('warn', 'could not record progress', { tasks: writes.length, error: String(error) })
      }
      return
    }
    await Promise.all(
      writes.map(async (write) => {
        try {
          await this.#store.update(write.taskId, write.patch)
        } catch (error) {
          keep(write)
          this.#logger.log('warn', 'could not record progress', {
            taskId: write.taskId,
            error: String(error),
          })
        }
      }),
    )
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return
    // One timer for all tasks: 10,000 running tasks cost one tick, not 10,000 timers.
    this.#heartbeat = setInterval(() => {
      const now = this.#clock()
      // Every task's progress of this tick in one write.
      void this.#flush(this.#active)
      for (const active of this.#active.values()) {
        for (const watcher of active.watchers)
          watcher({ type: 'heartbeat', elapsedMs: now - active.startedAt })
      }
    }, this.#heartbeatIntervalMs)
    this.#heartbeat.unref()
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat)
    this.#heartbeat = undefined
  }
}

/** Turns what `run` returned into a tool result: objects also become structured content. */
export function toCallToolResult(value: unknown): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] }
  const text = JSON.stringify(value ?? null, null, 2)
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return { content: [{ type: 'text', text }], structuredContent: value as Record<string, unknown> }
  }
  return { content: [{ type: 'text', text }] }
}

/** The text of the memory event: task id, tool, outcome and result, in words an agent reads. */
export function memoryEventText(
  task: Pick<TaskRecord, 'taskId' | 'tool'>,
  end: Pick<TaskEnd, 'status' | 'result'>,
  maxPayloadChars = MAX_EVENT_PAYLOAD_CHARS,
): string {
  const resultText = end.result.content
    .map((block) => (block.type === 'text' ? block.text : `[${block.type}]`))
    .join('\n')
  const head = `Long-running task ${task.taskId} (tool ${task.tool}) ${end.status}.\nResult:\n`
  const full = head + resultText
  if (encodedLength(full) <= maxPayloadChars) return full
  const marker = (shown: number) =>
    `\n[result truncated: ${shown} of ${resultText.length} characters shown; the full result is available from get_task_results with task_id ${task.taskId}]`
  // The escaped length grows with the cut, so search the longest cut whose encoding still fits.
  let low = 0
  let high = resultText.length
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (encodedLength(head + cut(resultText, middle) + marker(middle)) <= maxPayloadChars) low = middle
    else high = middle - 1
  }
  const shown = cut(resultText, low)
  return head + shown + marker(shown.length)
}

/** The length the service checks: the conversational text after the SessionMessage JSON encoding. */
export function encodedLength(text: string): number {
  return userTextEventPayload(text).conversational.content.text.length
}

/** The first `length` characters, never splitting a surrogate pair. */
function cut(text: string, length: number): string {
  const code = text.charCodeAt(length - 1)
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length)
}

function memoryEntry(task: TaskRecord, end: TaskEnd): OutboxEntry | undefined {
  if (task.caller === null) return undefined
  return {
    taskId: task.taskId,
    memoryId: task.caller.memoryId,
    actorId: task.caller.actorId,
    sessionId: task.caller.sessionId,
    eventTimestampMs: end.endedAt,
    text: memoryEventText(task, end),
  }
}

function taskNotFound(taskId: string): McpServerError {
  return new McpServerError('TASK_NOT_FOUND', `Task not found: ${taskId}`, { field: 'task_id' })
}

function alreadyEnded(task: TaskRecord): McpServerError {
  return new McpServerError('TASK_ALREADY_ENDED', `Cannot cancel task in terminal status: ${task.status}`, {
    field: 'task_id',
  })
}
