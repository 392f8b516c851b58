/**
 * The dispatch of after-end jobs (a task's memory event today): which process makes the next
 * attempt at an owed job, and when. `LocalOutboxQueue` (the jobs this process recorded, read from
 * the SQLite outbox on their due time) and `BullMqOutboxQueue` (one BullMQ job per owed job, with
 * BullMQ's backoff) implement it. The queue only schedules: the policy (`after-end-jobs.ts`) makes
 * each attempt and records what it left.
 */
import type { JobKey, OwedJob } from './task-record.ts'

/**
 * One attempt at `key` (`known` when the queue read the job already): answers the delay before the
 * next attempt, or undefined once the job settled (or was settled already).
 */
export type Attempt = (key: JobKey, known?: OwedJob) => Promise<number | undefined>

/** The policy's side of an outbox queue. */
export interface OutboxDispatch {
  readonly attempt: Attempt
  /** The pending jobs of the kinds served here, of every process. */
  owed(): Promise<JobKey[]>
}

/** An after-end job queue. */
export interface OutboxQueue {
  /** Jobs just recorded (with a task's end, kept `ttlMs` like the task): attempt them soon. */
  add(keys: readonly JobKey[], ttlMs: number): Promise<void>
  /** Starts handing owed jobs to the policy. */
  start(dispatch: OutboxDispatch): Promise<void>
  /** Takes up owed jobs nothing dispatches: their process stopped, or a crash came before `add`. */
  recover(): Promise<void>
  close(): Promise<void>
}
