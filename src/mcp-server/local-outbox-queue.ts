/**
 * The after-end jobs of one process on SQLite: those its ends recorded (and those it took over from
 * a process that stopped), read from the outbox when they are due, a few at a time. It reports
 * HealthyBusy while it owes any, so the Runtime does not reap a session with undelivered results.
 */
import type { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { Attempt, OutboxDispatch, OutboxQueue } from './outbox-queue.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { OwedJob } from './task-record.ts'

/** The owed jobs one process holds, with their due times (the SQLite outbox's rows of it). */
export interface OutboxSchedule {
  /** Pending jobs held here due by `now`, soonest first. */
  due(now: number, limit: number): Promise<OwedJob[]>
  /** When the next pending job held here is due; undefined when none is owed. */
  nextDueAt(): Promise<number | undefined>
  /** Takes over the pending jobs of processes whose lease ran out; answers how many. */
  adopt(): Promise<number>
}

/** Configuration of {@link LocalOutboxQueue}. */
export interface LocalOutboxQueueConfig {
  readonly schedule: OutboxSchedule
  /** Attempts under way at once. */
  readonly concurrency?: number
  /** How long a pass that failed (an I/O error) waits before it looks again. */
  readonly retryAfterErrorMs?: number
  readonly clock?: () => number
  readonly logger?: Logger
  readonly health?: HealthStatus
}

/** The outbox loop. */
export class LocalOutboxQueue implements OutboxQueue {
  readonly #schedule: OutboxSchedule
  readonly #concurrency: number
  readonly #retryAfterErrorMs: number
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #health: HealthStatus | undefined
  #attempt: Attempt | undefined
  #timer: NodeJS.Timeout | undefined
  #pass: Promise<void> | undefined
  #again = false
  #closed = false

  constructor(config: LocalOutboxQueueConfig) {
    this.#schedule = config.schedule
    this.#concurrency = config.concurrency ?? MCP_SERVER_DEFAULTS.deliveryConcurrency
    this.#retryAfterErrorMs = config.retryAfterErrorMs ?? MCP_SERVER_DEFAULTS.deliveryMaxDelayMs
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? silentLogger
    this.#health = config.health
  }

  /** Owed from the end on, so /ping does not flicker to Healthy before the first attempt. */
  async add(): Promise<void> {
    this.#health?.setDeliveryOwed(true)
    this.#wake()
  }

  async start(dispatch: OutboxDispatch): Promise<void> {
    this.#attempt = dispatch.attempt
    this.#wake()
  }

  async recover(): Promise<void> {
    if ((await this.#schedule.adopt()) > 0) this.#wake()
  }

  /** Stops the loop; what is owed stays in the outbox for the next start or another process. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#pass
  }

  /** Runs a pass now (or right after the one under way). */
  #wake(): void {
    if (this.#closed || this.#attempt === undefined) return
    if (this.#pass !== undefined) {
      this.#again = true
      return
    }
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pass = this.#attemptDue(this.#attempt)
      .then(() => this.#schedule.nextDueAt())
      .then(
        (next) => this.#sleepUntil(next),
        (error: unknown) => {
          // An outbox failure (SQLite I/O error, say) must not crash the server; the jobs stay owed.
          this.#logger.log('error', 'delivery pass failed; will try again', {
            error: error instanceof Error ? error.message : String(error),
          })
          this.#sleepUntil(this.#clock() + this.#retryAfterErrorMs)
        },
      )
      .finally(() => {
        this.#pass = undefined
        if (this.#again) {
          this.#again = false
          this.#wake()
        }
      })
  }

  async #attemptDue(attempt: Attempt): Promise<void> {
    for (;;) {
      if (this.#closed) return
      const due = await this.#schedule.due(this.#clock(), this.#concurrency)
      if (due.length === 0) return
      await Promise.all(due.map((job) => attempt(job, job)))
    }
  }

  #sleepUntil(next: number | undefined): void {
    this.#health?.setDeliveryOwed(next !== undefined)
    if (this.#closed || next === undefined || this.#again) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#wake(), Math.max(0, next - this.#clock()))
    this.#timer.unref()
  }
}
