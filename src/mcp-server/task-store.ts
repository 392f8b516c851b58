/**
 * The store under the task policy: task records, claims on them, the leases of the processes
 * working on them, and the after-end jobs owed for them. It does datastore work only: every write
 * is a compare-and-set or one atomic change, and it decides nothing about a task's life (the policy
 * in `task-policy.ts` does). `SqliteTaskStore` and `RedisTaskStore` implement it; the store
 * contract tests run the same checks on both.
 */
import type {
  JobKey,
  NewTaskRecord,
  OwedJob,
  Placement,
  Settlement,
  TaskEnd,
  TaskPage,
  TaskProgress,
  TaskRecord,
  AfterEndJob,
} from './task-record.ts'

/** A task as recorded, with its rank: its owner's active (queued or running) tasks, itself included. */
export interface Placed {
  readonly record: TaskRecord
  readonly rank: number
}

/**
 * A move of a task that must still be active and as the caller read it (same stage, same holder):
 * two processes moving the same task cannot both succeed.
 */
export interface Claim {
  readonly from: { readonly stage: TaskRecord['stage']; readonly holder: string | undefined }
  /** The process that holds it after. */
  readonly holder: string
  readonly stage: 'queued' | 'running'
  /** True when a run of its tool starts (`runs` counts one more). */
  readonly addRun: boolean
  /** The status message after: a text, null to clear it, undefined to keep it. */
  readonly statusMessage: string | null | undefined
  readonly now: number
}

/** Who records an end: `complete` by the process that holds the task, `cancel` by any. */
export interface EndBy {
  readonly how: 'complete' | 'cancel'
  readonly workerId: string
}

/** A process working on the store, as its lease says. */
export interface WorkerLease {
  readonly workerId: string
  readonly pid: number
  readonly host: string
  /** Tools it runs (empty for a process that runs none: a Redis replica without a worker). */
  readonly tools: readonly string[]
  readonly startedAt: number
}

/** The store contract. */
export interface TaskStore {
  /**
   * Records a new task, active, with its placement. A task placed on a shared queue (no holder)
   * stays unconfirmed until {@link confirm}. A duplicate id is refused (INVALID_CONFIG).
   */
  create(task: NewTaskRecord, placement: Placement): Promise<Placed>
  /** The task when `owner` owns it (or `owner` is undefined). */
  get(taskId: string, owner?: string): Promise<TaskRecord | undefined>
  /** The owner's tasks other than inline calls, newest first; INVALID_CURSOR for a foreign cursor. */
  list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage>
  /** Takes back a task that never ran and still waits (its queue refused it); false otherwise. */
  remove(task: Pick<TaskRecord, 'taskId' | 'owner'>): Promise<boolean>
  /** The shared queue holds the task's job now. */
  confirm(taskId: string): Promise<void>
  /** Tasks placed on a shared queue before `before` and never confirmed. */
  unconfirmed(before: number): Promise<string[]>
  /** Moves a task (see {@link Claim}); the record after and its rank, or undefined when it changed. */
  claim(taskId: string, claim: Claim): Promise<Placed | undefined>
  /** Records progress of active tasks; answers the ids of those found ended (or gone) instead. */
  saveProgress(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<string[]>
  /**
   * Ends an active task with `jobs`, in one write. `complete` needs `by.workerId` to hold it and
   * marks its run over; `cancel` leaves a running task `running` until its holder releases it.
   * Undefined when nothing was recorded (it had ended, or another process holds it).
   */
  end(taskId: string, end: TaskEnd, by: EndBy, jobs: readonly AfterEndJob[]): Promise<TaskRecord | undefined>
  /** The run of an ended task that `workerId` held is over: nothing executes it any more. */
  release(taskId: string, workerId: string): Promise<void>
  /** Tasks not done whose holder is gone (no live lease), oldest first. */
  orphans(): Promise<TaskRecord[]>
  /** Removes ended tasks whose time-to-live passed, with their jobs; answers how many. */
  removeExpired(now: number): Promise<number>

  /** Records this process with a lease of `leaseMs`; replaces an earlier record of the same id. */
  registerWorker(worker: WorkerLease, leaseMs: number): Promise<void>
  /** Renews the lease; false when it had run out and was dropped (another may have taken over). */
  renewWorker(workerId: string, leaseMs: number): Promise<boolean>
  removeWorker(workerId: string): Promise<void>
  /** Processes whose lease runs (those whose lease ran out are forgotten on the way). */
  liveWorkers(): Promise<WorkerLease[]>

  /** Tells the process running `taskId` that it ended (a cancel sent to another process). */
  announceEnd(taskId: string): Promise<void>
  /** Calls `onEnded` for tasks `workerId` runs that ended elsewhere; returns the unsubscribe. */
  watchEnds(workerId: string, onEnded: (taskId: string) => void): () => void

  /** One after-end job as recorded; undefined when none is (or its task is gone). */
  job(key: JobKey): Promise<OwedJob | undefined>
  /** Records one attempt at a pending job (attempts + 1) and what it left; nothing once settled. */
  settleJob(key: JobKey, settlement: Settlement): Promise<void>
  /** The pending jobs of `kinds`, of every process. */
  owedJobs(kinds: readonly string[]): Promise<JobKey[]>

  close(): Promise<void>
}
