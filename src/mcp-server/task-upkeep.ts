/**
 * What keeps a process's part of the task policy going between requests, on every backend: its
 * lease (renewed every third of it; a process that finds its lease lost registers again and stops
 * the runs taken over elsewhere), a sweep every half lease (tasks of stopped processes taken over,
 * starts left half done taken back, owed jobs nothing dispatches taken up), and the hourly removal
 * of tasks whose time-to-live passed.
 */
import { hostname } from 'node:os'
import { type Logger, silentLogger, throttledWarning } from '../shared/logger.ts'
import { processAlive } from '../shared/process-alive.ts'
import type { LocalRuns } from './local-runs.ts'
import type { OutboxQueue } from './outbox-queue.ts'
import type { Recovery } from './task-backend.ts'
import type { TaskRecord } from './task-record.ts'
import type { TaskStore, WorkerLease } from './task-store.ts'

/** Configuration of {@link TaskUpkeep}. */
export interface TaskUpkeepConfig {
  readonly store: TaskStore
  readonly outbox: OutboxQueue
  readonly workerId: string
  /** This process's lease record, as it registers (again). */
  readonly lease: () => WorkerLease
  readonly leaseMs: number
  readonly runs: LocalRuns
  /** Takes over a task a stopped process left; says whether it was queued to run again or failed. */
  readonly takeOver: (
    task: TaskRecord,
    servedElsewhere: ReadonlySet<string>,
  ) => Promise<'rerun' | 'failed' | undefined>
  /** Whether the task's queue holds it (a start recorded, its queue job never confirmed). */
  readonly holds: (task: TaskRecord) => Promise<boolean>
  readonly clock: () => number
  readonly logger?: Logger
}

/** A start whose queue job is not confirmed after this long is checked by the sweep. */
const CONFIRM_AFTER_MS = 30_000
/** Tasks whose time-to-live passed are removed this often. */
const EXPIRY_SWEEP_MS = 3_600_000

/** The upkeep of one process. */
export class TaskUpkeep {
  readonly #config: TaskUpkeepConfig
  readonly #logger: Logger
  readonly #timers: NodeJS.Timeout[] = []
  #sweepTimer: NodeJS.Timeout | undefined
  #unwatch: (() => void) | undefined
  #sweeping = false
  #paused = false
  /** Upkeep trouble, said at most every 10 s (a store out of reach fails every tick). */
  readonly warn: (error: unknown) => void

  constructor(config: TaskUpkeepConfig) {
    this.#config = config
    this.#logger = config.logger ?? silentLogger
    this.warn = throttledWarning(this.#logger, 'task upkeep failed; will try again', { clock: config.clock })
  }

  /**
   * Registers this process, listens for its tasks ended elsewhere (`onEnded`), removes what
   * expired, takes over what stopped processes left, and starts the timers.
   */
  async begin(onEnded: (taskId: string) => void): Promise<Recovery> {
    const { store, workerId, leaseMs, clock } = this.#config
    await store.registerWorker(this.#config.lease(), leaseMs)
    this.#unwatch = store.watchEnds(workerId, onEnded)
    await store.removeExpired(clock())
    const recovery = await this.sweep()
    this.#every(leaseMs / 3, () => this.#renewLease())
    this.#sweepTimer = this.#every(leaseMs / 2, () => this.sweep())
    this.#every(EXPIRY_SWEEP_MS, () => store.removeExpired(clock()))
    return recovery
  }

  /** A shutdown began: no more sweeps (the lease is still renewed while running tools stop). */
  pause(): void {
    this.#paused = true
    clearInterval(this.#sweepTimer)
  }

  stop(): void {
    this.pause()
    for (const timer of this.#timers) clearInterval(timer)
    this.#unwatch?.()
  }

  /**
   * Takes over the tasks of processes that stopped, takes back starts left half done, and takes up
   * owed jobs nothing dispatches. One sweep at a time.
   */
  async sweep(): Promise<Recovery> {
    const recovery = { rerun: 0, failed: 0 }
    if (this.#paused || this.#sweeping) return recovery
    this.#sweeping = true
    try {
      const { store, clock } = this.#config
      const served = await this.servedElsewhere()
      for (const task of await store.orphans()) {
        const outcome = await this.#config.takeOver(task, served)
        if (outcome !== undefined) recovery[outcome] += 1
      }
      for (const taskId of await store.unconfirmed(clock() - CONFIRM_AFTER_MS)) {
        const task = await store.get(taskId)
        if (task !== undefined && !(await this.#config.holds(task)) && (await store.remove(task)))
          this.#logger.log('warn', 'took back a task whose start was never confirmed', { taskId })
        else await store.confirm(taskId)
      }
      await this.#config.outbox.recover()
      return recovery
    } finally {
      this.#sweeping = false
    }
  }

  /**
   * The tools live processes serve. A process of this machine that no longer exists (killed,
   * crashed) holds nothing, lease or not: its lease is dropped, so its tasks are taken over at once.
   */
  async servedElsewhere(): Promise<Set<string>> {
    const { store, workerId } = this.#config
    const tools = new Set<string>()
    for (const worker of await store.liveWorkers()) {
      if (worker.workerId !== workerId && worker.host === hostname() && !processAlive(worker.pid)) {
        await store.removeWorker(worker.workerId)
        this.#logger.log('info', 'a process that held tasks here is gone', {
          workerId: worker.workerId,
          pid: worker.pid,
        })
        continue
      }
      for (const tool of worker.tools) tools.add(tool)
    }
    return tools
  }

  async #renewLease(): Promise<void> {
    const { store, workerId, leaseMs, runs } = this.#config
    if (await store.renewWorker(workerId, leaseMs)) return
    // Our lease ran out (the event loop was blocked that long) and another process may have taken
    // our tasks over. Register again and stop what is no longer ours.
    this.#logger.log('warn', 'this process lost its lease; tasks taken over elsewhere are stopped here', {
      workerId,
    })
    await store.registerWorker(this.#config.lease(), leaseMs)
    for (const taskId of runs.runningIds()) {
      if ((await store.get(taskId))?.workerId !== workerId) runs.stop(taskId, 'taken over by another process')
    }
  }

  #every(intervalMs: number, work: () => Promise<unknown>): NodeJS.Timeout {
    const timer = setInterval(() => {
      work().catch((error: unknown) => this.warn(error))
    }, intervalMs)
    timer.unref()
    this.#timers.push(timer)
    return timer
  }
}
