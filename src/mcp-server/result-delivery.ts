/**
 * Delivers the outbox: each ended task's result becomes one USER event in the caller's session.
 * Retries with exponential backoff until the service acknowledges; the client token is derived
 * from the task id, so a retry after a lost response, a throttle or a crash never writes twice.
 */
import { createHash } from 'node:crypto'
import { type BedrockAgentCoreClient, CreateEventCommand } from '@aws-sdk/client-bedrock-agentcore'
import { userTextEventPayload } from '../memory/external-event.ts'
import { backoffDelayMs, isPermanentError } from '../memory/retry.ts'
import type { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { Outbox, PendingDelivery } from './task-store.ts'

/** Configuration of {@link ResultDelivery}. */
export interface ResultDeliveryConfig {
  readonly outbox: Outbox
  /** The AgentCore data-plane client (its `endpoint` points at the local service in development). */
  readonly client: BedrockAgentCoreClient
  /** First retry delay (default 200 ms), doubled per attempt up to maxDelayMs (default 60 s). */
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  /** Deliveries sent at once (default 8). */
  readonly concurrency?: number
  readonly clock?: () => number
  /** For jitter; injectable so tests can pin it. */
  readonly random?: () => number
  readonly logger?: Logger
  /** Reported HealthyBusy while events are owed (pending rows in the outbox). */
  readonly health?: HealthStatus
}

/**
 * Errors the service will answer the same way forever: retrying cannot help. The memory, actor and
 * session come from the caller's header, so a memory that does not exist or that this server may
 * not write is as permanent as an invalid body. The row is marked failed with the error, and the
 * status tools report it.
 */
const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'ValidationException',
  'ConflictException',
  'ResourceNotFoundException',
  'AccessDeniedException',
])

const FALLBACK_MARK = '[full result not in memory]'

/** The summary written when the service refuses the full event: the first line (task, tool, outcome) and where to get the rest. */
function fallbackText(row: Pick<PendingDelivery, 'taskId' | 'text'>, error: string): string {
  const firstLine = row.text.split('\n', 1)[0]?.slice(0, 500) ?? ''
  const reason = error.slice(0, 300)
  return `${firstLine}\nThe result could not be written to memory (${reason}); fetch it with get_task_results with task_id ${row.taskId}. ${FALLBACK_MARK}`
}

/** The idempotency token of a task's memory event. */
export function clientTokenFor(taskId: string): string {
  return createHash('sha256').update(`longrun-task-result:${taskId}`).digest('hex')
}

/** The outbox delivery loop. */
export class ResultDelivery {
  readonly #outbox: Outbox
  readonly #client: BedrockAgentCoreClient
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #concurrency: number
  readonly #clock: () => number
  readonly #random: () => number
  readonly #logger: Logger
  readonly #health: HealthStatus | undefined
  #timer: NodeJS.Timeout | undefined
  #pass: Promise<void> | undefined
  #again = false
  #closed = false

  constructor(config: ResultDeliveryConfig) {
    this.#outbox = config.outbox
    this.#client = config.client
    this.#baseDelayMs = config.baseDelayMs ?? 200
    this.#maxDelayMs = config.maxDelayMs ?? 60_000
    this.#concurrency = config.concurrency ?? 8
    this.#clock = config.clock ?? Date.now
    this.#random = config.random ?? Math.random
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
          this.#timer = setTimeout(() => this.wake(), this.#maxDelayMs)
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

  /** Stops the loop; undelivered rows stay in the outbox for the next start. */
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
    try {
      await this.#client.send(
        new CreateEventCommand({
          memoryId: row.memoryId,
          actorId: row.actorId,
          sessionId: row.sessionId,
          eventTimestamp: new Date(row.eventTimestampMs),
          payload: [userTextEventPayload(row.text)],
          clientToken: clientTokenFor(row.taskId),
        }),
      )
      this.#outbox.acknowledge(row.taskId, this.#clock())
      this.#logger.log('info', 'task result written to memory', {
        taskId: row.taskId,
        attempts: row.attempts + 1,
      })
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error'
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      if (name === 'ValidationException' && !row.text.endsWith(FALLBACK_MARK)) {
        // The service refused the body (too large, say): the event must still land, so write a
        // short summary pointing at get_task_results instead, once, with the same client token
        // (a refused request wrote nothing under it).
        this.#outbox.replaceText(row.taskId, fallbackText(row, message), message)
        this.#logger.log('warn', 'memory refused a task result; writing a short summary instead', {
          taskId: row.taskId,
          error: message,
        })
        return
      }
      if (isPermanentError(error, PERMANENT_ERRORS)) {
        this.#outbox.giveUp(row.taskId, message)
        this.#logger.log('error', 'memory refused a task result; not retrying', {
          taskId: row.taskId,
          error: message,
        })
        return
      }
      // At least half of the doubling step: a throttled service gets room to recover.
      const policy = { baseDelayMs: this.#baseDelayMs, maxDelayMs: this.#maxDelayMs }
      const delay = backoffDelayMs(policy, row.attempts + 1, this.#random, 'equal')
      this.#outbox.retryLater(row.taskId, this.#clock() + delay, message)
      this.#logger.log('warn', 'memory write failed; will retry', {
        taskId: row.taskId,
        attempts: row.attempts + 1,
        retryInMs: delay,
        error: message,
      })
    }
  }

  #schedule(): void {
    if (this.#closed) return
    let next: number | undefined
    try {
      next = this.#outbox.nextDueAt()
    } catch (error) {
      this.#logger.log('error', 'could not read the outbox schedule', { error: String(error) })
      next = this.#clock() + this.#maxDelayMs
    }
    this.#health?.setDeliveryOwed(next !== undefined)
    if (next === undefined) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.wake(), Math.max(0, next - this.#clock()))
    this.#timer.unref()
  }
}
