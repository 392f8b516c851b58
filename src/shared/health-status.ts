/**
 * The AgentCore Runtime health contract, for both containers (the agent runtime and the MCP server):
 * HealthyBusy while work runs (an invocation, a task, a result still owed to memory), and a
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
  /** Busy while memory events are still owed (the outbox is not empty). */
  #owed = false
  #running = false
  #changedAt: number

  constructor(clock: () => number = Date.now) {
    this.#clock = clock
    this.#changedAt = clock()
  }

  /**
   * Records whether work runs; the timestamp moves only on a change, and every change moves it by at
   * least one second (the report has one-second resolution), so Busy, Healthy, Busy within one
   * second never repeats a timestamp across a status change.
   */
  setBusy(busy: boolean): void {
    this.#running = busy
    this.#update()
  }

  /**
   * Records whether memory events are still owed: HealthyBusy keeps an AgentCore Runtime session
   * (and the disk the outbox lives on) from being reaped as idle before every result is delivered.
   */
  setDeliveryOwed(owed: boolean): void {
    this.#owed = owed
    this.#update()
  }

  #update(): void {
    const busy = this.#running || this.#owed
    if (busy === this.#busy) return
    this.#busy = busy
    this.#changedAt = Math.max(this.#clock(), this.#changedAt + 1000)
  }

  report(): HealthReport {
    return {
      status: this.#busy ? 'HealthyBusy' : 'Healthy',
      time_of_last_update: Math.floor(this.#changedAt / 1000),
    }
  }
}
