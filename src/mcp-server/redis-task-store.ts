/**
 * The {@link TaskStore} on Redis: one hash per task (its after-end jobs in fields of it), an index
 * of each owner's listed tasks, the per-owner count of active tasks, the set of tasks held by one
 * process's own queue (inline calls), the starts not yet confirmed by their queue, the sets of owed
 * jobs, and each process's lease as a key that expires. Every change that must hold together (a
 * task's end, its jobs and its owner's count) is one Lua script, so a crash between commands
 * cannot split it. A cancel is announced on a channel the holder listens to.
 */
import type { Redis } from 'ioredis'
import { echo, McpServerError } from './errors.ts'
import { backendUnavailable, type RedisConnection } from './redis-connection.ts'
import {
  CLAIM_SCRIPT,
  CREATE_SCRIPT,
  END_SCRIPT,
  fromFields,
  jobFields,
  PROGRESS_SCRIPT,
  type RedisKeys,
  RELEASE_SCRIPT,
  REMOVE_SCRIPT,
  SETTLE_SCRIPT,
  toFields,
} from './redis-task-layout.ts'
import { decodeCursor, encodeCursor } from './task-cursor.ts'
import {
  type AfterEndJob,
  type DeliveryState,
  type JobKey,
  type NewTaskRecord,
  newRecord,
  type OwedJob,
  type Placement,
  type Settlement,
  type TaskEnd,
  type TaskPage,
  type TaskProgress,
  type TaskRecord,
} from './task-record.ts'
import type { Claim, EndBy, Placed, TaskStore, WorkerLease } from './task-store.ts'

type Scripted = Redis & {
  longrunCreate(...args: (string | number)[]): Promise<number>
  longrunRemove(...args: (string | number)[]): Promise<number>
  longrunClaim(...args: (string | number)[]): Promise<string[] | null>
  longrunProgress(...args: (string | number)[]): Promise<string>
  longrunEnd(...args: (string | number)[]): Promise<number>
  longrunRelease(...args: (string | number)[]): Promise<number>
  longrunSettle(...args: (string | number)[]): Promise<number>
}

/** Configuration of {@link RedisTaskStore}. */
export interface RedisTaskStoreConfig {
  readonly connection: RedisConnection
  readonly keys: RedisKeys
}

/** The task records on Redis. */
export class RedisTaskStore implements TaskStore {
  readonly keys: RedisKeys
  readonly #connection: RedisConnection
  readonly #redis: Scripted
  readonly #subscribers = new Set<Redis>()

  constructor(config: RedisTaskStoreConfig) {
    this.keys = config.keys
    this.#connection = config.connection
    const redis = config.connection.commands
    redis.defineCommand('longrunCreate', { numberOfKeys: 5, lua: CREATE_SCRIPT })
    redis.defineCommand('longrunRemove', { numberOfKeys: 5, lua: REMOVE_SCRIPT })
    redis.defineCommand('longrunClaim', { numberOfKeys: 2, lua: CLAIM_SCRIPT })
    redis.defineCommand('longrunProgress', { numberOfKeys: 1, lua: PROGRESS_SCRIPT })
    // Variable key counts: the caller passes the number of keys first.
    redis.defineCommand('longrunEnd', { lua: END_SCRIPT })
    redis.defineCommand('longrunRelease', { numberOfKeys: 2, lua: RELEASE_SCRIPT })
    redis.defineCommand('longrunSettle', { lua: SETTLE_SCRIPT })
    this.#redis = redis as Scripted
  }

  async create(task: NewTaskRecord, placement: Placement): Promise<Placed> {
    const record = newRecord(task, placement)
    const rank = await this.#run(() =>
      this.#redis.longrunCreate(
        this.keys.task(task.taskId),
        this.keys.owner(task.owner),
        this.keys.active,
        this.keys.submitting,
        this.keys.inline,
        JSON.stringify(toFields(record)),
        task.mode === 'inline' ? '' : 'listed',
        task.createdAt,
        task.taskId,
        placement.holder === undefined ? '' : 'held',
        task.owner,
      ),
    )
    if (rank < 0)
      throw new McpServerError('INVALID_CONFIG', `a task with id ${echo(task.taskId)} exists already`)
    return { record, rank }
  }

  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    const fields = await this.#run(() => this.#redis.hgetall(this.keys.task(taskId)))
    if (fields.taskId === undefined) return undefined
    const task = fromFields(fields)
    return owner !== undefined && task.owner !== owner ? undefined : task
  }

  /**
   * The owner's listed tasks, newest first (by creation time, then id, as on SQLite); index
   * entries of tasks whose time-to-live passed are dropped on the way.
   */
  async list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, owner)
    const index = this.keys.owner(owner)
    const max = after === undefined ? '+inf' : String(after.createdAt)
    const batchSize = options.limit + 1
    const tasks: TaskRecord[] = []
    const gone: string[] = []
    for (let offset = 0; tasks.length <= options.limit; offset += batchSize) {
      const batch = await this.#run(() =>
        this.#redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', offset, batchSize),
      )
      const ids: string[] = []
      for (let i = 0; i < batch.length; i += 2) {
        const taskId = batch[i] as string
        // Equal times come by id, descending: those up to the cursor's own were on earlier pages.
        if (after !== undefined && Number(batch[i + 1]) === after.createdAt && taskId >= after.taskId)
          continue
        ids.push(taskId)
      }
      const records = await Promise.all(ids.map((taskId) => this.get(taskId)))
      records.forEach((record, i) => {
        if (record === undefined) gone.push(ids[i] as string)
        else tasks.push(record)
      })
      if (batch.length < batchSize * 2) break
    }
    if (gone.length > 0) await this.#run(() => this.#redis.zrem(index, ...gone))
    const page = tasks.slice(0, options.limit)
    const last = page.at(-1)
    return tasks.length > options.limit && last !== undefined
      ? { tasks: page, nextCursor: encodeCursor(owner, last.createdAt, last.taskId) }
      : { tasks: page }
  }

  async remove(task: Pick<TaskRecord, 'taskId' | 'owner'>): Promise<boolean> {
    const removed = await this.#run(() =>
      this.#redis.longrunRemove(
        this.keys.task(task.taskId),
        this.keys.owner(task.owner),
        this.keys.active,
        this.keys.submitting,
        this.keys.inline,
        task.taskId,
      ),
    )
    return removed === 1
  }

  async confirm(taskId: string): Promise<void> {
    await this.#run(() => this.#redis.zrem(this.keys.submitting, taskId))
  }

  async unconfirmed(before: number): Promise<string[]> {
    return this.#run(() => this.#redis.zrangebyscore(this.keys.submitting, '-inf', before))
  }

  async claim(taskId: string, claim: Claim): Promise<Placed | undefined> {
    const reply = await this.#run(() =>
      this.#redis.longrunClaim(
        this.keys.task(taskId),
        this.keys.active,
        claim.from.stage,
        claim.from.holder ?? '',
        claim.holder,
        claim.stage,
        claim.addRun ? '1' : '0',
        claim.statusMessage === undefined ? 'keep' : claim.statusMessage === null ? 'clear' : 'set',
        claim.statusMessage ?? '',
        claim.now,
      ),
    )
    if (reply === null) return undefined
    const fields: Record<string, string> = {}
    for (let i = 0; i < reply.length; i += 2) fields[reply[i] as string] = reply[i + 1] as string
    return { record: fromFields(fields), rank: Number(fields.__rank) }
  }

  async saveProgress(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<string[]> {
    if (updates.length === 0) return []
    const pipeline = this.#redis.pipeline()
    for (const { taskId, patch } of updates) {
      ;(pipeline as unknown as Scripted).longrunProgress(
        this.keys.task(taskId),
        patch.progress ?? '',
        patch.total ?? '',
        patch.statusMessage ?? '',
        patch.updatedAt,
      )
    }
    const results = (await this.#run(() => pipeline.exec())) ?? []
    // Only an answer stops a run: an error (a script Redis forgot in a restart, say) is no end.
    const failed = results.find(([error]) => error !== null)?.[0]
    const ended = updates
      .filter((_, i) => {
        const [error, status] = results[i] ?? [null, undefined]
        return (
          error === null && typeof status === 'string' && status !== 'working' && status !== 'input_required'
        )
      })
      .map((update) => update.taskId)
    if (failed !== undefined && failed !== null && ended.length === 0)
      throw backendUnavailable(failed, this.#connection.where)
    return ended
  }

  async end(
    taskId: string,
    end: TaskEnd,
    by: EndBy,
    jobs: readonly AfterEndJob[],
  ): Promise<TaskRecord | undefined> {
    const keys = [
      this.keys.task(taskId),
      this.keys.active,
      this.keys.inline,
      this.keys.submitting,
      ...jobs.map((job) => this.keys.owed(job.kind)),
    ]
    const ended = await this.#run(() =>
      this.#redis.longrunEnd(
        keys.length,
        ...keys,
        by.how,
        by.workerId,
        end.status,
        end.statusMessage ?? '',
        JSON.stringify(end.result),
        end.endedAt,
        taskId,
        jobs.length,
        ...jobs.flatMap((job) => {
          const fields = jobFields(job.kind)
          return [fields.payload, fields.state, JSON.stringify(job.payload)]
        }),
      ),
    )
    return ended === 1 ? this.get(taskId) : undefined
  }

  async release(taskId: string, workerId: string): Promise<void> {
    await this.#run(() =>
      this.#redis.longrunRelease(this.keys.task(taskId), this.keys.inline, workerId, taskId),
    )
  }

  /** Held tasks (inline calls) whose holder's lease key expired; done ones leave the set. */
  async orphans(): Promise<TaskRecord[]> {
    const ids = await this.#run(() => this.#redis.smembers(this.keys.inline))
    const records = await Promise.all(ids.map((taskId) => this.get(taskId)))
    const gone = ids.filter((_, i) => records[i] === undefined || records[i]?.stage === 'done')
    if (gone.length > 0) await this.#run(() => this.#redis.srem(this.keys.inline, ...gone))
    const held = records.filter(
      (task): task is TaskRecord =>
        task !== undefined && task.stage !== 'done' && task.workerId !== undefined,
    )
    const alive = await this.#run(() =>
      Promise.all(held.map((task) => this.#redis.exists(this.keys.worker(task.workerId as string)))),
    )
    return held.filter((_, i) => alive[i] === 0).sort((a, b) => a.createdAt - b.createdAt)
  }

  /** Nothing to do: an ended task's hash expires with its time-to-live. */
  async removeExpired(): Promise<number> {
    return 0
  }

  async registerWorker(worker: WorkerLease, leaseMs: number): Promise<void> {
    await this.#run(() =>
      this.#redis
        .multi()
        .set(
          this.keys.worker(worker.workerId),
          JSON.stringify(worker),
          'PX',
          Math.max(1, Math.round(leaseMs)),
        )
        .sadd(this.keys.workers, worker.workerId)
        .exec(),
    )
  }

  async renewWorker(workerId: string, leaseMs: number): Promise<boolean> {
    const renewed = await this.#run(() =>
      this.#redis.pexpire(this.keys.worker(workerId), Math.max(1, Math.round(leaseMs))),
    )
    return renewed === 1
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.#run(() =>
      this.#redis.multi().del(this.keys.worker(workerId)).srem(this.keys.workers, workerId).exec(),
    )
  }

  async liveWorkers(): Promise<WorkerLease[]> {
    const ids = await this.#run(() => this.#redis.smembers(this.keys.workers))
    if (ids.length === 0) return []
    const values = await this.#run(() => this.#redis.mget(...ids.map((id) => this.keys.worker(id))))
    const expired = ids.filter((_, i) => values[i] === null)
    if (expired.length > 0) await this.#run(() => this.#redis.srem(this.keys.workers, ...expired))
    return values.flatMap((value) => {
      // A key an earlier version wrote holds only a pid: not a lease this version can read.
      const lease = value === null ? undefined : (JSON.parse(value) as WorkerLease | number)
      return typeof lease === 'object' && Array.isArray(lease.tools) ? [lease] : []
    })
  }

  async announceEnd(taskId: string): Promise<void> {
    await this.#run(() => this.#redis.publish(this.keys.cancelChannel, taskId))
  }

  watchEnds(_workerId: string, onEnded: (taskId: string) => void): () => void {
    const subscriber = this.#connection.duplicate()
    this.#subscribers.add(subscriber)
    subscriber.on('message', (_channel: string, taskId: string) => onEnded(taskId))
    subscriber.subscribe(this.keys.cancelChannel).catch((error: unknown) => this.#connection.warn(error))
    return () => {
      this.#subscribers.delete(subscriber)
      subscriber.disconnect()
    }
  }

  async job(key: JobKey): Promise<OwedJob | undefined> {
    const fields = jobFields(key.kind)
    const [payload, state] = await this.#run(() =>
      this.#redis.hmget(this.keys.task(key.taskId), fields.payload, fields.state),
    )
    if (payload === null || payload === undefined || state === null || state === undefined) return undefined
    const parsed = JSON.parse(state) as {
      state: DeliveryState['state']
      attempts: number
      lastError?: string | null
    }
    return {
      ...key,
      payload: JSON.parse(payload) as unknown,
      state: parsed.state,
      attempts: parsed.attempts,
      lastError: parsed.lastError ?? undefined,
    }
  }

  async settleJob(key: JobKey, settlement: Settlement): Promise<void> {
    const fields = jobFields(key.kind)
    const then = settlement.then ?? []
    const keys = [
      this.keys.task(key.taskId),
      this.keys.owed(key.kind),
      ...then.map((job) => this.keys.owed(job.kind)),
    ]
    await this.#run(() =>
      this.#redis.longrunSettle(
        keys.length,
        ...keys,
        fields.state,
        fields.payload,
        settlement.state,
        settlement.lastError ?? '',
        settlement.retryAt ?? '',
        settlement.payload === undefined ? '' : JSON.stringify(settlement.payload),
        key.taskId,
        then.length,
        ...then.flatMap((job) => {
          const next = jobFields(job.kind)
          return [next.payload, next.state, JSON.stringify(job.payload)]
        }),
      ),
    )
  }

  /** The owed jobs of `kinds`; entries whose task expired while owed are dropped on the way. */
  async owedJobs(kinds: readonly string[]): Promise<JobKey[]> {
    const owed: JobKey[] = []
    for (const kind of kinds) {
      const ids = await this.#run(() => this.#redis.smembers(this.keys.owed(kind)))
      const present = await this.#run(() =>
        Promise.all(ids.map((taskId) => this.#redis.hexists(this.keys.task(taskId), jobFields(kind).state))),
      )
      const gone = ids.filter((_, i) => present[i] === 0)
      if (gone.length > 0) await this.#run(() => this.#redis.srem(this.keys.owed(kind), ...gone))
      for (const [i, taskId] of ids.entries()) if (present[i] === 1) owed.push({ taskId, kind })
    }
    return owed
  }

  async close(): Promise<void> {
    for (const subscriber of this.#subscribers) subscriber.disconnect()
    this.#subscribers.clear()
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    return this.#connection.call(work)
  }
}
