/**
 * What the runner drives: where tasks are recorded, where they wait for a slot, which process runs
 * them, how a cancel reaches that process and how results reach memory. The task policy
 * (`task-policy.ts`) implements it over a store and queues: `SqliteTaskBackend` (one data directory,
 * processes beside each other on it) and `RedisTaskBackend` (BullMQ, replicas and workers on any
 * machine) are that policy; the runner, the tools, the task tools and spec-native tasks work the
 * same on both.
 */
import type { NewTaskRecord, QueuePlace, TaskEnd, TaskPage, TaskProgress, TaskRecord } from './task-record.ts'

/** Runs the tasks a backend hands to this process. */
export interface TaskExecutor {
  /**
   * Runs `task` (already marked running, its `runs` counted) to its end. `signal` aborts when the
   * backend learns the task was cancelled from elsewhere or this process lost it; the executor
   * records the end through {@link TaskBackend.complete}.
   */
  run(task: TaskRecord, signal: AbortSignal): Promise<void>
  /**
   * Ends a task whose earlier run was interrupted (its process died) and that is not run again:
   * the backend calls this instead of `run`, so the end and its memory event are recorded alike.
   */
  interrupted(task: TaskRecord, reason: string): Promise<void>
}

/** What a backend reports of the tasks it found interrupted when it started taking work. */
export interface Recovery {
  readonly rerun: number
  readonly failed: number
}

/** A task backend. */
export interface TaskBackend {
  /** Whether ended tasks' results are written into their caller's memory. */
  readonly deliversResults: boolean
  /** Tasks waiting in this process's queue (the server reports HealthyBusy while any do). */
  readonly waiting: number
  /**
   * Records a new task, queued for a slot (an inline call is queued in this process, which holds
   * its request). Refuses with QUEUE_FULL beyond the queue bound, and stores nothing then.
   */
  submit(task: NewTaskRecord): Promise<TaskRecord>
  /** The task when `owner` owns it (or `owner` is undefined: the server itself asks). */
  get(taskId: string, owner?: string): Promise<TaskRecord | undefined>
  /** The owner's background tasks (not inline calls), newest first. */
  list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage>
  /** Records the progress of running tasks (one write for many: the runner's heartbeat batches them). */
  saveProgress(updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[]): Promise<void>
  /**
   * The end of a run, recorded by the process that ran it, with what it owes after (its memory
   * event); undefined when the task had already ended (a cancel won) or another process took it
   * over meanwhile.
   */
  complete(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined>
  /**
   * Ends a task from outside its run (a cancel), with what it owes after: queued, it never runs;
   * running elsewhere, that process is told to stop it. Undefined when it had already ended.
   */
  cancel(task: TaskRecord, end: TaskEnd): Promise<TaskRecord | undefined>
  /**
   * Where a queued `task` stands: its place (1 when it is next), or `starting` once a worker took
   * it; undefined once it runs, or when this process cannot tell (queued in another process).
   */
  queuePosition(task: TaskRecord): Promise<QueuePlace | undefined>
  /**
   * Starts taking work: recovers what stopped processes left (re-run or failed, as each tool
   * declares), then hands `executor` the tasks this process should run, within its concurrency.
   */
  start(executor: TaskExecutor): Promise<Recovery>
  /** A shutdown began: hand out no more queued tasks (they stay queued for later). */
  pause(): void
  /**
   * Stops taking work. Tasks still queued stay queued for this process's next start or another
   * process; tasks still running are left for recovery.
   */
  close(): Promise<void>
}
