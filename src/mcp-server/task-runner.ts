/**
 * Runs long-running tools as durable tasks on a {@link TaskBackend}: starts them (the backend
 * records and queues them), runs the ones the backend hands to this process, feeds progress to
 * whoever watches, cancels on request, and ends what a crash interrupted. What an end owes after it
 * (a memory event) is the backend's to record, with the end.
 */
import { randomBytes } from 'node:crypto'
import { setImmediate } from 'node:timers/promises'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { HealthStatus } from '../shared/health-status.ts'
import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api'
import {
  contextOf,
  currentTraceCarrier,
  failSpan,
  longrunTracer,
  recordQueueWait,
  recordTaskDuration,
} from '../telemetry/index.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { McpServerError, taskNotFound } from './errors.ts'
import { type CallMode, type LongRunningTool, type ToolContext, ToolError } from './long-running-tool.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { Recovery, TaskBackend } from './task-backend.ts'
import {
  isEnded,
  type TaskCaller,
  type TaskEnd,
  type TaskPage,
  type TaskProgress,
  type TaskRecord,
} from './task-record.ts'

/** What a watcher of a task hears. */
export type TaskEvent =
  | {
      readonly type: 'progress'
      readonly progress: number
      readonly total?: number
      readonly message?: string
    }
  | { readonly type: 'log'; readonly message: string }
  /** Every heartbeat interval while the task waits or runs: what a silent tool's caller hears. */
  | {
      readonly type: 'heartbeat'
      readonly elapsedMs: number
      readonly status: 'queued' | 'working'
      readonly message: string
    }
  | { readonly type: 'end'; readonly task: TaskRecord }

/** Configuration of {@link TaskRunner}. */
export interface TaskRunnerConfig {
  readonly backend: TaskBackend
  readonly tools: readonly LongRunningTool[]
  /** Results of ended tasks are kept this long. */
  readonly ttlMs?: number
  /** The poll interval suggested to spec-task clients. */
  readonly pollIntervalMs?: number
  /** Interval of heartbeat events to watchers, and of progress writes. */
  readonly heartbeatIntervalMs?: number
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
  readonly caller: TaskCaller | null
  readonly mode: CallMode
  /** A shorter time-to-live the caller asked for (spec tasks); capped by the server's. */
  readonly ttlMs?: number | undefined
  /** A watcher attached before the task can run, so it cannot miss any event (inline calls). */
  readonly watch?: ((event: TaskEvent) => void) | undefined
}

interface ActiveRun {
  readonly task: TaskRecord
  readonly controller: AbortController
  readonly startedAt: number
  /** The latest progress not yet written: kept in memory, written on the heartbeat tick and at the end. */
  pending?: TaskProgress | undefined
}

/** Watchers of one task, from its start (before it may run) to its end. */
interface Watched {
  readonly listeners: Set<(event: TaskEvent) => void>
  readonly since: number
  /** The record while it waits in the queue (heartbeats then say so). */
  queued: TaskRecord | undefined
  ended: boolean
}

/** Page size of tasks/list and list_tasks. */
export const TASK_PAGE_SIZE = 50

/** Starts, watches, cancels and recovers tasks. */
export class TaskRunner {
  readonly health: HealthStatus
  readonly #backend: TaskBackend
  readonly #tools: Map<string, LongRunningTool>
  readonly #ttlMs: number
  readonly #pollIntervalMs: number
  readonly #heartbeatIntervalMs: number
  readonly #clock: () => number
  readonly #newTaskId: () => string
  readonly #logger: Logger
  readonly #active = new Map<string, ActiveRun>()
  readonly #watched = new Map<string, Watched>()
  readonly #settled = new Set<Promise<void>>()
  #heartbeat: NodeJS.Timeout | undefined
  #closing = false

  constructor(config: TaskRunnerConfig) {
    this.#backend = config.backend
    this.#tools = new Map(config.tools.map((tool) => [tool.name, tool]))
    this.#ttlMs = config.ttlMs ?? MCP_SERVER_DEFAULTS.taskTtlMs
    this.#pollIntervalMs = config.pollIntervalMs ?? MCP_SERVER_DEFAULTS.pollIntervalMs
    this.#heartbeatIntervalMs = config.heartbeatIntervalMs ?? MCP_SERVER_DEFAULTS.heartbeatIntervalMs
    this.#clock = config.clock ?? Date.now
    this.#newTaskId = config.newTaskId ?? (() => randomBytes(18).toString('base64url'))
    this.#logger = config.logger ?? silentLogger
    this.health = config.health ?? new HealthStatus(this.#clock)
  }

  /** How many tasks run in this process now. */
  get running(): number {
    return this.#active.size
  }

  /** True once {@link close} began: new tasks are refused and aborts come from the shutdown. */
  get closing(): boolean {
    return this.#closing
  }

  /**
   * Begins running what the backend hands this process, after it recovered what stopped processes
   * left. Call once the server listens, so a process that cannot start changes nothing.
   */
  async begin(): Promise<Recovery> {
    this.#heartbeat = setInterval(() => this.#tick(), this.#heartbeatIntervalMs)
    this.#heartbeat.unref()
    return this.#backend.start({
      run: (task, signal) => this.#execute(task, signal),
      interrupted: (task, reason) => this.#interrupted(task, reason),
    })
  }

  /** Records a new task (queued or started at once) and returns it as it stands. */
  async start(request: StartTask): Promise<TaskRecord> {
    if (this.#closing) throw new McpServerError('SHUTTING_DOWN', 'the server is shutting down: retry shortly')
    const ttlMs =
      request.ttlMs === undefined ? this.#ttlMs : Math.max(0, Math.min(request.ttlMs, this.#ttlMs))
    const taskId = this.#newTaskId()
    // Watchers go in before the backend may run the task, so they hear everything.
    const watched: Watched = { listeners: new Set(), since: this.#clock(), queued: undefined, ended: false }
    if (request.watch !== undefined) {
      watched.listeners.add(request.watch)
      this.#watched.set(taskId, watched)
    }
    let task: TaskRecord
    try {
      task = await this.#backend.submit({
        taskId,
        owner: request.owner,
        tool: request.tool.name,
        input: request.input,
        mode: request.mode,
        caller: request.caller,
        createdAt: this.#clock(),
        ttlMs,
        pollIntervalMs: this.#pollIntervalMs,
        // The active span is the tools/call that starts it (nothing while telemetry is off).
        traceContext: currentTraceCarrier(),
      })
    } catch (error) {
      this.#watched.delete(taskId)
      throw error
    }
    const now = this.current(task)
    if (task.stage === 'queued') {
      if (request.watch !== undefined && !watched.ended && !this.#active.has(taskId)) watched.queued = task
      this.#logger.log('info', 'task queued', { taskId, tool: task.tool, mode: task.mode })
      this.#updateHealth()
    }
    return { ...now, queuePosition: await this.#backend.queuePosition(now) }
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

  /** The owner's task as it stands now; TASK_NOT_FOUND (naming `field`) for a missing or foreign id. */
  async get(taskId: string, owner: string, field = 'taskId'): Promise<TaskRecord> {
    const task = await this.#backend.get(taskId, owner)
    if (task === undefined) throw taskNotFound(taskId, field)
    return this.#withPosition(this.current(task))
  }

  /** A page of the owner's background tasks, newest first, as they stand now. */
  async list(owner: string, cursor: string | undefined): Promise<TaskPage> {
    const page = await this.#backend.list(owner, { cursor, limit: TASK_PAGE_SIZE })
    const tasks = await Promise.all(page.tasks.map((task) => this.#withPosition(this.current(task))))
    return { ...page, tasks }
  }

  /**
   * The owner's task once it has ended: at once when it has, else when it ends here (its end
   * event), or as seen by polling (a task another process runs). Rejects on `signal`.
   */
  async waitForEnd(taskId: string, owner: string, signal: AbortSignal): Promise<TaskRecord> {
    for (;;) {
      const task = await this.get(taskId, owner)
      if (isEnded(task.status)) return task
      signal.throwIfAborted()
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          unwatch()
          signal.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, task.pollIntervalMs)
        const unwatch = this.watch(taskId, (event) => {
          if (event.type === 'end') done()
        })
        signal.addEventListener('abort', done, { once: true })
      })
    }
  }

  /** Subscribes to a task's events while it waits or runs here; returns the unsubscribe function. */
  watch(taskId: string, listener: (event: TaskEvent) => void): () => void {
    const watched = this.#watched.get(taskId)
    if (watched === undefined || watched.ended) return () => {}
    watched.listeners.add(listener)
    return () => watched.listeners.delete(listener)
  }

  /**
   * Cancels the owner's task (`owner` undefined: the server itself cancels, for a caller gone).
   * TASK_NOT_FOUND for a missing or foreign id, TASK_ALREADY_ENDED once ended; both name `field`.
   */
  async cancel(
    taskId: string,
    owner: string | undefined,
    field = 'taskId',
    reason = 'cancelled by the caller',
  ): Promise<TaskRecord> {
    const task = await this.#backend.get(taskId, owner)
    if (task === undefined) throw taskNotFound(taskId, field)
    if (isEnded(task.status)) throw alreadyEnded(task, field)
    const end = failedEnd(task, 'cancelled', reason, this.#clock())
    const active = this.#active.get(taskId)
    if (active !== undefined) await this.#flush([active])
    const ended = await this.#backend.cancel(task, end)
    if (ended === undefined) {
      const now = await this.#backend.get(taskId)
      throw alreadyEnded(now ?? task, field)
    }
    this.#logger.log('info', 'task cancelled', { taskId, tool: task.tool, reason })
    this.#announceEnd(ended)
    active?.controller.abort(new Error(reason))
    this.#updateHealth()
    return ended
  }

  /**
   * Shuts down: aborts every running tool and waits for them at most `graceMs`. A tool that still
   * returns a value within the grace period keeps its result (recorded as completed); a tool that
   * throws or outlives the grace period stays running in the store, and whichever process takes
   * it over next recovers it, exactly as after a crash (re-run for `rerun` tools). Then the
   * backend stops. Returns how many were left.
   */
  async close(graceMs: number = MCP_SERVER_DEFAULTS.shutdownGraceMs): Promise<{ left: number }> {
    this.#closing = true
    // Nothing new starts while the running tools stop: what waits stays queued for later.
    this.#backend.pause()
    for (const active of this.#active.values()) active.controller.abort(new Error('server shutting down'))
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs)
    })
    await Promise.race([Promise.allSettled([...this.#settled]), deadline])
    clearTimeout(timer)
    clearInterval(this.#heartbeat)
    const left = this.#active.size
    if (left > 0) this.#logger.log('warn', 'tasks still running after the shutdown grace period', { left })
    await this.#backend.close()
    return { left }
  }

  /** Runs one task the backend handed this process, to its end. */
  async #execute(task: TaskRecord, stopped: AbortSignal): Promise<void> {
    const tool = this.#tools.get(task.tool)
    if (tool === undefined) return this.#interrupted(task, `the tool ${task.tool} is not served here`)
    const active: ActiveRun = { task, controller: new AbortController(), startedAt: this.#clock() }
    const onStopped = () => active.controller.abort(stopped.reason)
    if (stopped.aborted) onStopped()
    stopped.addEventListener('abort', onStopped, { once: true })
    this.#active.set(task.taskId, active)
    const watched = this.#watchersOf(task.taskId)
    watched.queued = undefined
    this.#updateHealth()
    this.#logger.log('info', 'task started', {
      taskId: task.taskId,
      tool: task.tool,
      run: task.runs,
      mode: task.mode,
    })
    // The run's span continues the trace of the call that started the task, however much later.
    const parent = contextOf(task.traceContext)
    const span = longrunTracer().startSpan(
      `task ${task.tool}`,
      {
        attributes: {
          'longrun.task.id': task.taskId,
          'longrun.task.mode': task.mode,
          'longrun.task.run': task.runs,
          'gen_ai.tool.name': task.tool,
        },
      },
      parent,
    )
    if (task.runs === 1) recordQueueWait(Math.max(0, active.startedAt - task.createdAt), { tool: task.tool })
    const settled = context
      .with(trace.setSpan(parent, span), () => this.#runTool(task, tool, active, watched, span))
      .catch((error: unknown) => {
        failSpan(span, error)
        // A store failure (disk full, I/O error, Redis gone) must not crash the process: the task
        // stays running in the store and the process that takes it over recovers it.
        this.#logger.log('error', 'could not record the end of a task', {
          taskId: task.taskId,
          error: error instanceof Error ? error.message : String(error),
        })
      })
      .finally(() => {
        span.end()
        stopped.removeEventListener('abort', onStopped)
        this.#active.delete(task.taskId)
        this.#settled.delete(settled)
        this.#watched.delete(task.taskId)
        this.#updateHealth()
      })
    this.#settled.add(settled)
    await settled
  }

  async #runTool(
    task: TaskRecord,
    tool: LongRunningTool,
    active: ActiveRun,
    watched: Watched,
    span: Span,
  ): Promise<void> {
    const { signal } = active.controller
    const emit = (event: TaskEvent) => {
      for (const listener of watched.listeners) listener(event)
    }
    // Progress stays in memory (one write per heartbeat tick, not one per call): a tool may report
    // progress 100,000 times, and each synchronous write would hold up the event loop.
    const record = (patch: Omit<TaskProgress, 'updatedAt'>) => {
      if (signal.aborted) return
      active.pending = { ...active.pending, ...patch, updatedAt: this.#clock() }
    }
    // Progress shows in the trace as span events, at most one per heartbeat interval.
    let lastProgressEventAt = Number.NEGATIVE_INFINITY
    const ctx: ToolContext = {
      progress: (done, total, message) => {
        const now = this.#clock()
        if (span.isRecording() && now - lastProgressEventAt >= this.#heartbeatIntervalMs) {
          lastProgressEventAt = now
          span.addEvent('progress', { progress: done, ...(total !== undefined && { total }) })
        }
        record({
          progress: done,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { statusMessage: message }),
        })
        // Most progress calls of a background task have no watcher: build no event for them.
        if (watched.listeners.size === 0) return
        emit({
          type: 'progress',
          progress: done,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { message }),
        })
      },
      log: (message) => {
        record({ statusMessage: message })
        if (watched.listeners.size > 0) emit({ type: 'log', message })
      },
      signal,
      taskId: task.taskId,
      caller: {
        sessionId: task.caller?.sessionId,
        memoryId: task.caller?.memoryId,
        actorId: task.caller?.actorId,
      },
      runNumber: task.runs,
      // Scoped to this task's owner: a tool sees only its own caller's tasks.
      findOwnTask: async (taskId) => {
        const found = await this.#backend.get(taskId, task.owner)
        if (found === undefined) return undefined
        const { structuredContent } = found.result ?? {}
        return { taskId: found.taskId, tool: found.tool, status: found.status, result: structuredContent }
      },
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
      const message = error instanceof Error ? error.message : String(error)
      end = failedEnd(task, 'failed', message, this.#clock(), error instanceof ToolError ? error : undefined)
    }
    // The last progress goes to the store even when the task is left for recovery.
    await this.#flush([active])
    // A shutdown leaves the task for recovery unless the tool still returned its result: finished
    // work is kept, not thrown away.
    if (this.#closing && !returned) return
    // After a cancel the end is already recorded: this records nothing and only frees the task.
    const ended = await this.#backend.complete(task, end)
    span.setAttribute('longrun.task.status', end.status)
    if (end.status !== 'completed') span.setStatus({ code: SpanStatusCode.ERROR, message: end.status })
    recordTaskDuration(end.endedAt - active.startedAt, { tool: task.tool, status: end.status })
    if (ended !== undefined) {
      this.#logger.log('info', 'task ended', { taskId: task.taskId, tool: task.tool, status: end.status })
      this.#announceEnd(ended)
      return
    }
    // Ended elsewhere (a cancel sent to another process) or taken over: its watchers learn how.
    const now = await this.#backend.get(task.taskId)
    if (now !== undefined && isEnded(now.status)) this.#announceEnd(now)
  }

  /** Ends a task whose run was interrupted and that is not run again (or cannot be served). */
  async #interrupted(task: TaskRecord, reason: string): Promise<void> {
    const end = failedEnd(task, 'failed', reason, this.#clock())
    const ended = await this.#backend.complete(task, end)
    if (ended === undefined) return
    this.#logger.log('info', 'task ended', { taskId: task.taskId, tool: task.tool, status: 'failed', reason })
    this.#announceEnd(ended)
    this.#watched.delete(task.taskId)
  }

  /** Tells the task's watchers it ended, once. */
  #announceEnd(task: TaskRecord): void {
    const watched = this.#watched.get(task.taskId)
    if (watched === undefined || watched.ended) return
    watched.ended = true
    watched.queued = undefined
    for (const listener of watched.listeners) listener({ type: 'end', task })
    if (!this.#active.has(task.taskId)) this.#watched.delete(task.taskId)
  }

  #watchersOf(taskId: string): Watched {
    let watched = this.#watched.get(taskId)
    if (watched === undefined) {
      watched = { listeners: new Set(), since: this.#clock(), queued: undefined, ended: false }
      this.#watched.set(taskId, watched)
    }
    return watched
  }

  async #withPosition(task: TaskRecord): Promise<TaskRecord> {
    if (task.stage !== 'queued' || isEnded(task.status)) return task
    return { ...task, queuePosition: await this.#backend.queuePosition(task) }
  }

  /** Busy while a task runs here or waits in this process's queue. */
  #updateHealth(): void {
    this.health.setBusy(this.#active.size > 0 || this.#backend.waiting > 0)
  }

  /** One heartbeat: every task's progress of this tick in one write, and a heartbeat to watchers. */
  #tick(): void {
    const now = this.#clock()
    void this.#flush(this.#active.values())
    for (const active of this.#active.values()) {
      const watched = this.#watched.get(active.task.taskId)
      if (watched === undefined || watched.listeners.size === 0) continue
      const event: TaskEvent = {
        type: 'heartbeat',
        elapsedMs: now - active.startedAt,
        status: 'working',
        message: 'still working',
      }
      for (const listener of watched.listeners) listener(event)
    }
    for (const [, watched] of this.#watched) {
      const queued = watched.queued
      if (queued === undefined || watched.listeners.size === 0) continue
      void this.#backend.queuePosition(queued).then((position) => {
        if (watched.queued === undefined) return
        const event: TaskEvent = {
          type: 'heartbeat',
          elapsedMs: now - watched.since,
          status: position === 'starting' ? 'working' : 'queued',
          message:
            position === 'starting'
              ? 'starting'
              : position === undefined
                ? 'queued'
                : `queued: position ${position}`,
        }
        for (const listener of watched.listeners) listener(event)
      })
    }
    this.#updateHealth()
  }

  /**
   * Writes the progress kept in memory of `runs` in one backend call. A failed write is logged
   * and kept for the next tick.
   */
  async #flush(runs: Iterable<ActiveRun>): Promise<void> {
    const writes: { active: ActiveRun; patch: TaskProgress }[] = []
    for (const active of runs) {
      if (active.pending === undefined) continue
      writes.push({ active, patch: active.pending })
      active.pending = undefined
    }
    if (writes.length === 0) return
    try {
      await this.#backend.saveProgress(
        writes.map(({ active, patch }) => ({ taskId: active.task.taskId, patch })),
      )
    } catch (error) {
      for (const write of writes) {
        // Newer reports (made while the write was under way) win over the failed ones.
        write.active.pending = { ...write.patch, ...write.active.pending }
      }
      this.#logger.log('warn', 'could not record progress', { tasks: writes.length, error: String(error) })
    }
  }
}

/**
 * The end of a task that failed or was cancelled: `message` is its status message and its result;
 * a tool's {@link ToolError} also puts its code (and field) in the result's structured content.
 */
function failedEnd(
  task: TaskRecord,
  status: 'failed' | 'cancelled',
  message: string,
  endedAt: number,
  toolError?: ToolError,
): TaskEnd {
  const outcome = status === 'cancelled' ? 'was cancelled' : 'failed'
  return {
    status,
    statusMessage: message,
    result: {
      content: [{ type: 'text', text: `Task ${task.taskId} ${outcome}: ${message}` }],
      ...(toolError !== undefined && {
        structuredContent: {
          error: {
            code: toolError.code,
            ...(toolError.field !== undefined && { field: toolError.field }),
            message,
          },
        },
      }),
      isError: true,
    },
    endedAt,
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

function alreadyEnded(task: TaskRecord, field: string): McpServerError {
  return new McpServerError('TASK_ALREADY_ENDED', `Cannot cancel task in terminal status: ${task.status}`, {
    field,
  })
}
