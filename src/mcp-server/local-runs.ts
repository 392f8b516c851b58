/**
 * The runs of this process, each with a stop signal of its own: a cancel announced by another
 * process, a lost lease or the queue that handed the task over aborts it through here.
 */

/** Runs in this process, by task id. */
export class LocalRuns {
  readonly #running = new Map<string, AbortController>()

  /** Runs `run` for `taskId` with a stop signal that {@link stop} aborts. */
  async track(taskId: string, run: (stopped: AbortSignal) => Promise<void>): Promise<void> {
    const stop = new AbortController()
    this.#running.set(taskId, stop)
    try {
      await run(stop.signal)
    } finally {
      this.#running.delete(taskId)
    }
  }

  /** Stops the run of `taskId` here, if there is one. */
  stop(taskId: string, reason: string): void {
    this.#running.get(taskId)?.abort(new Error(reason))
  }

  has(taskId: string): boolean {
    return this.#running.has(taskId)
  }

  /** The ids of the tasks running here. */
  runningIds(): string[] {
    return [...this.#running.keys()]
  }
}
