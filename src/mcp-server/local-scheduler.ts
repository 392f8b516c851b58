/**
 * How many tasks run at once in this process, and which waits next: tools that declare no limit
 * share one pool of `concurrency` slots; a tool that declares its own limit (one that mostly waits
 * on something else) has a pool of its own. Waiting tasks start by the rank they were given, lowest
 * first, equal ranks in the order they came.
 */

import type { QueuedTask } from './task-queue.ts'

/** A task as the scheduler holds it: what ordering needs, as the queue above it is given it. */
export type ScheduledTask = QueuedTask

/** A place taken for a task about to be recorded: fill it once recorded, or release it. */
export interface Reservation {
  /** True when the task has a slot and starts at once (record it as running). */
  readonly startsNow: boolean
  /** The task was recorded: it runs now (`startsNow`) or waits for its turn. */
  fill(task: ScheduledTask): void
  /** The task was not recorded (the write failed): the place is given back. */
  release(): void
}

/** Configuration of {@link LocalScheduler}. */
export interface LocalSchedulerConfig {
  /** Slots of the shared pool (tools that declare no limit). */
  readonly concurrency: number
  /** Limits of tools that declare their own. */
  readonly toolConcurrency: ReadonlyMap<string, number>
  /** Tasks that may wait at once (all pools together). */
  readonly queueLimit: number
  /** Runs a task given a slot; the slot frees when the promise settles. */
  readonly run: (task: ScheduledTask) => Promise<unknown>
}

/**
 * Waiting tasks by rank: the lowest rank starts first, equal ranks in the order they came. A rank
 * is fixed when the task is queued, so a place once told only moves forward.
 */
class FairQueue {
  /** Waiting tasks by rank, each rank first in first out. */
  readonly #byRank = new Map<number, ScheduledTask[]>()
  readonly #rankOf = new Map<string, number>()

  get size(): number {
    return this.#rankOf.size
  }

  push(task: ScheduledTask): void {
    let bucket = this.#byRank.get(task.rank)
    if (bucket === undefined) {
      bucket = []
      this.#byRank.set(task.rank, bucket)
    }
    bucket.push(task)
    this.#rankOf.set(task.taskId, task.rank)
  }

  shift(): ScheduledTask | undefined {
    if (this.#byRank.size === 0) return undefined
    const rank = Math.min(...this.#byRank.keys())
    return this.#take(rank, 0)
  }

  remove(taskId: string): ScheduledTask | undefined {
    const rank = this.#rankOf.get(taskId)
    const index =
      rank === undefined ? -1 : (this.#byRank.get(rank)?.findIndex((task) => task.taskId === taskId) ?? -1)
    return rank === undefined || index < 0 ? undefined : this.#take(rank, index)
  }

  /** Tasks that start before `taskId` (a lower rank, or the same rank and earlier), plus one. */
  position(taskId: string): number | undefined {
    const rank = this.#rankOf.get(taskId)
    if (rank === undefined) return undefined
    let ahead = 0
    for (const [each, bucket] of this.#byRank) {
      if (each < rank) ahead += bucket.length
      else if (each === rank) ahead += bucket.findIndex((task) => task.taskId === taskId)
    }
    return ahead + 1
  }

  #take(rank: number, index: number): ScheduledTask {
    const bucket = this.#byRank.get(rank) as ScheduledTask[]
    const [task] = bucket.splice(index, 1) as [ScheduledTask]
    if (bucket.length === 0) this.#byRank.delete(rank)
    this.#rankOf.delete(task.taskId)
    return task
  }
}

interface Pool {
  readonly limit: number
  running: number
  readonly waiting: FairQueue
}

/** The slots and the queue of this process. */
export class LocalScheduler {
  readonly #config: LocalSchedulerConfig
  readonly #pools = new Map<string, Pool>()
  /** The pool each waiting task waits in, in queue order (for positions and removal). */
  readonly #waitingIn = new Map<string, Pool>()
  /** Places in the queue taken for tasks still being recorded. */
  #reservedPlaces = 0
  #closed = false

  constructor(config: LocalSchedulerConfig) {
    this.#config = config
  }

  /** Tasks waiting for a slot (places taken for tasks being recorded included), all pools together. */
  get queued(): number {
    return this.#waitingIn.size + this.#reservedPlaces
  }

  /** Tasks holding a slot now. */
  get running(): number {
    let running = 0
    for (const pool of this.#pools.values()) running += pool.running
    return running
  }

  /**
   * Takes a place for a new task before it is recorded, so concurrent starts cannot all take the
   * same free slot: a slot when one is free and nobody waits for it, else a place in the queue;
   * undefined when the queue is full (the task must not be recorded then).
   */
  reserve(tool: string): Reservation | undefined {
    const pool = this.#pool(tool)
    if (!this.#closed && pool.running < pool.limit && pool.waiting.size === 0) {
      pool.running += 1
      let settled = false
      return {
        startsNow: true,
        fill: (task) => {
          if (settled) return
          settled = true
          this.#launch(pool, task)
        },
        release: () => {
          if (settled) return
          settled = true
          pool.running -= 1
          this.#pump(pool)
        },
      }
    }
    if (this.queued >= this.#config.queueLimit) return undefined
    this.#reservedPlaces += 1
    let settled = false
    return {
      startsNow: false,
      fill: (task) => {
        if (settled) return
        settled = true
        this.#reservedPlaces -= 1
        this.enqueue(task)
      },
      release: () => {
        if (settled) return
        settled = true
        this.#reservedPlaces -= 1
      },
    }
  }

  /** Queues a task (one recorded as queued, found at start); it runs when its turn comes. */
  enqueue(task: ScheduledTask): void {
    const pool = this.#pool(task.tool)
    pool.waiting.push(task)
    this.#waitingIn.set(task.taskId, pool)
    this.#pump(pool)
  }

  /** Takes a waiting task out (cancelled before it ran); false when it does not wait here. */
  remove(taskId: string): boolean {
    const pool = this.#waitingIn.get(taskId)
    if (pool === undefined) return false
    this.#waitingIn.delete(taskId)
    return pool.waiting.remove(taskId) !== undefined
  }

  /** Tasks that start before `taskId` in its pool, plus one; undefined when it does not wait here. */
  position(taskId: string): number | undefined {
    return this.#waitingIn.get(taskId)?.waiting.position(taskId)
  }

  /** Ids of the tasks waiting here, in the order they were queued. */
  waitingIds(): string[] {
    return [...this.#waitingIn.keys()]
  }

  /** Stops starting waiting tasks (they stay recorded as queued for a later start). */
  close(): void {
    this.#closed = true
  }

  #pool(tool: string): Pool {
    const own = this.#config.toolConcurrency.get(tool)
    const key = own === undefined ? '' : `tool:${tool}`
    let pool = this.#pools.get(key)
    if (pool === undefined) {
      pool = { limit: own ?? this.#config.concurrency, running: 0, waiting: new FairQueue() }
      this.#pools.set(key, pool)
    }
    return pool
  }

  #pump(pool: Pool): void {
    while (!this.#closed && pool.running < pool.limit) {
      const next = pool.waiting.shift()
      if (next === undefined) return
      this.#waitingIn.delete(next.taskId)
      pool.running += 1
      this.#launch(pool, next)
    }
  }

  /** Runs `task` in a slot of `pool` already counted as taken. */
  #launch(pool: Pool, task: ScheduledTask): void {
    const release = () => {
      pool.running -= 1
      this.#pump(pool)
    }
    // A failing run must not leave its slot taken; the run reports its own errors.
    this.#config.run(task).then(release, release)
  }
}
