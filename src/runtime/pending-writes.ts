/**
 * Turns whose last memory write failed after the session manager's own retries (AgentCore Memory
 * throttling or down for a while). The turn was answered, so its messages are not dropped: they
 * stay buffered in their session manager, which is flushed again here with growing pauses, while
 * `/ping` reports HealthyBusy so the platform keeps the session (and its process) alive.
 */
import type { AgentCoreMemorySessionManager, MemoryLogger } from '../memory/index.ts'

/** First pause before a failed write is tried again, and the longest pause it doubles up to. */
const DEFAULT_BASE_DELAY_MS = 5_000
const DEFAULT_MAX_DELAY_MS = 300_000

/** Configuration of {@link PendingWrites}. */
export interface PendingWritesConfig {
  /** Told whether anything is owed (for the health report). */
  readonly onOwedChange: (owed: boolean) => void
  readonly logger: MemoryLogger
  /** First pause before flushing again (default 5 s); doubles up to `maxDelayMs` (default 5 min). */
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
}

/** Session managers with writes still owed to memory, flushed again until they succeed. */
export class PendingWrites {
  readonly #config: PendingWritesConfig
  readonly #owed = new Map<AgentCoreMemorySessionManager, NodeJS.Timeout | undefined>()
  /** Set by flushAll(): no retry is scheduled after the last attempt. */
  #closing = false

  constructor(config: PendingWritesConfig) {
    this.#config = config
  }

  /** How many session managers still owe writes. */
  get size(): number {
    return this.#owed.size
  }

  /** Takes over a manager whose close() failed: its buffered messages are written later. */
  keep(manager: AgentCoreMemorySessionManager): void {
    if (this.#owed.has(manager)) return
    if (this.#closing) {
      // After the last attempt nothing is retried: said, not dropped silently.
      this.#config.logger.warn(
        `pending_items=${manager.pendingWrites} session_id=${manager.sessionId} | shutting down with writes still owed to memory`,
      )
      return
    }
    this.#owed.set(manager, undefined)
    this.#config.onOwedChange(true)
    this.#schedule(manager, this.#config.baseDelayMs ?? DEFAULT_BASE_DELAY_MS)
  }

  /** One last attempt for each (at shutdown); what still fails is logged with its size. */
  async flushAll(): Promise<void> {
    this.#closing = true
    await Promise.all(
      [...this.#owed.keys()].map(async (manager) => {
        clearTimeout(this.#owed.get(manager))
        if (await this.#tryFlush(manager)) return
        this.#config.logger.warn(
          `pending_items=${manager.pendingWrites} session_id=${manager.sessionId} | shutting down with writes still owed to memory`,
        )
        this.#owed.delete(manager)
      }),
    )
    this.#config.onOwedChange(this.#owed.size > 0)
  }

  #schedule(manager: AgentCoreMemorySessionManager, delayMs: number): void {
    const timer = setTimeout(async () => {
      if ((await this.#tryFlush(manager)) || this.#closing) return
      this.#schedule(manager, Math.min(delayMs * 2, this.#config.maxDelayMs ?? DEFAULT_MAX_DELAY_MS))
    }, delayMs)
    timer.unref()
    this.#owed.set(manager, timer)
  }

  async #tryFlush(manager: AgentCoreMemorySessionManager): Promise<boolean> {
    try {
      await manager.close()
    } catch (error) {
      this.#config.logger.warn(
        `error=${(error as Error).message} session_id=${manager.sessionId} | memory write still failing`,
      )
      return false
    }
    this.#owed.delete(manager)
    if (this.#owed.size === 0) this.#config.onOwedChange(false)
    return true
  }
}
