/**
 * The dispatch queue of one process: its own slots and fair queue (`local-scheduler.ts`). Every
 * task on SQLite, and inline calls on Redis, wait here, held by this process: the record says so,
 * which is what makes the queue durable (a process that stops leaves its tasks to be taken over).
 * A place is taken before the record is written, so concurrent starts cannot take the same slot.
 */
import { LocalScheduler, type LocalSchedulerConfig } from './local-scheduler.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { QueuedTask, QueueFull, QueueTicket, TaskDispatch, TaskQueue } from './task-queue.ts'
import type { QueuePlace } from './task-record.ts'

/** The scheduler limits of a backend's configuration, with the defaults filled in. */
export function localLimits(config: {
  readonly tools: readonly LongRunningTool[]
  readonly concurrency?: number | undefined
  readonly queueLimit?: number | undefined
}): Omit<LocalSchedulerConfig, 'run'> {
  return {
    concurrency: config.concurrency ?? MCP_SERVER_DEFAULTS.taskConcurrency,
    toolConcurrency: new Map(
      config.tools.flatMap((tool) => (tool.concurrency === undefined ? [] : [[tool.name, tool.concurrency]])),
    ),
    queueLimit: config.queueLimit ?? MCP_SERVER_DEFAULTS.queueLimit,
  }
}

/** Configuration of {@link LocalTaskQueue}. */
export interface LocalTaskQueueConfig extends Omit<LocalSchedulerConfig, 'run'> {
  /** This process: the holder of every task queued here. */
  readonly workerId: string
}

/** This process's queue. */
export class LocalTaskQueue implements TaskQueue {
  readonly runsTasks = true
  readonly redelivers = false
  readonly #workerId: string
  readonly #scheduler: LocalScheduler
  readonly #started: Promise<TaskDispatch>
  #start: (dispatch: TaskDispatch) => void = () => {}
  #dispatch: TaskDispatch | undefined

  constructor(config: LocalTaskQueueConfig) {
    this.#workerId = config.workerId
    this.#started = new Promise((resolve) => {
      this.#start = resolve
    })
    // A task given a slot before start() (a call that came in while the server was starting)
    // keeps its slot and runs once the policy takes work.
    this.#scheduler = new LocalScheduler({
      ...config,
      run: (task) =>
        this.#dispatch === undefined
          ? this.#started.then((dispatch) => dispatch.run(task.taskId, undefined))
          : this.#dispatch.run(task.taskId, undefined),
    })
  }

  get waiting(): number {
    return this.#scheduler.queued
  }

  async reserve(tool: string): Promise<QueueTicket | QueueFull> {
    const place = this.#scheduler.reserve(tool)
    if (place === undefined) return { full: true, waiting: this.#scheduler.queued }
    return {
      startsNow: place.startsNow,
      holder: this.#workerId,
      place: async (task) => place.fill(task),
      release: () => place.release(),
    }
  }

  async requeue(task: QueuedTask): Promise<void> {
    this.#scheduler.enqueue(task)
  }

  async remove(task: { readonly taskId: string }): Promise<void> {
    this.#scheduler.remove(task.taskId)
  }

  async position(task: { readonly taskId: string }): Promise<QueuePlace | undefined> {
    return this.#scheduler.position(task.taskId)
  }

  /** Its record holds a task queued here: nothing can be half done. */
  async holds(): Promise<boolean> {
    return true
  }

  waitingIds(): string[] {
    return this.#scheduler.waitingIds()
  }

  async start(dispatch: TaskDispatch): Promise<void> {
    this.#dispatch = dispatch
    this.#start(dispatch)
  }

  pause(): void {
    this.#scheduler.close()
  }

  async close(): Promise<void> {
    this.pause()
  }
}
