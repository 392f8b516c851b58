/**
 * The AgentCore Runtime health contract: HealthyBusy while any task runs, and a
 * `time_of_last_update` that moves only when the status changes (else the platform reaps the session).
 */

/** The body of `GET /ping`. */
export interface HealthReport {
  readonly status: 'Healthy' | 'HealthyBusy'
  /** Unix seconds of the last status change. */
  readonly time_of_last_update: number
}

/** Tracks the status and when it last changed. */
export class HealthStatus {
  readonly #clock: () => number
  #busy = false
  #changedAt: number

  constructor(clock: () => number = Date.now) {
    this.#clock = clock
    this.#changedAt = clock()
  }

  /** Records whether work runs; the timestamp moves only on a change. */
  setBusy(busy: boolean): void {
    if (busy === this.#busy) return
    this.#busy = busy
    this.#changedAt = this.#clock()
  }

  report(): HealthReport {
    return {
      status: this.#busy ? 'HealthyBusy' : 'Healthy',
      time_of_last_update: Math.floor(this.#changedAt / 1000),
    }
  }
}
