/**
 * The backend for work that outgrows one process: the task policy over task records on Redis and
 * BullMQ queues. Any replica accepts a call and answers for any task; workers (inside a replica, or
 * `longrun worker` processes on other machines) take background tasks from the queues with BullMQ's
 * worker concurrency, and a task whose worker died is handed by BullMQ's stalled-job check to
 * another, which runs it again or fails it as its tool declares. A cancel sent to any replica
 * reaches the running worker over a Redis channel. Inline calls wait and run in the replica that
 * holds their request. Memory events go out through a queue of their own, one job per task. With
 * a queue depth metric configured, every process publishes the work owed (queue-depth-metric.ts).
 */
import type { HealthStatus } from '../shared/health-status.ts'
import type { Logger } from '../shared/logger.ts'
import { BullMqOutboxQueue } from './bullmq-outbox-queue.ts'
import { BullMqTaskQueue } from './bullmq-task-queue.ts'
import { LocalTaskQueue, localLimits } from './local-task-queue.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import type { AfterEndKind } from './after-end-jobs.ts'
import type { MemoryEventWriter } from './memory-event-writer.ts'
import {
  CloudWatchQueueDepthSink,
  countOwedJobs,
  QueueDepthMetric,
  type QueueDepthMetricSettings,
} from './queue-depth-metric.ts'
import { RedisConnection } from './redis-connection.ts'
import { RedisKeys } from './redis-task-layout.ts'
import { RedisTaskStore } from './redis-task-store.ts'
import { memoryDelivery } from './result-delivery.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { Recovery, TaskExecutor } from './task-backend.ts'
import { newWorkerId, TaskPolicy } from './task-policy.ts'

/** Configuration of {@link RedisTaskBackend}. */
export interface RedisTaskBackendConfig {
  /** REDIS_URL: `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  readonly url: string
  /** Redis AUTH's password (REDIS_PASSWORD, or the secret REDIS_PASSWORD_SECRET_ARN names). */
  readonly password?: string
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
  /** BullMQ's lock duration and this process's lease; a dead worker's task is taken back within about twice this. */
  readonly leaseMs?: number
  /** Writes results into memory; without it nothing is delivered. */
  readonly writer?: MemoryEventWriter
  /** Jobs an end owes beyond the memory event (a wake, a notice), each attempted after it. */
  readonly followUps?: readonly AfterEndKind[]
  /** Key prefix of everything this backend stores (default `longrun`). */
  readonly prefix?: string
  /** How long connect() waits for Redis before it gives up (default 5 s). */
  readonly connectTimeoutMs?: number
  /** Not used by this backend: /ping reports deliveries owed on SQLite only. */
  readonly health?: HealthStatus
  readonly logger?: Logger
  /** This process's name (default host:pid:random). */
  readonly workerId?: string
  /** Publish the work owed (MCP_QUEUE_METRIC_*) for a worker service to scale on; unset: not published. */
  readonly queueDepthMetric?: QueueDepthMetricSettings
}

/** Tasks on Redis and BullMQ. */
export class RedisTaskBackend extends TaskPolicy {
  readonly #connection: RedisConnection
  readonly #tasksOwed: () => Promise<number>
  readonly #metric: QueueDepthMetric | undefined

  private constructor(config: RedisTaskBackendConfig, connection: RedisConnection) {
    const workerId = config.workerId ?? newWorkerId()
    const prefix = config.prefix ?? MCP_SERVER_DEFAULTS.redisPrefix
    const bullPrefix = `${prefix}-bull`
    const runWorker = config.runWorker ?? true
    const leaseMs = config.leaseMs ?? MCP_SERVER_DEFAULTS.leaseMs
    // Both queues count in the metric, and both nudge it when they take work: each refers to the other.
    const tasksOwed = () => countOwedJobs(connection, [...queue.owedJobKeys(), outbox.owedJobKeys()])
    const settings = config.queueDepthMetric
    const metric =
      settings === undefined
        ? undefined
        : new QueueDepthMetric({
            count: tasksOwed,
            sink: settings.sink ?? new CloudWatchQueueDepthSink(settings),
            intervalMs: settings.intervalMs,
            logger: config.logger,
          })
    const queue = new BullMqTaskQueue({
      connection,
      prefix: bullPrefix,
      tools: config.tools,
      runWorker,
      concurrency: config.concurrency,
      queueLimit: config.queueLimit,
      leaseMs,
      maxAttempts: config.maxAttempts,
      onQueued: () => metric?.nudge(),
    })
    const outbox = new BullMqOutboxQueue({
      connection,
      prefix: bullPrefix,
      runWorker: runWorker && config.writer !== undefined,
      leaseMs,
      onAdded: () => metric?.nudge(),
    })
    super({
      store: new RedisTaskStore({ connection, keys: new RedisKeys(prefix) }),
      queue,
      // Inline calls run where their request is, within this process's own slots.
      inlineQueue: new LocalTaskQueue({ ...localLimits(config), workerId }),
      outbox,
      tools: config.tools,
      afterEnd:
        config.writer === undefined ? [] : [memoryDelivery(config.writer), ...(config.followUps ?? [])],
      workerId,
      maxAttempts: config.maxAttempts,
      leaseMs,
      logger: config.logger,
    })
    this.#connection = connection
    this.#tasksOwed = tasksOwed
    this.#metric = metric
  }

  /**
   * The work a worker must still do, of every process: background tasks waiting, delayed and
   * running, and after-end jobs owed (memory events, wakes, notices). One Redis round trip.
   */
  async tasksOwed(): Promise<number> {
    return this.#tasksOwed()
  }

  /**
   * Connects to Redis (waiting at most `connectTimeoutMs`); an unreachable Redis is a clear error
   * naming REDIS_URL, and nothing else starts.
   */
  static async connect(config: RedisTaskBackendConfig): Promise<RedisTaskBackend> {
    const connection = await RedisConnection.open(config)
    return new RedisTaskBackend(config, connection)
  }

  /** Takes work as the policy does; the metric publishes from now on. */
  override async start(executor: TaskExecutor): Promise<Recovery> {
    const recovery = await super.start(executor)
    this.#metric?.start()
    return recovery
  }

  /**
   * Stops as the policy does (this process's running tasks go back to the queue), then publishes
   * the depth it leaves: a worker stopped mid-task says its task is owed still.
   */
  override async close(): Promise<void> {
    try {
      await super.close()
    } finally {
      await this.#metric?.close()
      this.#connection.close()
    }
  }
}
