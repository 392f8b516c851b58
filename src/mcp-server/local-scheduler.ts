/**
 * How many tasks run at once in this process, and which waits next: tools that declare no limit
 * share one pool of `concurrency` slots; a tool that declares its own limit (one that mostly waits
 * on something else) has a pool of its own. Waiting tasks are taken fairly across owners, in order
 * within each owner, so one actor's burst cannot starve the others.
 */

/** A task as the scheduler holds it: no input, no result, only what ordering needs. */
export interface ScheduledTask {
  readonly taskId: string
  readonly owner: string
  readonly tool: string
}

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
  readonly run: (task: ScheduledTask) => Promise<void>
}

/**
 * Fair across owners, first in first out within one owner. A waiting task's rank is its owner's
 * running tasks plus its place in the owner's queue; the lowest rank starts first (on a tie, the
 * owner waiting longest). So an actor with one task asked waits behind no backlog of another's,
 * and a burst is interleaved with everyone else's work. Starting a task leaves every rank as it
 * was (the owner runs one more and waits one fewer), so a position is a count, not a simulation.
 */
class FairQueue {
  /** Owners with waiting tasks, in the order they began waiting (the tie-break). */
  readonly #owners: string[] = []
  readonly #byOwner = new Map<string, ScheduledTask[]>()
  readonly #runningOf: (owner: string) => number
  #size = 0

  constructor(runningOf: (owner: string) => number) {
    this.#runningOf = runningOf
  }

  get size(): number {
    return this.#size
  }

  push(task: ScheduledTask): void {
    let list = this.#byOwner.get(task.owner)
    if (list === undefined) {
      list = []
      this.#byOwner.set(task.owner, list)
      this.#owners.push(task.owner)
    }
    list.push(task)
    this.#size += 1
  }

  shift(): ScheduledTask | undefined {
    let best: string | undefined
    let bestRunning = Number.POSITIVE_INFINITY
    for (const owner of this.#owners) {
      const running = this.#runningOf(owner)
      if (running < bestRunning) {
        best = owner
        bestRunning = running
      }
    }
    if (best === undefined) return undefined
    return this.#take(best, 0)
  }

  remove(taskId: string, owner: string): boolean {
    const index = this.#byOwner.get(owner)?.findIndex((task) => task.taskId === taskId) ?? -1
    if (index < 0) return false
    this.#take(owner, index)
    return true
  }

  /** Tasks that start before `taskId` (lower rank, or equal rank of an owner waiting longer), plus one. */
  position(taskId: string, owner: string): number | undefined {
    const index = this.#byOwner.get(owner)?.findIndex((task) => task.taskId === taskId) ?? -1
    if (index < 0) return undefined
    const rank = this.#runningOf(owner) + index
    const mine = this.#owners.indexOf(owner)
    let ahead = index
    this.#owners.forEach((other, order) => {
      if (other === owner) return
      const length = (this.#byOwner.get(other) as ScheduledTask[]).length
      const lower = rank - this.#runningOf(other)
      ahead += Math.max(0, Math.min(lower, length))
      if (order < mine && lower >= 0 && lower < length) ahead += 1
    })
    return ahead + 1
  }

  #take(owner: string, index: number): ScheduledTask {
    const list = this.#byOwner.get(owner) as ScheduledTask[]
    const [task] = list.splice(index, 1) as [ScheduledTask]
    this.#size -= 1
    if (list.length === 0) {
      this.#byOwner.delete(owner)
      this.#owners.splice(this.#owners.indexOf(owner), 1)
    }
    return task
  }
}

interface Pool {
  readonly limit: number
  running: number
  /** Running tasks per owner: what ranks waiting tasks. */
  readonly runningByOwner: Map<string, number>
  readonly waiting: FairQueue
}

/** The slots and the queue of this process. */
export class LocalScheduler {
  readonly #config: LocalSchedulerConfig
  readonly #pools = new Map<string, Pool>()
  /** Which owner each waiting task belongs to (for positions and removal). */
  readonly #waitingOwner = new Map<string, { owner: string; pool: Pool }>()
  /** Places in the queue taken for tasks still being recorded. */
  #reservedPlaces = 0
  #closed = false

  constructor(config: LocalSchedulerConfig) {
    this.#config = config
  }

  /** Tasks waiting for a slot (places taken for tasks being recorded included), all pools together. */
  get queued(): number {
    return this.#waitingOwner.size + this.#reservedPlaces
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
          this.#launch(pool, task, true)
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
    this.#waitingOwner.set(task.taskId, { owner: task.owner, pool })
    this.#pump(pool)
  }

  /** Takes a waiting task out (cancelled before it ran); false when it does not wait here. */
  remove(taskId: string): boolean {
    const entry = this.#waitingOwner.get(taskId)
    if (entry === undefined) return false
    this.#waitingOwner.delete(taskId)
    return entry.pool.waiting.remove(taskId, entry.owner)
  }

  /** Tasks that start before `taskId` in its pool, plus one; undefined when it does not wait here. */
  position(taskId: string): number | undefined {
    const entry = this.#waitingOwner.get(taskId)
    return entry === undefined ? undefined : entry.pool.waiting.position(taskId, entry.owner)
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
      const runningByOwner = new Map<string, number>()
      pool = {
        limit: own ?? this.#config.concurrency,
        running: 0,
        runningByOwner,
        waiting: new FairQueue((owner) => runningByOwner.get(owner) ?? 0),
      }
      this.#pools.set(key, pool)
    }
    return pool
  }

  #pump(pool: Pool): void {
    while (!this.#closed && pool.running < pool.limit) {
      const next = pool.waiting.shift()
      if (next === undefined) return
      this.#waitingOwner.delete(next.taskId)
      this.#launch(pool, next)
    }
  }

  #launch(pool: Pool, task: ScheduledTask, slotTaken = false): void {
    if (!slotTaken) pool.running += 1
    pool.runningByOwner.set(task.owner, (pool.runningByOwner.get(task.owner) ?? 0) + 1)
    const release = () => {
      pool.running -= 1
      const left = (pool.runningByOwner.get(task.owner) ?? 1) - 1
      if (left === 0) pool.runningByOwner.delete(task.owner)
      else pool.runningByOwner.set(task.owner, left)
      this.#pump(pool)
    }
    // A failing run must not leave its slot taken; the run reports its own errors.
    this.#config.run(task).then(release, release)
  }
}
