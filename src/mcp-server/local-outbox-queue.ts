/**
 * The after-end jobs of one process on SQLite: those its ends recorded (and those it took over from
 * a process that stopped), read from the outbox when they are due, a few at a time. An attempt that
 * takes long (a wake waits for the agent's whole continuation turn) holds one slot, not the others:
 * the jobs due meanwhile are attempted in the free slots. It reports HealthyBusy while it owes any,
 * so the Runtime does not reap a session with undelivered results.
 */
import type { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { Attempt, OutboxDispatch, OutboxQueue } from './outbox-queue.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { JobKey, OwedJob } from './task-record.ts'

/** While attempts are under way, a job found due is looked at again this soon (it may be one of them). */
const BUSY_RECHECK_MS = 200

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
  /**
   * Attempts under way at once, per kind of job: a kind whose attempts take long (a wake lasts the
   * agent's whole turn) never holds up another (the memory events).
   */
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
  /** Attempts under way, by job. */
  readonly #inFlight = new Map<string, Promise<void>>()

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
    await Promise.allSettled([...this.#inFlight.values()])
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

  /** Starts the due jobs that are not under way already, in the free slots of their kind. */
  async #attemptDue(attempt: Attempt): Promise<void> {
    for (;;) {
      if (this.#closed) return
      const busy = new Map<string, number>()
      for (const key of this.#inFlight.keys()) {
        const kind = key.slice(0, key.indexOf(':'))
        busy.set(kind, (busy.get(kind) ?? 0) + 1)
      }
      // Enough rows to see past those under way (or waiting for a slot of a busy kind).
      const rows = await this.#schedule.due(this.#clock(), 4 * this.#concurrency + this.#inFlight.size)
      let started = 0
      for (const job of rows) {
        const used = busy.get(job.kind) ?? 0
        if (this.#inFlight.has(keyOf(job)) || used >= this.#concurrency) continue
        busy.set(job.kind, used + 1)
        this.#start(attempt, job)
        started += 1
      }
      if (started === 0) return
    }
  }

  /** One attempt in a slot of its own; its end looks for more work. */
  #start(attempt: Attempt, job: OwedJob): void {
    const key = keyOf(job)
    const running = attempt(job, job)
      .then(
        () => {},
        (error: unknown) => {
          // An attempt that throws (SQLite I/O error, say) leaves the job owed for a later pass.
          this.#logger.log('error', 'delivery attempt failed; will try again', {
            error: error instanceof Error ? error.message : String(error),
          })
        },
      )
      .finally(() => {
        this.#inFlight.delete(key)
        this.#wake()
      })
    this.#inFlight.set(key, running)
  }

  #sleepUntil(next: number | undefined): void {
    this.#health?.setDeliveryOwed(next !== undefined || this.#inFlight.size > 0)
    if (this.#closed || next === undefined || this.#again) return
    clearTimeout(this.#timer)
    // A job due now while all slots are busy (or the job under way itself): an attempt's end, or a
    // short while, brings the next look.
    const wait = next - this.#clock()
    this.#timer = setTimeout(
      () => this.#wake(),
      this.#inFlight.size > 0 ? Math.max(wait, BUSY_RECHECK_MS) : Math.max(0, wait),
    )
    this.#timer.unref()
  }
}

function keyOf(job: JobKey): string {
  return `${job.kind}:${job.taskId}`
}
