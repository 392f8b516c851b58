/**
 * The shared dispatch queue of the Redis backend: background tasks as BullMQ jobs (one per task,
 * its priority the task's rank), in one queue for the tools that declare no limit and one per tool
 * that does, taken by the workers of any process with BullMQ's worker concurrency. BullMQ renews
 * each job's lock and hands the job of a worker that died to another (its stalled-job check).
 */
import { DelayedError, type Job, Queue, WaitingError, Worker } from 'bullmq'
import type { LongRunningTool } from './long-running-tool.ts'
import { type OwedJobKeys, owedJobKeysOf } from './queue-depth-metric.ts'
import type { RedisConnection } from './redis-connection.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { QueuedTask, QueueFull, QueueTicket, TaskDispatch, TaskQueue } from './task-queue.ts'
import type { QueuePlace, TaskRecord } from './task-record.ts'

/** Configuration of {@link BullMqTaskQueue}. */
export interface BullMqTaskQueueConfig {
  readonly connection: RedisConnection
  /** Key prefix of BullMQ's keys. */
  readonly prefix: string
  readonly tools: readonly LongRunningTool[]
  /** Take and run jobs in this process (false: a replica that only adds them). */
  readonly runWorker: boolean
  /** Worker concurrency of the shared queue (tools that declare no limit), per process. */
  readonly concurrency?: number | undefined
  /** Jobs that may wait in one queue; a start beyond it finds the queue full. */
  readonly queueLimit?: number | undefined
  /** BullMQ's lock duration; a dead worker's job is handed on within about twice this. */
  readonly leaseMs?: number | undefined
  /** Runs after which a stalled job is failed: more than the policy re-runs, so it decides first. */
  readonly maxAttempts?: number | undefined
  /** A job was queued (a start, a takeover): the queue depth metric publishes soon. */
  readonly onQueued?: (() => void) | undefined
}

/** BullMQ priorities run from 1 to 2,097,151. */
const MAX_PRIORITY = 2_097_151
const SHARED_QUEUE = 'longrun-tasks'
/** A job handed to a process that does not serve its tool waits this long for one that does. */
const ELSEWHERE_DELAY_MS = 5000

/** Background tasks on BullMQ. */
export class BullMqTaskQueue implements TaskQueue {
  readonly runsTasks: boolean
  readonly redelivers = true
  /** Nothing waits in this process: jobs wait in Redis. */
  readonly waiting = 0
  readonly #config: BullMqTaskQueueConfig
  readonly #tools: ReadonlyMap<string, LongRunningTool>
  readonly #queues = new Map<string, Queue>()
  readonly #workers: Worker[] = []

  constructor(config: BullMqTaskQueueConfig) {
    this.#config = config
    this.runsTasks = config.runWorker
    this.#tools = new Map(config.tools.map((tool) => [tool.name, tool]))
  }

  async reserve(tool: string): Promise<QueueTicket | QueueFull> {
    const queue = this.#queueFor(tool)
    const waiting = await this.#config.connection.call(() => queue.count())
    if (waiting >= (this.#config.queueLimit ?? MCP_SERVER_DEFAULTS.queueLimit)) return { full: true, waiting }
    return {
      startsNow: false,
      holder: undefined,
      place: (task) => this.requeue(task),
      release: () => {},
    }
  }

  async requeue(task: QueuedTask): Promise<void> {
    await this.#config.connection.call(() =>
      this.#queueFor(task.tool).add(
        'run',
        { taskId: task.taskId },
        {
          jobId: taskJobId(task.taskId),
          priority: Math.min(Math.max(task.rank, 1), MAX_PRIORITY),
          removeOnComplete: true,
          removeOnFail: true,
        },
      ),
    )
    this.#config.onQueued?.()
  }

  /** Where every queue of these tools keeps its jobs, for the queue depth metric. */
  owedJobKeys(): OwedJobKeys[] {
    const names = new Set([SHARED_QUEUE, ...[...this.#tools.values()].map(queueNameOf)])
    return [...names].map((name) => owedJobKeysOf(this.#config.prefix, name))
  }

  async remove(task: Pick<TaskRecord, 'taskId' | 'tool'>): Promise<void> {
    await this.#config.connection.call(() => this.#queueFor(task.tool).remove(taskJobId(task.taskId)))
  }

  async position(task: Pick<TaskRecord, 'taskId' | 'tool'>): Promise<QueuePlace | undefined> {
    const { commands, call } = this.#redis()
    const queue = this.#queueFor(task.tool)
    const jobId = taskJobId(task.taskId)
    // A waiting job's place is its rank in BullMQ's prioritized set (exact, and O(log n)).
    const score = await call(() => commands.zscore(queue.keys.prioritized as string, jobId))
    if (score !== null) {
      const [ahead, plain] = await call(() =>
        Promise.all([
          commands.zcount(queue.keys.prioritized as string, '-inf', `(${score}`),
          commands.llen(queue.keys.wait as string),
        ]),
      )
      return ahead + plain + 1
    }
    return this.#placeOutsidePriorities(queue, jobId)
  }

  async holds(task: Pick<TaskRecord, 'taskId' | 'tool'>): Promise<boolean> {
    const state = await this.#redis().call(() =>
      this.#queueFor(task.tool).getJobState(taskJobId(task.taskId)),
    )
    return state !== 'unknown'
  }

  waitingIds(): string[] {
    return []
  }

  /** One BullMQ worker per queue this process serves (none for a replica without a worker). */
  async start(dispatch: TaskDispatch): Promise<void> {
    if (!this.#config.runWorker) return
    const connection = this.#config.connection.duplicate()
    const leaseMs = this.#config.leaseMs ?? MCP_SERVER_DEFAULTS.leaseMs
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
        (job, token, signal) => this.#process(dispatch, job, token, signal),
        {
          connection,
          prefix: this.#config.prefix,
          concurrency,
          lockDuration: leaseMs,
          stalledInterval: Math.max(500, leaseMs / 2),
          maxStalledCount: (this.#config.maxAttempts ?? MCP_SERVER_DEFAULTS.maxAttempts) + 1,
          autorun: true,
        },
      )
      worker.on('error', (error) => this.#config.connection.warn(error))
      worker.on('failed', (job) => {
        // Only BullMQ fails a job here (the processor never throws on its own).
        if (job !== undefined) void dispatch.abandoned(job.data.taskId)
      })
      this.#workers.push(worker)
    }
  }

  /** No new jobs; those running finish (their tools are being stopped) and go back to the queue. */
  pause(): void {
    for (const worker of this.#workers) void worker.pause(true).catch(() => {})
  }

  async close(): Promise<void> {
    this.pause()
    await Promise.all(this.#workers.map((worker) => worker.close().catch(() => {})))
    await Promise.all([...this.#queues.values()].map((queue) => queue.close().catch(() => {})))
  }

  async #process(
    dispatch: TaskDispatch,
    job: Job<{ taskId: string }>,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const handled = await dispatch.run(job.data.taskId, signal)
    if (handled === 'left') {
      // Back to the queue at once, for any worker.
      // Still owed: the count the metric publishes is the same (close publishes it at shutdown).
      await job.moveToWait(token)
      throw new WaitingError()
    }
    if (handled === 'elsewhere') {
      await job.moveToDelayed(Date.now() + ELSEWHERE_DELAY_MS, token)
      throw new DelayedError()
    }
  }

  /**
   * The place of a queued task's job that is not in the prioritized set: taken by a worker that has
   * not marked it running yet (`starting`), back in the plain wait list (a stalled job BullMQ put
   * back, taken before every prioritized job), or delayed (waiting for a process serving its tool).
   */
  async #placeOutsidePriorities(queue: Queue, jobId: string): Promise<QueuePlace | undefined> {
    const { commands, call } = this.#redis()
    const state = await call(() => queue.getJobState(jobId))
    if (state === 'active') return 'starting'
    const keys = queue.keys
    if (state === 'waiting') {
      const [index, length] = await call(() =>
        Promise.all([commands.lpos(keys.wait as string, jobId), commands.llen(keys.wait as string)]),
      )
      // Workers take the wait list from its right end.
      return index === null ? undefined : length - index
    }
    if (state === 'delayed') {
      const [prioritized, waiting, ahead] = await call(async () => {
        const score = await commands.zscore(keys.delayed as string, jobId)
        return Promise.all([
          commands.zcard(keys.prioritized as string),
          commands.llen(keys.wait as string),
          score === null ? 0 : commands.zcount(keys.delayed as string, '-inf', `(${score}`),
        ])
      })
      return prioritized + waiting + ahead + 1
    }
    return undefined
  }

  #queueFor(toolName: string): Queue {
    const tool = this.#tools.get(toolName)
    const name = tool === undefined ? SHARED_QUEUE : queueNameOf(tool)
    let queue = this.#queues.get(name)
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.#config.connection.commands, prefix: this.#config.prefix })
      queue.on('error', (error) => this.#config.connection.warn(error))
      this.#queues.set(name, queue)
    }
    return queue
  }

  #redis() {
    const connection = this.#config.connection
    return { commands: connection.commands, call: <T>(work: () => Promise<T>) => connection.call(work) }
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
