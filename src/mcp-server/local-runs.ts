/**
 * The tasks a process runs itself (every task on SQLite, inline calls on Redis): a place in the
 * scheduler taken before the record is written, the record kept for a run that starts at once, a
 * claim for one that waited, and the stop signal of every run here, which a cancel from another
 * process (or a lost lease) aborts.
 */
import { McpServerError } from './errors.ts'
import { LocalScheduler, type LocalSchedulerConfig, type ScheduledTask } from './local-scheduler.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { TaskRecord } from './task-record.ts'

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

/** Configuration of {@link LocalRuns}. */
export interface LocalRunsConfig extends Omit<LocalSchedulerConfig, 'run'> {
  /** Marks a task that waited as running here; undefined when it no longer waits (cancelled). */
  readonly claim: (taskId: string) => Promise<TaskRecord | undefined>
  /** Runs a task to its end; `stopped` aborts when it must stop here. */
  readonly execute: (task: TaskRecord, stopped: AbortSignal) => Promise<void>
}

/** Runs of this process. */
export class LocalRuns {
  readonly #scheduler: LocalScheduler
  readonly #config: LocalRunsConfig
  /** Records of tasks given a slot when they were created, for their first run. */
  readonly #fresh = new Map<string, TaskRecord>()
  readonly #running = new Map<string, AbortController>()

  constructor(config: LocalRunsConfig) {
    this.#config = config
    this.#scheduler = new LocalScheduler({ ...config, run: (task) => this.#runScheduled(task) })
  }

  /** Tasks waiting here for a slot. */
  get waiting(): number {
    return this.#scheduler.queued
  }

  /**
   * Takes a place (a slot, or a place in the queue), writes the record with `record` (told whether
   * it starts at once), then starts or queues it. QUEUE_FULL, with nothing written, when there is
   * no place.
   */
  async submit(
    task: ScheduledTask,
    record: (stage: 'queued' | 'running') => Promise<TaskRecord>,
  ): Promise<TaskRecord> {
    const place = this.#scheduler.reserve(task.tool)
    if (place === undefined) {
      throw new McpServerError(
        'QUEUE_FULL',
        `too many tasks are waiting (${this.#scheduler.queued}): retry later`,
        {
          retryAfterMs: 5000,
        },
      )
    }
    let written: TaskRecord
    try {
      written = await record(place.startsNow ? 'running' : 'queued')
    } catch (error) {
      place.release()
      throw error
    }
    if (place.startsNow) this.#fresh.set(written.taskId, written)
    place.fill({ taskId: written.taskId, owner: written.owner, tool: written.tool })
    return written
  }

  /** Queues a task recorded as waiting here (taken over, or found at start). */
  enqueue(task: ScheduledTask): void {
    this.#scheduler.enqueue(task)
  }

  /** Takes a waiting task out; false when it does not wait here. */
  remove(taskId: string): boolean {
    return this.#scheduler.remove(taskId)
  }

  position(taskId: string): number | undefined {
    return this.#scheduler.position(taskId)
  }

  /** Runs `task` (one this process took some other way: a BullMQ job) with a stop signal of its own. */
  async track(task: TaskRecord, run: (stopped: AbortSignal) => Promise<void>): Promise<void> {
    const stop = new AbortController()
    this.#running.set(task.taskId, stop)
    try {
      await run(stop.signal)
    } finally {
      this.#running.delete(task.taskId)
    }
  }

  /** Stops the run of `taskId` here, if there is one. */
  stop(taskId: string, reason: string): void {
    this.#running.get(taskId)?.abort(new Error(reason))
  }

  /** The ids of the tasks running here. */
  runningIds(): string[] {
    return [...this.#running.keys()]
  }

  /** Starts nothing more (what waits stays recorded as waiting). */
  close(): void {
    this.#scheduler.close()
  }

  async #runScheduled(scheduled: ScheduledTask): Promise<void> {
    const fresh = this.#fresh.get(scheduled.taskId)
    this.#fresh.delete(scheduled.taskId)
    const task = fresh ?? (await this.#config.claim(scheduled.taskId))
    if (task === undefined) return
    await this.track(task, (stopped) => this.#config.execute(task, stopped))
  }
}
