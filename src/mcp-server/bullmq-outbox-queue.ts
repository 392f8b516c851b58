/**
 * The after-end jobs of the Redis backend as BullMQ jobs: one per owed job (its id names the task
 * and the kind, so adding it twice adds it once), kept as long as the task, tried by the workers of
 * any process and retried with the delay each attempt asks for.
 */
import { type Job, Queue, Worker } from 'bullmq'
import type { OutboxDispatch, OutboxQueue } from './outbox-queue.ts'
import { type OwedJobKeys, owedJobKeysOf } from './queue-depth-metric.ts'
import type { RedisConnection } from './redis-connection.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { type JobKey, MEMORY_JOB } from './task-record.ts'

/** Configuration of {@link BullMqOutboxQueue}. */
export interface BullMqOutboxQueueConfig {
  readonly connection: RedisConnection
  /** Key prefix of BullMQ's keys. */
  readonly prefix: string
  /** Make attempts in this process (false: a replica that only adds jobs). */
  readonly runWorker: boolean
  /** Attempts under way at once in this process. */
  readonly concurrency?: number | undefined
  /** BullMQ's lock duration: the job of a worker that died is handed on within about twice this. */
  readonly leaseMs?: number | undefined
  /** Told after jobs were added (the queue depth metric publishes soon: a worker may be needed). */
  readonly onAdded?: (() => void) | undefined
}

const OUTBOX_QUEUE = 'longrun-deliveries'
/** A job is never failed for stalling (its worker died): it is owed until an attempt settles it. */
const NEVER = 1_000_000

/** Raised by an attempt to be retried after `delayMs` (BullMQ's backoff reads it). */
class RetryLater extends Error {
  readonly delayMs: number
  constructor(delayMs: number) {
    super(`retry in ${delayMs} ms`)
    this.name = 'RetryLater'
    this.delayMs = delayMs
  }
}

/** Owed jobs on BullMQ. */
export class BullMqOutboxQueue implements OutboxQueue {
  readonly #config: BullMqOutboxQueueConfig
  #queue: Queue | undefined
  #worker: Worker | undefined
  #dispatch: OutboxDispatch | undefined

  constructor(config: BullMqOutboxQueueConfig) {
    this.#config = config
  }

  async add(keys: readonly JobKey[], ttlMs: number): Promise<void> {
    const queue = this.#jobs()
    const age = Math.ceil(ttlMs / 1000)
    await this.#config.connection.call(() =>
      Promise.all(
        keys.map((key) =>
          queue.add(
            'deliver',
            { taskId: key.taskId, kind: key.kind },
            {
              jobId: jobIdOf(key),
              attempts: NEVER,
              backoff: { type: 'longrun' },
              removeOnComplete: { age },
              removeOnFail: { age },
            },
          ),
        ),
      ),
    )
    this.#config.onAdded?.()
  }

  async start(dispatch: OutboxDispatch): Promise<void> {
    if (!this.#config.runWorker) return
    this.#dispatch = dispatch
    const leaseMs = this.#config.leaseMs ?? MCP_SERVER_DEFAULTS.leaseMs
    const worker = new Worker<{ taskId: string; kind?: string }>(
      OUTBOX_QUEUE,
      async (job: Job<{ taskId: string; kind?: string }>) => {
        // Jobs of earlier versions name no kind: they are memory events.
        const delayMs = await dispatch.attempt({ taskId: job.data.taskId, kind: job.data.kind ?? MEMORY_JOB })
        if (delayMs !== undefined) throw new RetryLater(delayMs)
      },
      {
        connection: this.#config.connection.duplicate(),
        prefix: this.#config.prefix,
        concurrency: this.#config.concurrency ?? MCP_SERVER_DEFAULTS.deliveryConcurrency,
        lockDuration: leaseMs,
        stalledInterval: Math.max(500, leaseMs / 2),
        maxStalledCount: NEVER,
        settings: {
          backoffStrategy: (_attempts, _type, error) => (error instanceof RetryLater ? error.delayMs : 1000),
        },
      },
    )
    worker.on('error', (error) => this.#config.connection.warn(error))
    this.#worker = worker
  }

  /** Where the owed jobs are kept, for the queue depth metric. */
  owedJobKeys(): OwedJobKeys {
    return owedJobKeysOf(this.#config.prefix, OUTBOX_QUEUE)
  }

  /** Owed jobs without a BullMQ job (a crash between the end and its add) are added again. */
  async recover(): Promise<void> {
    const dispatch = this.#dispatch
    if (dispatch === undefined) return
    const queue = this.#jobs()
    for (const key of await dispatch.owed()) {
      const state = await this.#config.connection.call(() => queue.getJobState(jobIdOf(key)))
      if (state === 'unknown') await this.add([key], MCP_SERVER_DEFAULTS.taskTtlMs)
    }
  }

  async close(): Promise<void> {
    await this.#worker?.close().catch(() => {})
    await this.#queue?.close().catch(() => {})
  }

  #jobs(): Queue {
    if (this.#queue === undefined) {
      this.#queue = new Queue(OUTBOX_QUEUE, {
        connection: this.#config.connection.commands,
        prefix: this.#config.prefix,
      })
      this.#queue.on('error', (error) => this.#config.connection.warn(error))
    }
    return this.#queue
  }
}

/** One job per task and kind (the memory event's id is the one earlier versions gave it). */
function jobIdOf(key: JobKey): string {
  return key.kind === MEMORY_JOB ? `delivery.${key.taskId}` : `${key.kind}.${key.taskId}`
}
