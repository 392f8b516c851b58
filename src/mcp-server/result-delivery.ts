/**
 * The SQLite backend's delivery loop: each ended task's outbox row becomes one USER event in the
 * caller's session, retried with backoff until the service acknowledges it. A process delivers the
 * rows it owns (the tasks it ended); rows of a process that is gone are taken over by another.
 */
import type { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { MemoryEventWriter } from './memory-event-writer.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { PendingDelivery } from './task-record.ts'

/** The memory events one process still owes, with their retry schedule. */
export interface Outbox {
  due(now: number, limit: number): PendingDelivery[]
  /** When the next undelivered row is due, or undefined when nothing is owed. */
  nextDueAt(): number | undefined
  acknowledge(taskId: string, now: number): void
  retryLater(taskId: string, nextAttemptAt: number, error: string): void
  /** Replaces the text of a pending row (a smaller fallback after the service refused the first) and counts the attempt. */
  replaceText(taskId: string, text: string, error: string): void
  /** Stops retrying a row the service will never accept (kept, with its error, for inspection). */
  giveUp(taskId: string, error: string): void
}

/** Configuration of {@link ResultDelivery}. */
export interface ResultDeliveryConfig {
  readonly outbox: Outbox
  readonly writer: MemoryEventWriter
  /** Deliveries sent at once. */
  readonly concurrency?: number
  readonly clock?: () => number
  readonly logger?: Logger
  /** Reported HealthyBusy while events are owed (pending rows in the outbox). */
  readonly health?: HealthStatus
}

/** The outbox delivery loop. */
export class ResultDelivery {
  readonly #outbox: Outbox
  readonly #writer: MemoryEventWriter
  readonly #concurrency: number
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #health: HealthStatus | undefined
  #timer: NodeJS.Timeout | undefined
  #pass: Promise<void> | undefined
  #again = false
  #closed = false

  constructor(config: ResultDeliveryConfig) {
    this.#outbox = config.outbox
    this.#writer = config.writer
    this.#concurrency = config.concurrency ?? MCP_SERVER_DEFAULTS.deliveryConcurrency
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? silentLogger
    this.#health = config.health
  }

  /** Runs a delivery pass now (after a task end queued an event, or at start for leftovers). */
  wake(): void {
    if (this.#closed) return
    if (this.#pass !== undefined) {
      this.#again = true
      return
    }
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pass = this.#deliverDue()
      .catch((error: unknown) => {
        // An outbox failure (SQLite I/O error, say) must not crash the server; the rows stay owed.
        this.#logger.log('error', 'delivery pass failed; will try again', {
          error: error instanceof Error ? error.message : String(error),
        })
        if (!this.#closed) {
          clearTimeout(this.#timer)
          this.#timer = setTimeout(() => this.wake(), this.#writer.maxDelayMs)
          this.#timer.unref()
        }
      })
      .finally(() => {
        this.#pass = undefined
        if (this.#again) {
          this.#again = false
          this.wake()
        } else {
          this.#schedule()
        }
      })
  }

  /** Stops the loop; undelivered rows stay in the outbox for the next start or another process. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#pass
  }

  async #deliverDue(): Promise<void> {
    for (;;) {
      if (this.#closed) return
      const due = this.#outbox.due(this.#clock(), this.#concurrency)
      if (due.length === 0) return
      await Promise.all(due.map((row) => this.#deliver(row)))
    }
  }

  async #deliver(row: PendingDelivery): Promise<void> {
    const outcome = await this.#writer.write(row)
    switch (outcome.kind) {
      case 'delivered':
        return this.#outbox.acknowledge(row.taskId, this.#clock())
      case 'fallback':
        return this.#outbox.replaceText(row.taskId, outcome.text, outcome.error)
      case 'failed':
        return this.#outbox.giveUp(row.taskId, outcome.error)
      case 'retry':
        return this.#outbox.retryLater(row.taskId, this.#clock() + outcome.delayMs, outcome.error)
    }
  }

  #schedule(): void {
    if (this.#closed) return
    let next: number | undefined
    try {
      next = this.#outbox.nextDueAt()
    } catch (error) {
      this.#logger.log('error', 'could not read the outbox schedule', { error: String(error) })
      next = this.#clock() + this.#writer.maxDelayMs
    }
    this.#health?.setDeliveryOwed(next !== undefined)
    if (next === undefined) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.wake(), Math.max(0, next - this.#clock()))
    this.#timer.unref()
  }
}
