/**
 * The turns a runtime is running, for `/ping` and for shutdown: HealthyBusy while an accepted turn
 * runs (and for a moment after, see HEALTHY_AFTER_IDLE_MS), and a drain that lets running turns
 * finish within the grace period before it aborts the rest.
 */
import type { HealthStatus } from '../shared/health-status.ts'
import type { Logger } from '../shared/logger.ts'
import { RuntimeError } from './errors.ts'

/** How long /ping stays HealthyBusy after the last turn: two status changes a cycle, a second each. */
const HEALTHY_AFTER_IDLE_MS = 2_000

/** One invocation from the moment it is taken until it is answered. */
export interface RunningTurn {
  /** Aborts the turn (caller gone with the `abort` policy, turn timeout, shutdown). */
  readonly controller: AbortController
}

interface TrackedTurn extends RunningTurn {
  readonly done: Promise<void>
  accepted: boolean
}

/** The turns of one runtime. */
export class RunningTurns {
  readonly #health: HealthStatus
  readonly #turns = new Set<TrackedTurn>()
  /** Accepted turns running now: what makes /ping report HealthyBusy. */
  #busy = 0
  /** Reports Healthy once no turn has run for a while. */
  #idleTimer: NodeJS.Timeout | undefined

  constructor(health: HealthStatus) {
    this.#health = health
  }

  /** Turns running now (a turn whose caller went away included). */
  get size(): number {
    return this.#turns.size
  }

  /**
   * Runs `work` as a turn, counted from the moment the request is taken, so a drain waits for it
   * even while it is checked; `accept` marks it busy once it is accepted (a refused request never
   * flips /ping).
   */
  async run<T>(work: (turn: RunningTurn, accept: () => void) => Promise<T>): Promise<T> {
    let finish: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      finish = resolve
    })
    const turn: TrackedTurn = { controller: new AbortController(), done, accepted: false }
    this.#turns.add(turn)
    try {
      return await work(turn, () => this.#accept(turn))
    } finally {
      this.#turns.delete(turn)
      if (turn.accepted) {
        this.#busy -= 1
        if (this.#busy === 0) this.#reportIdleSoon()
      }
      finish()
    }
  }

  /**
   * Lets running turns finish within `graceMs`, then aborts the rest with SHUTTING_DOWN (each still
   * writes what it said to memory) and waits for them to end.
   */
  async drain(graceMs: number, logger: Logger): Promise<void> {
    const settled = Promise.all([...this.#turns].map((turn) => turn.done))
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<'grace'>((resolve) => {
      timer = setTimeout(() => resolve('grace'), graceMs)
    })
    if ((await Promise.race([settled, graceOver])) === 'grace') {
      logger.log('warn', 'grace period over: aborting running turns', { turns: this.#turns.size })
      for (const turn of this.#turns) {
        turn.controller.abort(
          new RuntimeError('SHUTTING_DOWN', 'the runtime is shutting down; the turn was stopped'),
        )
      }
      await Promise.all([...this.#turns].map((turn) => turn.done))
    }
    clearTimeout(timer)
    clearTimeout(this.#idleTimer)
  }

  #accept(turn: TrackedTurn): void {
    if (turn.accepted) return
    turn.accepted = true
    this.#busy += 1
    clearTimeout(this.#idleTimer)
    this.#health.setBusy(true)
  }

  /**
   * Healthy again only after no turn ran for HEALTHY_AFTER_IDLE_MS: every status change moves
   * `time_of_last_update` on by at least a second, so short turns in a row must not flip it faster
   * than that, or the time would run ahead of the clock.
   */
  #reportIdleSoon(): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      if (this.#busy === 0) this.#health.setBusy(false)
    }, HEALTHY_AFTER_IDLE_MS)
    this.#idleTimer.unref()
  }
}
