/**
 * The dispatch under the task policy: where a task waits for a slot and which process is handed it
 * to run. `LocalTaskQueue` (this process's own slots and fair queue, over `local-scheduler.ts`) and
 * `BullMqTaskQueue` (BullMQ queues in Redis, taken by workers anywhere) implement it. A queue orders
 * by the rank it is given and hands tasks over; it reads no record and decides nothing about a
 * task's life: the policy claims what it is handed, and says what the queue should do after.
 */
import type { QueuePlace, TaskRecord } from './task-record.ts'

/** A task as a queue holds it: what ordering needs, no input, no result. */
export interface QueuedTask {
  readonly taskId: string
  readonly tool: string
  /** Lower first, equal ranks in arrival order (the policy says what a rank is). */
  readonly rank: number
}

/** A place taken for a new task before it is recorded. */
export interface QueueTicket {
  readonly full?: undefined
  /** True when the task has a slot in this process and starts at once (record it running). */
  readonly startsNow: boolean
  /** The process whose own queue holds the task; undefined on a shared queue. */
  readonly holder: string | undefined
  /** The task is recorded: it starts now or waits its turn. Rejects when the queue refused it. */
  place(task: QueuedTask): Promise<void>
  /** The task was not recorded: the place is given back. */
  release(): void
}

/** No place: as many tasks wait as the queue holds. */
export interface QueueFull {
  readonly full: true
  readonly waiting: number
}

/** What the policy made of a task it was handed, and so what the queue does with it. */
export type Handled =
  /** Ran to its end, or had nothing to run (ended meanwhile, or another process moved it). */
  | 'done'
  /** Still marked running here (a shutdown stopped its tool first): hand it to any process again. */
  | 'left'
  /** Another process must run it (its tool is not served here): hand it to one later. */
  | 'elsewhere'

/** The policy's side of a queue. */
export interface TaskDispatch {
  /** A task handed to this process: claimed and run here, or not (see {@link Handled}). */
  run(taskId: string, stop: AbortSignal | undefined): Promise<Handled>
  /** The queue gave up on a task (it stalled more often than allowed): the policy ends it. */
  abandoned(taskId: string): Promise<void>
}

/** A dispatch queue. */
export interface TaskQueue {
  /** Whether this process takes tasks from it (a Redis replica without a worker takes none). */
  readonly runsTasks: boolean
  /**
   * Whether it hands a task out again when told it was `left` (BullMQ). A local queue does not: a
   * task left running stays with this process's record, and whoever takes over from it finds it.
   */
  readonly redelivers: boolean
  /** Tasks waiting in this process (it reports HealthyBusy while any do). */
  readonly waiting: number
  /** Takes a place for a new task of `tool`, before it is recorded. */
  reserve(tool: string): Promise<QueueTicket | QueueFull>
  /** Queues a task recorded as waiting for this process (taken over from one that stopped). */
  requeue(task: QueuedTask): Promise<void>
  /** Takes a waiting task out (it was cancelled); nothing when it does not wait. */
  remove(task: Pick<TaskRecord, 'taskId' | 'tool'>): Promise<void>
  /** Where a waiting task stands; undefined when this process cannot tell. */
  position(task: Pick<TaskRecord, 'taskId' | 'tool'>): Promise<QueuePlace | undefined>
  /** Whether the queue holds the task (what a start left half done is checked against). */
  holds(task: Pick<TaskRecord, 'taskId' | 'tool'>): Promise<boolean>
  /** Ids of the tasks waiting in this process, in queue order. */
  waitingIds(): string[]
  /** Starts handing tasks to `dispatch`, within this process's concurrency. */
  start(dispatch: TaskDispatch): Promise<void>
  /** Hands out nothing more (what waits stays recorded as waiting). */
  pause(): void
  close(): Promise<void>
}
