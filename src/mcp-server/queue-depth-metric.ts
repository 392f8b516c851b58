/**
 * The queue depth metric of the Redis backend: `TasksOwed`, the work a worker must still do (tasks
 * waiting, delayed and running, and after-end jobs owed: result deliveries, wakes, notices),
 * published by every process to CloudWatch so a worker service can be scaled on it, down to zero
 * when idle and up again from zero (no worker is running then to say there is work: the replica
 * that accepted it must). Each process publishes on an interval, promptly after a task is queued
 * (coalesced), and once more at shutdown, after its running tasks went back to the queue. A publish
 * that fails is logged once per kind of failure and never touches a task.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { QueueKeys } from 'bullmq'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { RedisConnection } from './redis-connection.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'

/** The metric's name and its one dimension (what the scaling policy and the IAM condition name). */
export const TASKS_OWED_METRIC = 'TasksOwed'
const DEPLOYMENT_DIMENSION = 'Deployment'

/** One reading of the queue depth. */
export interface QueueDepthSample {
  readonly tasksOwed: number
  readonly at: Date
}

/** Where readings go (CloudWatch in production; a sink of the test's own in tests). */
export interface QueueDepthSink {
  /** Publishes one reading; rejects when it could not. `signal` aborts a publish that takes too long. */
  publish(sample: QueueDepthSample, signal: AbortSignal): Promise<void>
  close?(): void
}

/** Configuration of {@link CloudWatchQueueDepthSink}. */
export interface CloudWatchQueueDepthSinkConfig {
  /** MCP_QUEUE_METRIC_NAMESPACE: the IAM policy allows PutMetricData in this namespace only. */
  readonly namespace: string
  /** The Deployment dimension's value (default `longrun`). */
  readonly deployment?: string | undefined
  /** A client of the caller's; else one is built from `region` (the SDK's own credential chain). */
  readonly client?: CloudWatchClient | undefined
  readonly region?: string | undefined
}

/**
 * Publishes each reading with PutMetricData: one datum, `TasksOwed` by `Deployment`. The SDK is
 * loaded at the first publish, so a server that publishes nothing (SQLite, no namespace) never
 * loads it.
 */
export class CloudWatchQueueDepthSink implements QueueDepthSink {
  readonly #namespace: string
  readonly #deployment: string
  readonly #region: string
  readonly #ownsClient: boolean
  #client: CloudWatchClient | undefined

  constructor(config: CloudWatchQueueDepthSinkConfig) {
    this.#namespace = config.namespace
    this.#deployment = config.deployment ?? MCP_SERVER_DEFAULTS.queueMetricDeployment
    this.#region = config.region ?? MCP_SERVER_DEFAULTS.region
    this.#ownsClient = config.client === undefined
    this.#client = config.client
  }

  async publish(sample: QueueDepthSample, signal: AbortSignal): Promise<void> {
    const { CloudWatchClient, PutMetricDataCommand } = await import('@aws-sdk/client-cloudwatch')
    this.#client ??= new CloudWatchClient({ region: this.#region })
    await this.#client.send(
      new PutMetricDataCommand({
        Namespace: this.#namespace,
        MetricData: [
          {
            MetricName: TASKS_OWED_METRIC,
            Dimensions: [{ Name: DEPLOYMENT_DIMENSION, Value: this.#deployment }],
            Timestamp: sample.at,
            Value: sample.tasksOwed,
            Unit: 'Count',
          },
        ],
      }),
      { abortSignal: signal },
    )
  }

  close(): void {
    if (this.#ownsClient) this.#client?.destroy()
  }
}

/**
 * The metric as a process's configuration names it (MCP_QUEUE_METRIC_*); without it nothing is
 * published.
 */
export interface QueueDepthMetricSettings {
  readonly namespace: string
  readonly deployment?: string | undefined
  /** How often this process publishes (default 60 s). */
  readonly intervalMs?: number | undefined
  /** CloudWatch's region (the process's AWS_REGION). */
  readonly region?: string | undefined
  /** Where readings go instead of CloudWatch (tests). */
  readonly sink?: QueueDepthSink | undefined
}

/** Configuration of {@link QueueDepthMetric}. */
export interface QueueDepthMetricConfig {
  /** Reads the depth (one Redis round trip: {@link countOwedJobs}). */
  readonly count: () => Promise<number>
  readonly sink: QueueDepthSink
  readonly intervalMs?: number | undefined
  /** Shortest gap between two publishes a {@link QueueDepthMetric.nudge} asks for. */
  readonly coalesceMs?: number | undefined
  /** Longest one publish (its count and its send) may take. */
  readonly timeoutMs?: number | undefined
  readonly clock?: (() => number) | undefined
  readonly logger?: Logger | undefined
}

/** Publishes one process's readings: on an interval, when nudged, and once at close. */
export class QueueDepthMetric {
  readonly #config: QueueDepthMetricConfig
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #coalesceMs: number
  /** Kinds of failure said already (each is said once). */
  readonly #said = new Set<string>()
  #interval: NodeJS.Timeout | undefined
  #pending: NodeJS.Timeout | undefined
  /** Publishes run one after another. */
  #chain: Promise<void> = Promise.resolve()
  #lastStartedAt = Number.NEGATIVE_INFINITY
  #closed = false

  constructor(config: QueueDepthMetricConfig) {
    this.#config = config
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? silentLogger
    this.#coalesceMs = config.coalesceMs ?? MCP_SERVER_DEFAULTS.queueMetricCoalesceMs
  }

  /** Publishes now and every interval (the timer does not keep the process alive). */
  start(): void {
    if (this.#closed || this.#interval !== undefined) return
    const intervalMs = this.#config.intervalMs ?? MCP_SERVER_DEFAULTS.queueMetricIntervalMs
    this.#interval = setInterval(() => this.nudge(), intervalMs)
    this.#interval.unref()
    this.nudge()
  }

  /**
   * A task was queued: publish soon. At once when the last publish began at least the coalescing
   * gap ago, else at the end of the gap; nudges meanwhile are that one publish.
   */
  nudge(): void {
    if (this.#closed || this.#pending !== undefined) return
    const waitMs = Math.max(0, this.#lastStartedAt + this.#coalesceMs - this.#clock())
    this.#pending = setTimeout(() => {
      this.#pending = undefined
      void this.#publish()
    }, waitMs)
    this.#pending.unref()
  }

  /** Waits for the publishes under way, and publishes once more (the depth this process leaves). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#interval)
    clearTimeout(this.#pending)
    this.#pending = undefined
    await this.#publish()
    this.#config.sink.close?.()
  }

  #publish(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#publishOnce())
    return this.#chain
  }

  async #publishOnce(): Promise<void> {
    this.#lastStartedAt = this.#clock()
    const signal = AbortSignal.timeout(this.#config.timeoutMs ?? MCP_SERVER_DEFAULTS.queueMetricTimeoutMs)
    let tasksOwed: number
    try {
      // A Redis that is connected but does not answer would hold the count, and close with it.
      tasksOwed = await abortable(this.#config.count(), signal)
    } catch (error) {
      return this.#failed('count', error)
    }
    try {
      await this.#config.sink.publish({ tasksOwed, at: new Date(this.#clock()) }, signal)
    } catch (error) {
      this.#failed('publish', error)
    }
  }

  /** Says a failure the first time its kind (where, and the error's code or name) happens. */
  #failed(where: 'count' | 'publish', error: unknown): void {
    const code = (error as { code?: unknown } | undefined)?.code
    const kind = `${where}:${typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown'}`
    if (this.#said.has(kind)) return
    this.#said.add(kind)
    this.#logger.log('warn', 'the queue depth metric was not published; tasks are not affected', {
      kind,
      error: error instanceof Error ? error.message : String(error),
    })
  }
}

/** Where one BullMQ queue keeps the jobs still to be done: lists and sorted sets. */
export interface OwedJobKeys {
  readonly lists: readonly string[]
  readonly sortedSets: readonly string[]
}

/**
 * The keys of a BullMQ queue's jobs still to be done: waiting (plain and prioritized), paused,
 * delayed (a retry's backoff, a job waiting for a process serving its tool) and active (running,
 * or taken by a worker that died, until the stalled-job check hands it on). Completed and failed
 * jobs are not owed.
 */
export function owedJobKeysOf(prefix: string, queueName: string): OwedJobKeys {
  const keys = new QueueKeys(prefix).getKeys(queueName) as Record<string, string>
  const key = (type: string) => keys[type] as string
  return {
    lists: [key('wait'), key('paused'), key('active')],
    sortedSets: [key('prioritized'), key('delayed'), key('waiting-children')],
  }
}

/**
 * The jobs still to be done in `queues`, read in one round trip (MULTI: one consistent reading, so a
 * job moving from waiting to active is counted once).
 */
export async function countOwedJobs(
  connection: RedisConnection,
  queues: readonly OwedJobKeys[],
): Promise<number> {
  const multi = connection.commands.multi()
  for (const queue of queues) {
    for (const key of queue.lists) multi.llen(key)
    for (const key of queue.sortedSets) multi.zcard(key)
  }
  const replies = (await connection.call(() => multi.exec())) ?? []
  let total = 0
  for (const [error, value] of replies) {
    if (error !== null) throw error
    total += Number(value)
  }
  return total
}

/** `promise`, or a rejection with the signal's reason once it aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error as Error)
      },
    )
  })
}
