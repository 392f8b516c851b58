/**
 * The backend for work that outgrows one process: task records on Redis, background tasks on
 * BullMQ queues. Any replica accepts a call and answers for any task; workers (inside a replica,
 * or `longrun worker` processes on other machines) take background tasks from the queues with
 * BullMQ's worker concurrency, renew their locks, and a task whose worker died is found by
 * BullMQ's stalled-job check and run again or failed, as its tool declares. A cancel sent to any
 * replica reaches the running worker over a Redis channel. Inline calls run in the replica that
 * holds their request. Memory events go out through their own queue, one job per task.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { DelayedError, type Job, Queue, Worker, WaitingError } from 'bullmq'
import { Redis } from 'ioredis'
import type { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { McpServerError } from './errors.ts'
import { LocalRuns, localLimits } from './local-runs.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import type { MemoryEventWriter } from './memory-event-writer.ts'
import { backendUnavailable, RedisKeys, RedisTaskStore } from './redis-task-store.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { INTERRUPTED_MESSAGE } from './sqlite-task-backend.ts'
import type { Recovery, TaskBackend, TaskExecutor } from './task-backend.ts'
import {
  isEnded,
  type NewTaskRecord,
  type OutboxEntry,
  type QueuePlace,
  type TaskEnd,
  type TaskPage,
  type TaskProgress,
  type TaskRecord,
} from './task-record.ts'

/** Configuration of {@link RedisTaskBackend}. */
export interface RedisTaskBackendConfig {
  /** REDIS_URL: `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  readonly url: string
  readonly tools: readonly LongRunningTool[]
  /**
   * Run background tasks and deliver results in this process (default true). False: a stateless
   * replica that only accepts calls and answers for tasks; `longrun worker` processes run them.
   */
  readonly runWorker?: boolean
  /** BullMQ worker concurrency of the shared queue (tools that declare no limit), per process. */
  readonly concurrency?: number
  /** Jobs that may wait in one queue; a start beyond it is refused with QUEUE_FULL. */
  readonly queueLimit?: number
  /** A running task interrupted after this many runs is failed instead of run again. */
  readonly maxAttempts?: number
  /** BullMQ's lock duration; a dead worker's task is taken back within about twice this. */
  readonly leaseMs?: number
  /** Writes results into memory; without it nothing is delivered. */
  readonly writer?: MemoryEventWriter
  /** Key prefix of everything this backend stores (default `longrun`). */
  readonly prefix?: string
  /** How long start() waits for Redis before it gives up (default 5 s). */
  readonly connectTimeoutMs?: number
  readonly health?: HealthStatus
  readonly logger?: Logger
  /** This process's name (default host:pid:random). */
  readonly workerId?: string
}

/** Raised by a delivery attempt to be retried after `delayMs` (BullMQ's backoff reads it). */
class RetryLater extends Error {
  readonly delayMs: number
  constructor(delayMs: number, message: string) {
    super(message)
    this.name = 'RetryLater'
    this.delayMs = delayMs
  }
}

/** BullMQ priorities run from 1 to 2,097,151. */
const MAX_PRIORITY = 2_097_151
const SHARED_QUEUE = 'longrun-tasks'
const DELIVERY_QUEUE = 'longrun-deliveries'
/** A submitted task whose job is not confirmed after this long is checked by the sweep. */
const CONFIRM_AFTER_MS = 30_000

/** Tasks on Redis and BullMQ. */
export class RedisTaskBackend implements TaskBackend {
  readonly workerId: string
  readonly store: RedisTaskStore
  readonly deliversResults: boolean
  readonly #config: RedisTaskBackendConfig
  readonly #where: string
  readonly #commands: Redis
  readonly #tools: Map<string, LongRunningTool>
  /** Inline calls, which run in the replica that holds their request, and every run here. */
  readonly #runs: LocalRuns
  readonly #queues = new Map<string, Queue>()
  readonly #workers: Worker[] = []
  readonly #timers: NodeJS.Timeout[] = []
  readonly #maxAttempts: number
  readonly #leaseMs: number
  readonly #logger: Logger
  #deliveries: Queue | undefined
  #subscriber: Redis | undefined
  #workerConnection: Redis | undefined
  #executor: TaskExecutor | undefined
  #closing = false
  #lastConnectionWarning = 0

  private constructor(config: RedisTaskBackendConfig, commands: Redis, where: string) {
    this.#config = config
    this.#commands = commands
    this.#where = where
    this.workerId = config.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
    this.store = new RedisTaskStore(
      commands,
      new RedisKeys(config.prefix ?? MCP_SERVER_DEFAULTS.redisPrefix),
      where,
    )
    this.deliversResults = config.writer !== undefined
    this.#tools = new Map(config.tools.map((tool) => [tool.name, tool]))
    this.#maxAttempts = config.maxAttempts ?? MCP_SERVER_DEFAULTS.maxAttempts
    this.#leaseMs = config.leaseMs ?? MCP_SERVER_DEFAULTS.leaseMs
    this.#logger = config.logger ?? silentLogger
    this.#runs = new LocalRuns({
      ...localLimits(config),
      claim: async (taskId) =>
        (await this.store.claim(taskId, this.workerId, { expectStage: 'queued', addRuns: 1 }))
          ? this.store.get(taskId)
          : undefined,
      execute: async (task, stopped) => this.#executor?.run(task, stopped),
    })
  }

  /**
   * Connects to Redis (waiting at most `connectTimeoutMs`); an unreachable Redis is a clear error
   * naming REDIS_URL, and nothing else starts.
   */
  static async connect(config: RedisTaskBackendConfig): Promise<RedisTaskBackend> {
    const where = `REDIS_URL=${redacted(config.url)}`
    const timeoutMs = config.connectTimeoutMs ?? MCP_SERVER_DEFAULTS.redisConnectTimeoutMs
    const commands = new Redis(config.url, {
      lazyConnect: true,
      // Calls from requests fail at once while Redis is away, so a caller hears it and retries.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    })
    commands.on('error', () => {})
    try {
      await Promise.race([
        commands.connect(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
        ),
      ])
      await commands.ping()
    } catch (error) {
      commands.disconnect()
      const reason = error instanceof Error ? error.message : String(error)
      throw new McpServerError('BACKEND_UNAVAILABLE', `cannot reach Redis at ${where}: ${reason}`, {
        cause: error,
      })
    }
    return new RedisTaskBackend(config, commands, where)
  }

  /** Inline calls waiting in this process. */
  get waiting(): number {
    return this.#runs.waiting
  }

  async submit(task: NewTaskRecord): Promise<TaskRecord> {
    if (this.#closing) throw new McpServerError('SHUTTING_DOWN', 'the server is shutting down: retry shortly')
    if (task.mode === 'inline') {
      return this.#runs.submit(task, async (stage) => {
        const submitted = await this.store.submit(task, { stage, workerId: this.workerId })
        return submitted.record
      })
    }
    const queue = this.#queueFor(task.tool)
    const waiting = await this.#call(() => queue.count())
    const limit = this.#config.queueLimit ?? MCP_SERVER_DEFAULTS.queueLimit
    if (waiting >= limit) {
      throw new McpServerError('QUEUE_FULL', `too many tasks are waiting (${waiting}): retry later`, {
        retryAfterMs: 5000,
      })
    }
    const { record, rank } = await this.store.submit(task, { stage: 'queued', workerId: undefined })
    try {
      // The owner's rank is the priority: an actor's k-th active task waits behind everyone's (k-1)-th.
      await queue.add(
        'run',
        { taskId: task.taskId },
        {
          jobId: taskJobId(task.taskId),
          priority: Math.min(Math.max(rank, 1), MAX_PRIORITY),
          removeOnComplete: true,
          removeOnFail: true,
        },
      )
    } catch (error) {
      // Refused: nothing stays (the sweep takes the record back should this fail too).
      await this.store.unsubmit(record).catch(() => {})
      throw backendUnavailable(error, this.#where)
    }
    await this.store.submitted(task.taskId).catch(() => {})
    return record
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
    // Tasks found ended meanwhile were cancelled elsewhere (a missed announcement): stop them here.
    for (const taskId of await this.store.saveProgress(updates)) this.#runs.stop(taskId, 'cancelled')
  }

  async complete(
    task: TaskRecord,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
  ): Promise<TaskRecord | undefined> {
    // A result is not thrown away because Redis is away for a moment: the end is retried until it lands.
    for (let wait = 200; ; wait = Math.min(wait * 2, 2000)) {
      try {
        const ended = await this.store.end('complete', task.taskId, end, delivery, this.workerId, task.ttlMs)
        if (ended !== undefined && delivery !== undefined) await this.#queueDelivery(task.taskId, task.ttlMs)
        return ended
      } catch (error) {
        if (!(error instanceof McpServerError) || error.code !== 'BACKEND_UNAVAILABLE' || this.#closing)
          throw error
        this.#warnConnection(error)
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }

  async cancel(
    task: TaskRecord,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
  ): Promise<TaskRecord | undefined> {
    const ended = await this.store.end('cancel', task.taskId, end, delivery, this.workerId, task.ttlMs)
    if (ended === undefined) return undefined
    if (task.mode === 'inline') this.#runs.remove(task.taskId)
    else if (ended.stage === 'done') {
      // It never ran: its job goes too (a worker taking it meanwhile finds it ended and skips it).
      await this.#queueFor(task.tool)
        .remove(taskJobId(task.taskId))
        .catch(() => 0)
    } else await this.store.announceCancel(task.taskId)
    if (delivery !== undefined) await this.#queueDelivery(task.taskId, task.ttlMs).catch(() => {})
    return ended
  }

  async queuePosition(task: TaskRecord): Promise<QueuePlace | undefined> {
    if (task.stage !== 'queued') return undefined
    if (task.mode === 'inline') return this.#runs.position(task.taskId)
    const queue = this.#queueFor(task.tool)
    const jobId = taskJobId(task.taskId)
    // A waiting job's place is its rank in BullMQ's prioritized set (exact, and O(log n)).
    const score = await this.#call(() => this.#commands.zscore(queue.keys.prioritized as string, jobId))
    if (score !== null) {
      const [ahead, plain] = await this.#call(() =>
        Promise.all([
          this.#commands.zcount(queue.keys.prioritized as string, '-inf', `(${score}`),
          this.#commands.llen(queue.keys.wait as string),
        ]),
      )
      return ahead + plain + 1
    }
    return this.#placeOutsidePriorities(queue, jobId)
  }

  /**
   * The place of a queued task's job that is not in the prioritized set: taken by a worker that has
   * not marked it running yet (`starting`), back in the plain wait list (a stalled job BullMQ put
   * back, taken before every prioritized job), or delayed (waiting for a process serving its tool).
   */
  async #placeOutsidePriorities(queue: Queue, jobId: string): Promise<QueuePlace | undefined> {
    const state = await this.#call(() => queue.getJobState(jobId))
    if (state === 'active') return 'starting'
    const keys = queue.keys
    if (state === 'waiting') {
      const [index, length] = await this.#call(() =>
        Promise.all([
          this.#commands.lpos(keys.wait as string, jobId),
          this.#commands.llen(keys.wait as string),
        ]),
      )
      // Workers take the wait list from its right end.
      return index === null ? undefined : length - index
    }
    if (state === 'delayed') {
      const [prioritized, waiting, ahead] = await this.#call(async () => {
        const score = await this.#commands.zscore(keys.delayed as string, jobId)
        return Promise.all([
          this.#commands.zcard(keys.prioritized as string),
          this.#commands.llen(keys.wait as string),
          score === null ? 0 : this.#commands.zcount(keys.delayed as string, '-inf', `(${score}`),
        ])
      })
      return prioritized + waiting + ahead + 1
    }
    return undefined
  }

  async start(executor: TaskExecutor): Promise<Recovery> {
    this.#executor = executor
    await this.store.renewWorker(this.workerId, this.#leaseMs)
    this.#subscriber = this.#commands.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
    this.#subscriber.on('error', (error: Error) => this.#warnConnection(error))
    this.#subscriber.on('message', (_channel: string, taskId: string) => {
      this.#runs.stop(taskId, 'cancelled')
    })
    await this.#subscriber.subscribe(this.store.keys.cancelChannel)
    if (this.#config.runWorker ?? true) this.#startWorkers()
    this.#every(this.#leaseMs / 3, () => this.store.renewWorker(this.workerId, this.#leaseMs))
    this.#every(this.#leaseMs / 2, () => this.#sweep())
    return { rerun: 0, failed: 0 }
  }

  pause(): void {
    this.#closing = true
    this.#runs.close()
    // No new jobs; those running finish (their tools are being stopped) and go back to the queue.
    for (const worker of this.#workers) void worker.pause(true).catch(() => {})
  }

  async close(): Promise<void> {
    this.pause()
    for (const timer of this.#timers) clearInterval(timer)
    await Promise.all(this.#workers.map((worker) => worker.close().catch(() => {})))
    await Promise.all(
      [...this.#queues.values(), ...(this.#deliveries ? [this.#deliveries] : [])].map((queue) =>
        queue.close().catch(() => {}),
      ),
    )
    await this.store.removeWorker(this.workerId).catch(() => {})
    this.#subscriber?.disconnect()
    this.#workerConnection?.disconnect()
    this.#commands.disconnect()
  }

  /** One BullMQ worker per queue this process serves, and the delivery worker. */
  #startWorkers(): void {
    const connection = this.#commands.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
    connection.on('error', (error: Error) => this.#warnConnection(error))
    this.#workerConnection = connection
    const prefix = this.#bullPrefix()
    const pools = new Map<string, number>()
    for (const tool of this.#tools.values()) {
      pools.set(
        queueNameOf(tool),
        tool.concurrency ?? this.#config.concurrency ?? MCP_SERVER_DEFAULTS.taskConcurrency,
      )
    }
    for (const [name, concurrency] of pools) {
      const worker = new Worker<{ taskId: string }>(
        name,
        (job, token, signal) => this.#process(job, token, signal),
        {
          connection,
          prefix,
          concurrency,
          lockDuration: this.#leaseMs,
          stalledInterval: Math.max(500, this.#leaseMs / 2),
          // The processor decides a re-run (as the tool declares); BullMQ never fails a stalled task first.
          maxStalledCount: this.#maxAttempts + 1,
          autorun: true,
        },
      )
      worker.on('error', (error) => this.#warnConnection(error))
      worker.on('failed', (job) => {
        // Only BullMQ fails a job here (the processor never throws): end the task as interrupted.
        if (job !== undefined) void this.#failInterrupted(job.data.taskId)
      })
      this.#workers.push(worker)
    }
    const writer = this.#config.writer
    if (writer === undefined) return
    const deliveries = new Worker<{ taskId: string }>(
      DELIVERY_QUEUE,
      (job) => this.#deliver(job.data.taskId, writer),
      {
        connection,
        prefix,
        concurrency: MCP_SERVER_DEFAULTS.deliveryConcurrency,
        settings: {
          backoffStrategy: (_attempts, _type, error) => (error instanceof RetryLater ? error.delayMs : 1000),
        },
      },
    )
    deliveries.on('error', (error) => this.#warnConnection(error))
    this.#workers.push(deliveries)
  }

  /** A background task's job: run it, run it again after an interruption, or end it as interrupted. */
  async #process(
    job: Job<{ taskId: string }>,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const executor = this.#executor
    const task = await this.store.get(job.data.taskId)
    if (executor === undefined || task === undefined || isEnded(task.status)) return
    const tool = this.#tools.get(task.tool)
    if (tool === undefined) {
      // Every replica and worker on one Redis should serve the same tools; leave it for one that does.
      this.#logger.log('warn', 'a queued task names a tool this process does not serve', {
        taskId: task.taskId,
        tool: task.tool,
      })
      await job.moveToDelayed(Date.now() + 5000, token)
      throw new DelayedError()
    }
    // Running already: a run started and never ended (its worker died, or a shutdown stopped it).
    if (task.stage === 'running') {
      const again = tool.onRestart === 'rerun' && task.runs < this.#maxAttempts
      if (!again) {
        if (await this.store.claim(task.taskId, this.workerId, { expectStage: 'running', addRuns: 0 })) {
          await executor.interrupted({ ...task, workerId: this.workerId }, INTERRUPTED_MESSAGE)
        }
        return
      }
      const message = `${INTERRUPTED_MESSAGE}; running again`
      if (
        !(await this.store.claim(task.taskId, this.workerId, {
          expectStage: 'running',
          addRuns: 1,
          statusMessage: message,
        }))
      )
        return
      this.#logger.log('info', 'running an interrupted task again', {
        taskId: task.taskId,
        tool: task.tool,
        from: task.workerId,
      })
    } else if (!(await this.store.claim(task.taskId, this.workerId, { expectStage: 'queued', addRuns: 1 })))
      return
    const claimed = await this.store.get(task.taskId)
    if (claimed === undefined) return
    const stopByBullmq = () => this.#runs.stop(task.taskId, 'stopped by the queue')
    signal?.addEventListener('abort', stopByBullmq, { once: true })
    try {
      await this.#runs.track(claimed, async (stopped) => executor.run(claimed, stopped))
    } finally {
      signal?.removeEventListener('abort', stopByBullmq)
    }
    // Left running (a shutdown stopped the tool first): back to the queue at once, for any worker.
    const after = await this.store.get(task.taskId).catch(() => undefined)
    if (
      after !== undefined &&
      after.stage === 'running' &&
      !isEnded(after.status) &&
      after.workerId === this.workerId
    ) {
      await job.moveToWait(token)
      throw new WaitingError()
    }
  }

  /** One attempt at a task's memory event; BullMQ retries with the writer's backoff. */
  async #deliver(taskId: string, writer: MemoryEventWriter): Promise<void> {
    const owed = await this.store.outboxEntry(taskId)
    // Delivered or given up already (by this job's earlier attempt or a duplicate): exactly once.
    if (owed === undefined || owed.delivery.state !== 'pending') return
    const attempts = owed.delivery.attempts + 1
    const outcome = await writer.write({ ...owed.entry, attempts: owed.delivery.attempts })
    switch (outcome.kind) {
      case 'delivered':
        return this.store.setDelivery(taskId, { state: 'delivered', attempts, lastError: undefined })
      case 'failed':
        return this.store.setDelivery(taskId, { state: 'failed', attempts, lastError: outcome.error })
      case 'fallback':
        await this.store.setDelivery(
          taskId,
          { state: 'pending', attempts, lastError: outcome.error },
          { ...owed.entry, text: outcome.text },
        )
        throw new RetryLater(0, outcome.error)
      case 'retry':
        await this.store.setDelivery(taskId, { state: 'pending', attempts, lastError: outcome.error })
        throw new RetryLater(outcome.delayMs, outcome.error)
    }
  }

  async #queueDelivery(taskId: string, ttlMs: number): Promise<void> {
    if (!this.deliversResults) return
    // One job per task (its id is the task's, kept as long as the task): a second add is a no-op.
    await this.#deliveryQueue().add(
      'deliver',
      { taskId },
      {
        jobId: deliveryJobId(taskId),
        attempts: 1_000_000,
        backoff: { type: 'longrun' },
        removeOnComplete: { age: Math.ceil(ttlMs / 1000) },
        removeOnFail: { age: Math.ceil(ttlMs / 1000) },
      },
    )
  }

  /**
   * What no single request can see: submits whose job never came (taken back), owed memory events
   * without a job (queued again), inline calls of processes that are gone (failed).
   */
  async #sweep(): Promise<void> {
    const executor = this.#executor
    if (executor === undefined || this.#closing) return
    for (const taskId of await this.store.unconfirmed(Date.now() - CONFIRM_AFTER_MS)) {
      const task = await this.store.get(taskId)
      if (task === undefined) {
        await this.store.submitted(taskId)
        continue
      }
      const state = await this.#queueFor(task.tool).getJobState(taskJobId(taskId))
      if (state === 'unknown' && (await this.store.unsubmit(task))) {
        this.#logger.log('warn', 'took back a task whose start was never confirmed', { taskId })
      } else await this.store.submitted(taskId)
    }
    if (this.deliversResults && (this.#config.runWorker ?? true)) {
      for (const taskId of await this.store.owed()) {
        const owed = await this.store.outboxEntry(taskId)
        if (owed === undefined || owed.delivery.state !== 'pending') continue
        if ((await this.#deliveryQueue().getJobState(deliveryJobId(taskId))) === 'unknown') {
          const task = await this.store.get(taskId)
          await this.#queueDelivery(taskId, task?.ttlMs ?? MCP_SERVER_DEFAULTS.taskTtlMs)
        }
      }
    }
    for (const taskId of await this.store.inlineTasks()) {
      const task = await this.store.get(taskId)
      if (task === undefined || isEnded(task.status)) {
        await this.store.forgetInline(taskId)
        continue
      }
      if (task.workerId === undefined || task.workerId === this.workerId) continue
      if (await this.store.workerAlive(task.workerId)) continue
      if (await this.store.claim(taskId, this.workerId, { expectStage: task.stage, addRuns: 0 })) {
        await executor.interrupted(
          { ...task, workerId: this.workerId, stage: 'running' },
          INTERRUPTED_MESSAGE,
        )
      }
    }
  }

  /** A job BullMQ failed (a task that stalled more often than allowed): ended as interrupted. */
  async #failInterrupted(taskId: string): Promise<void> {
    const task = await this.store.get(taskId).catch(() => undefined)
    if (task === undefined || isEnded(task.status) || this.#executor === undefined) return
    if (
      await this.store
        .claim(taskId, this.workerId, { expectStage: task.stage, addRuns: 0 })
        .catch(() => false)
    ) {
      await this.#executor.interrupted(
        { ...task, workerId: this.workerId, stage: 'running' },
        INTERRUPTED_MESSAGE,
      )
    }
  }

  #queueFor(toolName: string): Queue {
    const tool = this.#tools.get(toolName)
    const name = tool === undefined ? SHARED_QUEUE : queueNameOf(tool)
    let queue = this.#queues.get(name)
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.#commands, prefix: this.#bullPrefix() })
      queue.on('error', (error) => this.#warnConnection(error))
      this.#queues.set(name, queue)
    }
    return queue
  }

  #deliveryQueue(): Queue {
    if (this.#deliveries === undefined) {
      this.#deliveries = new Queue(DELIVERY_QUEUE, { connection: this.#commands, prefix: this.#bullPrefix() })
      this.#deliveries.on('error', (error) => this.#warnConnection(error))
    }
    return this.#deliveries
  }

  #bullPrefix(): string {
    return `${this.#config.prefix ?? MCP_SERVER_DEFAULTS.redisPrefix}-bull`
  }

  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw backendUnavailable(error, this.#where)
    }
  }

  /** Connection trouble, said at most every 10 s (ioredis reports every reconnect attempt). */
  #warnConnection(error: unknown): void {
    const now = Date.now()
    if (now - this.#lastConnectionWarning < 10_000) return
    this.#lastConnectionWarning = now
    this.#logger.log('warn', 'Redis connection trouble; calls fail until it is back, work resumes then', {
      redis: this.#where,
      error: error instanceof Error ? error.message : String(error),
    })
  }

  #every(intervalMs: number, work: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      work().catch((error: unknown) => this.#warnConnection(error))
    }, intervalMs)
    timer.unref()
    this.#timers.push(timer)
  }
}

/** The queue of a tool: its own when it declares a limit, else the shared one. */
function queueNameOf(tool: LongRunningTool): string {
  return tool.concurrency === undefined ? SHARED_QUEUE : `${SHARED_QUEUE}-${tool.name}`
}

/** BullMQ job ids must not look like integers: a prefix keeps any task id safe. */
function taskJobId(taskId: string): string {
  return `task.${taskId}`
}

function deliveryJobId(taskId: string): string {
  return `delivery.${taskId}`
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(not a URL)'
  }
}
