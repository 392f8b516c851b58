/**
 * The one policy of a task's life, whichever backend holds it: a start takes a place in a queue
 * and is recorded with its rank; a task handed to this process is claimed and run; its end is
 * recorded with the after-end jobs it owes; a cancel ends it where it stands; a task whose process
 * stopped is run again or failed, as its tool declares. It works over a {@link TaskStore} (records,
 * claims, leases, owed jobs) and {@link TaskQueue}s and an {@link OutboxQueue} (who runs what, and
 * when), which hold no rules of their own: `SqliteTaskBackend` and `RedisTaskBackend` are this
 * policy over SQLite and the local queue, or Redis and BullMQ. The process upkeep (leases, sweeps)
 * is in `task-upkeep.ts`.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { type AfterEndKind, AfterEndJobs } from './after-end-jobs.ts'
import { McpServerError } from './errors.ts'
import { LocalRuns } from './local-runs.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import type { OutboxQueue } from './outbox-queue.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { Recovery, TaskBackend, TaskExecutor } from './task-backend.ts'
import type { Handled, TaskDispatch, TaskQueue } from './task-queue.ts'
import {
  type AfterEndJob,
  isEnded,
  MEMORY_JOB,
  type NewTaskRecord,
  type QueuePlace,
  type TaskEnd,
  type TaskPage,
  type TaskProgress,
  type TaskRecord,
} from './task-record.ts'
import {
  INTERRUPTED_MESSAGE,
  restartOf,
  SHUT_DOWN_BEFORE_START_MESSAGE,
  startMessageOf,
  takeOverOf,
  TOOL_GONE_MESSAGE,
} from './task-restart.ts'
import type { TaskStore, WorkerLease } from './task-store.ts'
import { TaskUpkeep } from './task-upkeep.ts'

/** A process's name in leases and records: host, pid and a random part (pids are reused). */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}

/** Configuration of {@link TaskPolicy}. */
export interface TaskPolicyConfig {
  readonly store: TaskStore
  /** Where background tasks wait. */
  readonly queue: TaskQueue
  /** Where inline calls wait (they run in the process that holds their request); default `queue`. */
  readonly inlineQueue?: TaskQueue | undefined
  readonly outbox: OutboxQueue
  readonly tools: readonly LongRunningTool[]
  /** What an end owes after it (the memory event when results are delivered); none by default. */
  readonly afterEnd?: readonly AfterEndKind[]
  /** This process (see {@link newWorkerId}). */
  readonly workerId: string
  /** A task interrupted after this many runs is failed instead of run again. */
  readonly maxAttempts?: number | undefined
  /** This process's lease: renewed every third of it; others take over only once it runs out. */
  readonly leaseMs?: number | undefined
  readonly clock?: (() => number) | undefined
  readonly logger?: Logger | undefined
}

/** Ends whose store is out of reach are tried again, this often at first, then less. */
const END_RETRY_FIRST_MS = 200
const END_RETRY_MAX_MS = 2000

/** A task's life over a store and queues: the {@link TaskBackend} the runner drives. */
export class TaskPolicy implements TaskBackend {
  readonly workerId: string
  readonly deliversResults: boolean
  readonly #store: TaskStore
  readonly #queue: TaskQueue
  readonly #inlineQueue: TaskQueue
  readonly #outbox: OutboxQueue
  readonly #jobs: AfterEndJobs
  readonly #tools: ReadonlyMap<string, LongRunningTool>
  readonly #maxAttempts: number
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #runs = new LocalRuns()
  readonly #upkeep: TaskUpkeep
  /** Records of tasks given a slot when they were created, for their first run (no read needed). */
  readonly #fresh = new Map<string, TaskRecord>()
  /** Starts under way: a shutdown lets them finish recording before it looks at what waits. */
  readonly #submitting = new Set<Promise<TaskRecord>>()
  #executor: TaskExecutor | undefined
  #closing = false

  constructor(config: TaskPolicyConfig) {
    this.workerId = config.workerId
    this.#store = config.store
    this.#queue = config.queue
    this.#inlineQueue = config.inlineQueue ?? config.queue
    this.#outbox = config.outbox
    this.#tools = new Map(config.tools.map((tool) => [tool.name, tool]))
    this.#maxAttempts = config.maxAttempts ?? MCP_SERVER_DEFAULTS.maxAttempts
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? silentLogger
    this.#jobs = new AfterEndJobs({
      store: config.store,
      kinds: config.afterEnd ?? [],
      clock: this.#clock,
      logger: this.#logger,
      owedNext: (keys) => this.#outbox.add(keys, MCP_SERVER_DEFAULTS.taskTtlMs),
    })
    this.deliversResults = this.#jobs.kinds.includes(MEMORY_JOB)
    this.#upkeep = new TaskUpkeep({
      store: config.store,
      outbox: config.outbox,
      workerId: config.workerId,
      lease: () => this.#lease(),
      leaseMs: config.leaseMs ?? MCP_SERVER_DEFAULTS.leaseMs,
      runs: this.#runs,
      takeOver: (task, servedElsewhere) => this.#takeOver(task, servedElsewhere),
      holds: (task) => this.#queueOf(task).holds(task),
      clock: this.#clock,
      logger: this.#logger,
    })
  }

  /** Tasks waiting in this process's queues. */
  get waiting(): number {
    return this.#queue.waiting + (this.#inlineQueue === this.#queue ? 0 : this.#inlineQueue.waiting)
  }

  /**
   * Takes a place in the task's queue (QUEUE_FULL when there is none, and nothing is stored), then
   * records the task with its rank: its owner's active tasks, itself included, so an actor's k-th
   * active task waits behind everyone's (k-1)-th. A queue that refuses it takes the record back.
   */
  async submit(task: NewTaskRecord): Promise<TaskRecord> {
    if (this.#closing) throw new McpServerError('SHUTTING_DOWN', 'the server is shutting down: retry shortly')
    const submitted = this.#submit(task)
    this.#submitting.add(submitted)
    try {
      return await submitted
    } finally {
      this.#submitting.delete(submitted)
    }
  }

  async #submit(task: NewTaskRecord): Promise<TaskRecord> {
    const ticket = await this.#queueOf(task).reserve(task.tool)
    if (ticket.full === true) {
      throw new McpServerError('QUEUE_FULL', `too many tasks are waiting (${ticket.waiting}): retry later`, {
        retryAfterMs: 5000,
      })
    }
    let placed: Awaited<ReturnType<TaskStore['create']>>
    try {
      placed = await this.#store.create(task, {
        stage: ticket.startsNow ? 'running' : 'queued',
        holder: ticket.holder,
      })
    } catch (error) {
      ticket.release()
      throw error
    }
    const { record, rank } = placed
    if (ticket.startsNow) this.#fresh.set(task.taskId, record)
    try {
      await ticket.place({ taskId: task.taskId, tool: task.tool, rank })
    } catch (error) {
      // Refused: nothing stays (the upkeep takes the record back should this fail too).
      this.#fresh.delete(task.taskId)
      await this.#store.remove(record).catch(() => false)
      throw error
    }
    if (ticket.holder === undefined) await this.#store.confirm(task.taskId).catch(() => {})
    return record
  }

  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    return this.#store.get(taskId, owner)
  }

  async list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage> {
    return this.#store.list(owner, options)
  }

  async saveProgress(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<void> {
    // Found ended meanwhile: cancelled elsewhere (an announcement missed or not yet seen).
    for (const taskId of await this.#store.saveProgress(updates)) this.#runs.stop(taskId, 'cancelled')
  }

  /**
   * The end of a run, by this process, with the jobs it owes. A result is not thrown away because
   * the store is out of reach for a moment: the end is tried again until it lands (or a shutdown).
   */
  async complete(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined> {
    const jobs = this.#jobs.owedBy(task, end)
    for (let wait = END_RETRY_FIRST_MS; ; wait = Math.min(wait * 2, END_RETRY_MAX_MS)) {
      try {
        const ended = await this.#store.end(
          task.taskId,
          end,
          { how: 'complete', workerId: this.workerId },
          jobs,
        )
        // Not recorded: a cancel ended it meanwhile (its run is over now), or another process took it.
        if (ended === undefined) await this.#store.release(task.taskId, this.workerId)
        else await this.#queueJobs(jobs, ended.ttlMs)
        return ended
      } catch (error) {
        if (!(error instanceof McpServerError) || error.code !== 'BACKEND_UNAVAILABLE' || this.#closing)
          throw error
        this.#upkeep.warn(error)
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }

  /**
   * Ends a task from outside its run: queued, it leaves its queue and never runs; running in
   * another process, that process is told to stop it (it stays `running` until it has).
   */
  async cancel(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined> {
    const jobs = this.#jobs.owedBy(task, end)
    const ended = await this.#store.end(task.taskId, end, { how: 'cancel', workerId: this.workerId }, jobs)
    if (ended === undefined) return undefined
    if (ended.stage === 'done')
      await this.#queueOf(task)
        .remove(task)
        .catch(() => {})
    else if (!this.#runs.has(task.taskId)) await this.#store.announceEnd(task.taskId).catch(() => {})
    await this.#queueJobs(jobs, ended.ttlMs)
    return ended
  }

  async queuePosition(task: TaskRecord): Promise<QueuePlace | undefined> {
    return task.stage === 'queued' ? this.#queueOf(task).position(task) : undefined
  }

  /**
   * Registers this process, takes over what stopped processes left (re-run or failed, as each
   * tool declares), then takes work from its queues and owed jobs.
   */
  async start(executor: TaskExecutor): Promise<Recovery> {
    this.#executor = executor
    await this.#outbox.start({ attempt: this.#jobs.attempt, owed: () => this.#jobs.owed() })
    const recovery = await this.#upkeep.begin((taskId) => this.#runs.stop(taskId, 'cancelled'))
    for (const queue of this.#queues()) await queue.start(this.#dispatchOf(queue))
    return recovery
  }

  pause(): void {
    this.#closing = true
    this.#upkeep.pause()
    for (const queue of this.#queues()) queue.pause()
  }

  /**
   * Stops taking work: what waits stays queued for the next start or another process, except the
   * inline calls waiting here (their requests close with this process); what runs is left to be
   * taken over.
   */
  async close(): Promise<void> {
    this.pause()
    this.#upkeep.stop()
    await Promise.allSettled([...this.#submitting])
    for (const taskId of this.#inlineQueue.waitingIds()) {
      const task = await this.#store.get(taskId).catch(() => undefined)
      if (task?.mode === 'inline' && !isEnded(task.status))
        await this.#executor?.interrupted(task, SHUT_DOWN_BEFORE_START_MESSAGE)
    }
    // A wake under way lasts the agent's turn: it gives up, owed still, rather than hold the stop.
    this.#jobs.stop()
    await this.#outbox.close()
    for (const queue of this.#queues()) await queue.close()
    // Gone at once: what this process still holds is taken over by the next process to look.
    await this.#store.removeWorker(this.workerId).catch(() => {})
    await this.#store.close()
  }

  /**
   * What a queue hands this process: a queue that hands tasks out again (BullMQ) may hand over a
   * task in any state, so it is read and judged; this process's own queue holds only tasks that
   * wait here (a takeover already judged them), so those are claimed as they are.
   */
  #dispatchOf(queue: TaskQueue): TaskDispatch {
    return {
      run: (taskId, stop) => (queue.redelivers ? this.#take(taskId, stop) : this.#takeHeld(taskId)),
      abandoned: (taskId) => this.#abandoned(taskId),
    }
  }

  /** A task a shared queue handed to this process: claimed (as the restart rule says) and run. */
  async #take(taskId: string, stop: AbortSignal | undefined): Promise<Handled> {
    const found = await this.#store.get(taskId)
    if (found === undefined || isEnded(found.status)) return 'done'
    const tool = this.#tools.get(found.tool)
    if (tool === undefined) return this.#notServed(found)
    const task = await this.#claimToRun(found, tool)
    if (task === undefined) return 'done'
    await this.#run(task, stop)
    // Left running (a shutdown stopped its tool first, or its end could not be recorded): the
    // queue hands it out again.
    const after = await this.#store.get(taskId).catch(() => undefined)
    return after !== undefined &&
      after.stage === 'running' &&
      !isEnded(after.status) &&
      after.workerId === this.workerId
      ? 'left'
      : 'done'
  }

  /**
   * A task of this process's own queue: its run starts with the status message it waited with
   * (none, or why it runs again). A task left running stays with this process's record, for
   * whoever takes over from it.
   */
  async #takeHeld(taskId: string): Promise<Handled> {
    let task = this.#fresh.get(taskId)
    this.#fresh.delete(taskId)
    if (task === undefined) {
      const claimed = await this.#store.claim(taskId, {
        from: { stage: 'queued', holder: this.workerId },
        holder: this.workerId,
        stage: 'running',
        addRun: true,
        statusMessage: undefined,
        now: this.#clock(),
      })
      // Not waiting any more: cancelled meanwhile.
      if (claimed === undefined) return 'done'
      task = claimed.record
    }
    await this.#run(task, undefined)
    return 'done'
  }

  /** Runs `task` here to its end; `stop` (the queue's) stops it too. */
  async #run(task: TaskRecord, stop: AbortSignal | undefined): Promise<void> {
    const executor = this.#executor
    // Queues hand out nothing before start(): this is for the type checker.
    if (executor === undefined) return
    const { taskId } = task
    if (stop === undefined) {
      await this.#runs.track(taskId, (stopped) => executor.run(task, stopped))
      return
    }
    const onStop = () => this.#runs.stop(taskId, 'stopped by the queue')
    stop.addEventListener('abort', onStop, { once: true })
    try {
      await this.#runs.track(taskId, (stopped) => executor.run(task, stopped))
    } finally {
      stop.removeEventListener('abort', onStop)
    }
  }

  /**
   * Marks a task this process was handed as running here: one that waited starts its run; one
   * found running started before and never ended (its process stopped), so it runs again or ends
   * as failed (the restart rule). Undefined when it is not run here.
   */
  async #claimToRun(task: TaskRecord, tool: LongRunningTool): Promise<TaskRecord | undefined> {
    const interrupted = task.stage === 'running'
    if (interrupted) {
      const restart = restartOf(task, tool, this.#maxAttempts)
      if (restart.rerun === false) {
        await this.#fail(task, restart.reason)
        return undefined
      }
    }
    const claimed = await this.#store.claim(task.taskId, {
      from: { stage: task.stage, holder: task.workerId },
      holder: this.workerId,
      stage: 'running',
      addRun: true,
      statusMessage: startMessageOf(task),
      now: this.#clock(),
    })
    if (claimed !== undefined && interrupted) {
      this.#logger.log('info', 'running an interrupted task again', {
        taskId: task.taskId,
        tool: task.tool,
        from: task.workerId,
      })
    }
    return claimed?.record
  }

  /** Takes over a task a process that is gone held, as the takeover rule says. */
  async #takeOver(
    task: TaskRecord,
    servedElsewhere: ReadonlySet<string>,
  ): Promise<'rerun' | 'failed' | undefined> {
    const takeOver = takeOverOf(task, this.#tools.get(task.tool), servedElsewhere, this.#maxAttempts)
    if (takeOver.action === 'leave') return undefined
    if (takeOver.action === 'release') {
      if (task.workerId !== undefined) await this.#store.release(task.taskId, task.workerId)
      return undefined
    }
    if (takeOver.action === 'fail') return (await this.#fail(task, takeOver.reason)) ? 'failed' : undefined
    const claimed = await this.#store.claim(task.taskId, {
      from: { stage: task.stage, holder: task.workerId },
      holder: this.workerId,
      stage: 'queued',
      addRun: false,
      statusMessage: takeOver.statusMessage,
      now: this.#clock(),
    })
    if (claimed === undefined) return undefined
    await this.#queueOf(task).requeue({
      taskId: task.taskId,
      tool: task.tool,
      rank: claimed.rank,
    })
    this.#logger.log(
      'info',
      takeOver.rerun ? 'queued an interrupted task to run again' : 'took over a queued task',
      {
        taskId: task.taskId,
        tool: task.tool,
        from: task.workerId,
      },
    )
    return takeOver.rerun ? 'rerun' : undefined
  }

  /** A task whose tool is not served here: left for a process that serves it, or failed. */
  async #notServed(task: TaskRecord): Promise<Handled> {
    if ((await this.#upkeep.servedElsewhere()).has(task.tool)) {
      this.#logger.log('warn', 'a queued task names a tool this process does not serve', {
        taskId: task.taskId,
        tool: task.tool,
      })
      return 'elsewhere'
    }
    await this.#fail(task, TOOL_GONE_MESSAGE)
    return 'done'
  }

  /** The queue gave up on a task (it stalled more often than allowed): ended as interrupted. */
  async #abandoned(taskId: string): Promise<void> {
    const task = await this.#store.get(taskId).catch(() => undefined)
    if (task === undefined || isEnded(task.status)) return
    await this.#fail(task, INTERRUPTED_MESSAGE).catch((error: unknown) => this.#upkeep.warn(error))
  }

  /** Takes `task` as it was read and ends it as failed with `reason`; false when it had moved on. */
  async #fail(task: TaskRecord, reason: string): Promise<boolean> {
    const executor = this.#executor
    if (executor === undefined) return false
    const claimed = await this.#store.claim(task.taskId, {
      from: { stage: task.stage, holder: task.workerId },
      holder: this.workerId,
      stage: 'running',
      addRun: false,
      statusMessage: undefined,
      now: this.#clock(),
    })
    if (claimed === undefined) return false
    await executor.interrupted(claimed.record, reason)
    return true
  }

  /** Hands the jobs an end recorded to the outbox (the upkeep finds them should this fail). */
  async #queueJobs(jobs: readonly AfterEndJob[], ttlMs: number): Promise<void> {
    if (jobs.length === 0) return
    await this.#outbox.add(jobs, ttlMs).catch((error: unknown) => this.#upkeep.warn(error))
  }

  #queueOf(task: Pick<TaskRecord, 'mode'>): TaskQueue {
    return task.mode === 'inline' ? this.#inlineQueue : this.#queue
  }

  #queues(): TaskQueue[] {
    return this.#inlineQueue === this.#queue ? [this.#queue] : [this.#queue, this.#inlineQueue]
  }

  #lease(): WorkerLease {
    return {
      workerId: this.workerId,
      pid: process.pid,
      host: hostname(),
      tools: this.#queue.runsTasks ? [...this.#tools.keys()] : [],
      startedAt: this.#clock(),
    }
  }
}
