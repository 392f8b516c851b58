/**
 * How many tasks run at once in this process, and which waits next: tools that declare no limit
 * share one pool of `concurrency` slots; a tool that declares its own limit (one that mostly waits
 * on something else) has a pool of its own. Waiting tasks are taken round-robin across owners, in
 * order within each owner, so one actor's burst cannot starve the others.
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

/** Round-robin across owners, first in first out within one owner. */
class FairQueue {
  /** Owners with waiting tasks, in serving order; `#next` is the one served next. */
  readonly #owners: string[] = []
  readonly #byOwner = new Map<string, ScheduledTask[]>()
  #next = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  push(task: ScheduledTask): void {
    let list = this.#byOwner.get(task.owner)
    if (list === undefined) {
      list = []
      this.#byOwner.set(task.owner, list)
      // A newcomer is served after the owners already waiting in this round.
      this.#owners.splice(this.#next, 0, task.owner)
      this.#next += 1
      if (this.#next >= this.#owners.length) this.#next = 0
    }
    list.push(task)
    this.#size += 1
  }

  shift(): ScheduledTask | undefined {
    if (this.#size === 0) return undefined
    const owner = this.#owners[this.#next] as string
    const list = this.#byOwner.get(owner) as ScheduledTask[]
    const task = list.shift() as ScheduledTask
    this.#size -= 1
    if (list.length === 0) {
      this.#byOwner.delete(owner)
      this.#owners.splice(this.#next, 1)
    } else this.#next += 1
    if (this.#next >= this.#owners.length) this.#next = 0
    return task
  }

  remove(taskId: string, owner: string): boolean {
    const list = this.#byOwner.get(owner)
    const index = list?.findIndex((task) => task.taskId === taskId) ?? -1
    if (list === undefined || index < 0) return false
    list.splice(index, 1)
    this.#size -= 1
    if (list.length === 0) {
      this.#byOwner.delete(owner)
      const at = this.#owners.indexOf(owner)
      this.#owners.splice(at, 1)
      if (at < this.#next) this.#next -= 1
      if (this.#next >= this.#owners.length) this.#next = 0
    }
    return true
  }

  /**
   * How many tasks leave before `taskId`, plus one: with the task at index i of its owner's list,
   * every round serves one task of each owner that still has one, starting with `#next`.
   */
  position(taskId: string, owner: string): number | undefined {
    const index = this.#byOwner.get(owner)?.findIndex((task) => task.taskId === taskId) ?? -1
    if (index < 0) return undefined
    const count = this.#owners.length
    const mine = (this.#owners.indexOf(owner) - this.#next + count) % count
    let ahead = 0
    for (let offset = 0; offset < count; offset += 1) {
      const other = this.#owners[(this.#next + offset) % count] as string
      const length = (this.#byOwner.get(other) as ScheduledTask[]).length
      // Rounds 0..index-1 take one of each; in round `index`, the owners served before ours.
      ahead += Math.min(length, index) + (offset < mine && length > index ? 1 : 0)
    }
    return ahead + 1
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
      pool = { limit: own ?? this.#config.concurrency, running: 0, waiting: new FairQueue() }
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
    const release = () => {
      pool.running -= 1
      this.#pump(pool)
    }
    // A failing run must not leave its slot taken; the run reports its own errors.
    this.#config.run(task).then(release, release)
  }
}
