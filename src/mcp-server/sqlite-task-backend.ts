/**
 * The embedded backend: tasks in SQLite in the data directory, run by the process that accepted
 * them. Several processes may work on one data directory side by side: each registers with a
 * lease it renews, runs only its own tasks, and takes over a task or an owed memory event only
 * once the process holding it has stopped (its lease ran out, or it closed). A cancel sent to any
 * of them reaches the process running the task within a poll interval.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { HealthStatus } from '../shared/health-status.ts'
import { processAlive } from '../shared/process-alive.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { McpServerError } from './errors.ts'
import { LocalRuns, localLimits } from './local-runs.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import type { MemoryEventWriter } from './memory-event-writer.ts'
import { ResultDelivery } from './result-delivery.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { SqliteTaskStore } from './sqlite-task-store.ts'
import type { Recovery, TaskBackend, TaskExecutor } from './task-backend.ts'
import {
  isEnded,
  type NewTaskRecord,
  type OutboxEntry,
  type TaskEnd,
  type TaskPage,
  type TaskProgress,
  type TaskRecord,
} from './task-record.ts'

/** The status message of a task whose process stopped while it ran. */
export const INTERRUPTED_MESSAGE = 'interrupted by a server restart'

/** Configuration of {@link SqliteTaskBackend}. */
export interface SqliteTaskBackendConfig {
  /** Directory of `mcp-tasks.sqlite`; ':memory:' for a throwaway one. */
  readonly dataDir: string
  readonly tools: readonly LongRunningTool[]
  /** Tasks running at once in this process for tools that declare no limit. */
  readonly concurrency?: number
  /** Tasks waiting at once in this process; a start beyond it is refused with QUEUE_FULL. */
  readonly queueLimit?: number
  /** A running task interrupted after this many runs is failed instead of run again. */
  readonly maxAttempts?: number
  /** This process's lease: renewed every third of it; others take over its tasks once it runs out. */
  readonly leaseMs?: number
  /** How often this process looks for its running tasks cancelled by another one (default 1 s). */
  readonly cancelPollMs?: number
  /** Writes results into memory; without it nothing is delivered. */
  readonly writer?: MemoryEventWriter
  readonly health?: HealthStatus
  readonly clock?: () => number
  readonly logger?: Logger
  /** This process's name in the lease table (default host:pid:random). */
  readonly workerId?: string
}

/** Tasks on SQLite, run in this process. */
export class SqliteTaskBackend implements TaskBackend {
  readonly workerId: string
  readonly store: SqliteTaskStore
  readonly deliversResults: boolean
  readonly #tools: Map<string, LongRunningTool>
  readonly #runs: LocalRuns
  readonly #delivery: ResultDelivery | undefined
  readonly #maxAttempts: number
  readonly #leaseMs: number
  readonly #cancelPollMs: number
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #health: HealthStatus | undefined
  readonly #timers: NodeJS.Timeout[] = []
  #executor: TaskExecutor | undefined
  #queueSeq = 0
  #closing = false

  constructor(config: SqliteTaskBackendConfig) {
    this.workerId = config.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
    this.store = new SqliteTaskStore({ dataDir: config.dataDir, logger: config.logger })
    this.#tools = new Map(config.tools.map((tool) => [tool.name, tool]))
    this.#maxAttempts = config.maxAttempts ?? MCP_SERVER_DEFAULTS.maxAttempts
    this.#leaseMs = config.leaseMs ?? MCP_SERVER_DEFAULTS.leaseMs
    this.#cancelPollMs = config.cancelPollMs ?? Math.min(1000, this.#leaseMs / 3)
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? silentLogger
    this.#health = config.health
    this.deliversResults = config.writer !== undefined
    this.#runs = new LocalRuns({
      ...localLimits(config),
      claim: async (taskId) => this.store.claim(taskId, this.workerId, this.#clock()),
      execute: async (task, stopped) => this.#executor?.run(task, stopped),
    })
    this.#delivery =
      config.writer === undefined
        ? undefined
        : new ResultDelivery({
            outbox: this.store.outbox(this.workerId),
            writer: config.writer,
            clock: this.#clock,
            logger: this.#logger,
            ...(config.health !== undefined && { health: config.health }),
          })
  }

  /** Tasks waiting in this process's queue. */
  get waiting(): number {
    return this.#runs.waiting
  }

  async submit(task: NewTaskRecord): Promise<TaskRecord> {
    if (this.#closing) throw new McpServerError('SHUTTING_DOWN', 'the server is shutting down: retry shortly')
    return this.#runs.submit(task, (stage) => {
      this.#queueSeq += 1
      return this.store.create(task, { stage, workerId: this.workerId, queueSeq: this.#queueSeq })
    })
  }

  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    return this.store.get(taskId, owner)
  }

  async list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage> {
    return this.store.list(owner, options)
  }

  async saveProgress(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<void> {
    this.store.saveProgress(updates)
  }

  async complete(
    task: TaskRecord,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
  ): Promise<TaskRecord | undefined> {
    const ended = this.store.complete(task.taskId, end, delivery, this.workerId)
    // Not recorded: a cancel ended it meanwhile (its run is over now) or another process took it.
    if (ended === undefined) this.store.release(task.taskId, this.workerId)
    else if (delivery !== undefined) this.#deliveryQueued()
    return ended
  }

  async cancel(
    task: TaskRecord,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
  ): Promise<TaskRecord | undefined> {
    const ended = this.store.cancel(task.taskId, end, delivery, this.workerId)
    if (ended === undefined) return undefined
    this.#runs.remove(task.taskId)
    if (delivery !== undefined) this.#deliveryQueued()
    return ended
  }

  async queuePosition(task: TaskRecord): Promise<number | undefined> {
    return task.stage === 'queued' ? this.#runs.position(task.taskId) : undefined
  }

  async start(executor: TaskExecutor): Promise<Recovery> {
    this.#executor = executor
    const now = this.#clock()
    this.#register(now)
    this.#queueSeq = this.store.lastQueueSeq()
    this.store.removeExpired(now)
    const recovery = await this.#recover()
    this.#every(this.#leaseMs / 3, () => this.#renewLease())
    this.#every(this.#cancelPollMs, () => this.#stopEndedElsewhere())
    this.#every(this.#leaseMs / 2, () => this.#recover())
    this.#every(3_600_000, () => this.store.removeExpired(this.#clock()))
    return recovery
  }

  pause(): void {
    this.#closing = true
    this.#runs.close()
  }

  async close(): Promise<void> {
    this.pause()
    for (const timer of this.#timers) clearInterval(timer)
    // Inline calls still waiting here cannot be served: their requests close with this process.
    for (const queued of this.store.queuedOf(this.workerId)) {
      const task = this.store.get(queued.taskId)
      if (task?.mode === 'inline')
        await this.#executor?.interrupted(task, 'the server shut down before the call started')
    }
    await this.#delivery?.close()
    // Gone at once: what this process still holds is taken over by the next process to look.
    this.store.unregisterWorker(this.workerId)
    this.store.close()
  }

  /** Owed from the task's end on, so /ping does not flicker to Healthy before the first attempt. */
  #deliveryQueued(): void {
    if (this.#delivery === undefined) return
    this.#health?.setDeliveryOwed(true)
    this.#delivery.wake()
  }

  /**
   * Takes over what stopped processes left: a task that waited is queued here; a task that was
   * running is run again (tools declared `rerun`, up to maxAttempts runs) or ended as failed; an
   * inline call is failed (its request is gone). A task whose tool only another live process
   * offers is left to it; one whose tool no process offers any more is failed.
   */
  async #recover(): Promise<Recovery> {
    const executor = this.#executor
    if (executor === undefined || this.#closing) return { rerun: 0, failed: 0 }
    const now = this.#clock()
    this.store.forgetExpiredWorkers(now)
    // A process of this machine that no longer exists (killed, crashed) holds nothing, lease or not:
    // a restart takes its tasks over at once instead of waiting for the lease to run out.
    const live = this.store.liveWorkers(now).filter((worker) => {
      if (worker.workerId === this.workerId || worker.host !== hostname() || processAlive(worker.pid))
        return true
      this.store.unregisterWorker(worker.workerId)
      this.#logger.log('info', 'a process that held tasks here is gone', {
        workerId: worker.workerId,
        pid: worker.pid,
      })
      return false
    })
    const liveTools = new Set(live.flatMap((worker) => worker.tools))
    let rerun = 0
    let failed = 0
    for (const task of this.store.orphans(now)) {
      const tool = this.#tools.get(task.tool)
      const adopted = { ...task, workerId: this.workerId }
      if (tool === undefined) {
        if (liveTools.has(task.tool)) continue
        if (this.store.adopt(task, this.workerId, 'running')) {
          await executor.interrupted(
            { ...adopted, stage: 'running' },
            `${INTERRUPTED_MESSAGE} (tool no longer exists)`,
          )
          failed += 1
        }
        continue
      }
      if (isEnded(task.status)) {
        // Cancelled while it ran, then its process stopped: nothing runs it any more.
        if (this.store.adopt(task, this.workerId, 'running')) this.store.release(task.taskId, this.workerId)
        continue
      }
      const waited = task.stage === 'queued'
      if (
        task.mode !== 'inline' &&
        (waited || (tool.onRestart === 'rerun' && task.runs < this.#maxAttempts))
      ) {
        const message = waited ? undefined : `${INTERRUPTED_MESSAGE}; queued to run again`
        if (this.store.adopt(task, this.workerId, 'queued', message)) {
          this.#runs.enqueue({ taskId: task.taskId, owner: task.owner, tool: task.tool })
          if (!waited) rerun += 1
          this.#logger.log(
            'info',
            waited ? 'took over a queued task' : 'queued an interrupted task to run again',
            {
              taskId: task.taskId,
              tool: task.tool,
              from: task.workerId,
            },
          )
        }
      } else if (this.store.adopt(task, this.workerId, 'running')) {
        await executor.interrupted({ ...adopted, stage: 'running' }, INTERRUPTED_MESSAGE)
        failed += 1
      }
    }
    this.store.adoptDeliveries(this.workerId, now)
    this.#delivery?.wake()
    return { rerun, failed }
  }

  #renewLease(): void {
    const now = this.#clock()
    if (this.store.renewWorker(this.workerId, now + this.#leaseMs)) return
    // Our row is gone: another process found our lease run out (the event loop was blocked that
    // long) and may have taken our tasks over. Register again and stop what is no longer ours.
    this.#logger.log('warn', 'this process lost its lease; tasks taken over elsewhere are stopped here', {
      workerId: this.workerId,
    })
    this.#register(now)
    for (const taskId of this.#runs.runningIds()) {
      if (this.store.get(taskId)?.workerId !== this.workerId)
        this.#runs.stop(taskId, 'taken over by another process')
    }
  }

  #register(now: number): void {
    this.store.registerWorker({
      workerId: this.workerId,
      pid: process.pid,
      host: hostname(),
      tools: [...this.#tools.keys()],
      startedAt: now,
      leaseExpiresAt: now + this.#leaseMs,
    })
  }

  /** Stops the runs of tasks another process cancelled. */
  #stopEndedElsewhere(): void {
    for (const taskId of this.store.endedWhileRunning(this.workerId)) {
      this.#runs.stop(taskId, 'cancelled')
    }
  }

  #every(intervalMs: number, work: () => unknown): void {
    const timer = setInterval(() => {
      try {
        const result = work()
        if (result instanceof Promise) result.catch((error: unknown) => this.#reportTick(error))
      } catch (error) {
        this.#reportTick(error)
      }
    }, intervalMs)
    timer.unref()
    this.#timers.push(timer)
  }

  #reportTick(error: unknown): void {
    this.#logger.log('warn', 'task backend upkeep failed; will try again', {
      error: error instanceof Error ? error.message : String(error),
    })
  }
}
