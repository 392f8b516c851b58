/**
 * Task records on Redis, under the Redis backend: one hash per task, an index of each owner's
 * background tasks, the per-owner count of active tasks that ranks them in the queue, and the set
 * of memory events still owed. Every change that must hold together (a task's end, its memory
 * event and its owner's count) is one Lua script, so a crash between commands cannot split it.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { type Redis, ReplyError } from 'ioredis'
import type { CompositeSessionParts } from '../mcp/composite-session-header.ts'
import type { TraceCarrier } from '../telemetry/index.ts'
import { McpServerError } from './errors.ts'
import type { CallMode } from './long-running-tool.ts'
import { decodeCursor, encodeCursor } from './task-cursor.ts'
import type {
  DeliveryState,
  NewTaskRecord,
  OutboxEntry,
  TaskEnd,
  TaskPage,
  TaskProgress,
  TaskRecord,
  TaskStage,
  TaskStatus,
} from './task-record.ts'

/** The key names, all under one prefix (default `longrun`). */
export class RedisKeys {
  readonly prefix: string

  constructor(prefix: string) {
    this.prefix = prefix
  }

  task(taskId: string): string {
    return `${this.prefix}:task:${taskId}`
  }

  /** An owner's background tasks, scored by creation time. */
  owner(owner: string): string {
    return `${this.prefix}:owner:${owner}`
  }

  /** Active (queued or running) tasks per owner: the rank of the owner's next task. */
  get active(): string {
    return `${this.prefix}:active`
  }

  /** Tasks whose memory event is still owed. */
  get owed(): string {
    return `${this.prefix}:owed`
  }

  /** Inline calls not ended yet (each lives in the process holding its request). */
  get inline(): string {
    return `${this.prefix}:inline`
  }

  /** Background tasks recorded but whose queue job is not confirmed yet, scored by time. */
  get submitting(): string {
    return `${this.prefix}:submitting`
  }

  /** A process's liveness, with the lease as its time to live. */
  worker(workerId: string): string {
    return `${this.prefix}:worker:${workerId}`
  }

  /** The channel a cancel is announced on, for the process running the task. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`
  }
}

/** How a new task is recorded. */
export interface RedisSubmitOptions {
  readonly stage: 'queued' | 'running'
  readonly workerId: string | undefined
}

/** Ends a task: `complete` by the process that ran it (must still hold it), `cancel` by anyone. */
const END_SCRIPT = `
local h = KEYS[1]
local status = redis.call('HGET', h, 'status')
local how = ARGV[1]
local workerId = ARGV[2]
if status ~= 'working' and status ~= 'input_required' then
  if how == 'complete' and redis.call('HGET', h, 'workerId') == workerId and redis.call('HGET', h, 'stage') == 'running' then
    redis.call('HSET', h, 'stage', 'done')
  end
  return 0
end
if how == 'complete' and redis.call('HGET', h, 'workerId') ~= workerId then return 0 end
local stage = redis.call('HGET', h, 'stage')
local nextStage = 'done'
if how == 'cancel' and stage == 'running' then nextStage = 'running' end
redis.call('HSET', h, 'status', ARGV[3], 'statusMessage', ARGV[4], 'result', ARGV[5], 'updatedAt', ARGV[6], 'stage', nextStage, 'expiresAt', ARGV[7])
if ARGV[8] ~= '' then
  redis.call('HSET', h, 'outbox', ARGV[8], 'delivery', '{"state":"pending","attempts":0}')
  redis.call('SADD', KEYS[3], ARGV[10])
end
local owner = redis.call('HGET', h, 'owner')
if redis.call('HINCRBY', KEYS[2], owner, -1) <= 0 then redis.call('HDEL', KEYS[2], owner) end
redis.call('SREM', KEYS[4], ARGV[10])
redis.call('PEXPIRE', h, ARGV[9])
return 1
`

/** Records a new task (refusing a duplicate id); returns its owner's active count, its rank. */
const SUBMIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local fields = cjson.decode(ARGV[1])
for name, value in pairs(fields) do redis.call('HSET', KEYS[1], name, value) end
if ARGV[2] == 'listed' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4]) end
if ARGV[5] == 'inline' then redis.call('SADD', KEYS[5], ARGV[4]) else redis.call('ZADD', KEYS[4], ARGV[6], ARGV[4]) end
return redis.call('HINCRBY', KEYS[3], ARGV[7], 1)
`

/** Takes back a task whose queue job could not be added (the start was refused, nothing stays). */
const UNSUBMIT_SCRIPT = `
if redis.call('HGET', KEYS[1], 'stage') ~= 'queued' or redis.call('HGET', KEYS[1], 'runs') ~= '0' then return 0 end
local owner = redis.call('HGET', KEYS[1], 'owner')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if owner and redis.call('HINCRBY', KEYS[3], owner, -1) <= 0 then redis.call('HDEL', KEYS[3], owner) end
return 1
`

/** A run starts: the task is this process's, one more run. Nothing when it ended or is not as expected. */
const CLAIM_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'working' and status ~= 'input_required' then return 0 end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'stage') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'stage', 'running', 'workerId', ARGV[1], 'updatedAt', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'statusMessage', ARGV[4]) else redis.call('HDEL', KEYS[1], 'statusMessage') end
redis.call('HINCRBY', KEYS[1], 'runs', tonumber(ARGV[5]))
return 1
`

/** Progress of a running task; answers its status (an ended task is left as it is). */
const PROGRESS_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'working' and status ~= 'input_required' then return status or 'missing' end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'total', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'statusMessage', ARGV[3]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[4])
return status
`

/** Where a task's memory event stands; a final state leaves the owed set. */
const DELIVERY_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'delivery', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'outbox', ARGV[2]) end
if ARGV[3] == 'final' then redis.call('SREM', KEYS[2], ARGV[4]) end
return 1
`

type Scripted = Redis & {
  longrunEnd(...args: (string | number)[]): Promise<number>
  longrunSubmit(...args: (string | number)[]): Promise<number>
  longrunUnsubmit(...args: (string | number)[]): Promise<number>
  longrunClaim(...args: (string | number)[]): Promise<number>
  longrunProgress(...args: (string | number)[]): Promise<string>
  longrunDelivery(...args: (string | number)[]): Promise<number>
}

/** Turns a lost connection into BACKEND_UNAVAILABLE (retryable); Redis's own answers pass through. */
export function backendUnavailable(error: unknown, where: string): unknown {
  if (error instanceof ReplyError || error instanceof McpServerError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new McpServerError(
    'BACKEND_UNAVAILABLE',
    `Redis at ${where} is out of reach (${reason}): retry shortly`,
    {
      retryAfterMs: 1000,
      cause: error,
    },
  )
}

/** The task records. */
export class RedisTaskStore {
  readonly keys: RedisKeys
  readonly #redis: Scripted
  readonly #where: string

  /** `where` names the Redis in errors (REDIS_URL without its password). */
  constructor(redis: Redis, keys: RedisKeys, where: string) {
    this.keys = keys
    this.#where = where
    redis.defineCommand('longrunEnd', { numberOfKeys: 4, lua: END_SCRIPT })
    redis.defineCommand('longrunSubmit', { numberOfKeys: 5, lua: SUBMIT_SCRIPT })
    redis.defineCommand('longrunUnsubmit', { numberOfKeys: 4, lua: UNSUBMIT_SCRIPT })
    redis.defineCommand('longrunClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT })
    redis.defineCommand('longrunProgress', { numberOfKeys: 1, lua: PROGRESS_SCRIPT })
    redis.defineCommand('longrunDelivery', { numberOfKeys: 2, lua: DELIVERY_SCRIPT })
    this.#redis = redis as Scripted
  }

  /** Records a new task; returns it with its rank (its owner's active tasks, itself included). */
  async submit(
    task: NewTaskRecord,
    options: RedisSubmitOptions,
  ): Promise<{ record: TaskRecord; rank: number }> {
    const record = newRecord(task, options)
    const listed = task.mode !== 'inline'
    const rank = await this.#run(() =>
      this.#redis.longrunSubmit(
        this.keys.task(task.taskId),
        this.keys.owner(task.owner),
        this.keys.active,
        this.keys.submitting,
        this.keys.inline,
        JSON.stringify(toFields(record)),
        listed ? 'listed' : '',
        task.createdAt,
        task.taskId,
        task.mode === 'inline' ? 'inline' : '',
        Date.now(),
        task.owner,
      ),
    )
    if (rank < 0) throw new McpServerError('INVALID_CONFIG', `a task with id ${task.taskId} exists already`)
    return { record, rank }
  }

  /** The job of a submitted task is in its queue: it no longer needs watching. */
  async submitted(taskId: string): Promise<void> {
    await this.#run(() => this.#redis.zrem(this.keys.submitting, taskId))
  }

  /** Takes back a submitted task that never got its queue job (it never ran). */
  async unsubmit(task: Pick<TaskRecord, 'taskId' | 'owner'>): Promise<boolean> {
    const removed = await this.#run(() =>
      this.#redis.longrunUnsubmit(
        this.keys.task(task.taskId),
        this.keys.owner(task.owner),
        this.keys.active,
        this.keys.submitting,
        task.taskId,
      ),
    )
    return removed === 1
  }

  /** Background tasks recorded before `before` whose job was never confirmed. */
  async unconfirmed(before: number): Promise<string[]> {
    return this.#run(() => this.#redis.zrangebyscore(this.keys.submitting, '-inf', before))
  }

  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    const fields = await this.#run(() => this.#redis.hgetall(this.keys.task(taskId)))
    if (fields.taskId === undefined) return undefined
    const task = fromFields(fields)
    return owner !== undefined && task.owner !== owner ? undefined : task
  }

  /**
   * The owner's background tasks, newest first (by creation time, then id, as on SQLite); index
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

  /**
   * Marks a run's start for `workerId`: running, `runs` up by `addRuns`, the status message set (or
   * cleared). `expectStage` guards against a change since the caller read the task. False when
   * the task ended or changed.
   */
  async claim(
    taskId: string,
    workerId: string,
    options: { expectStage?: TaskStage; statusMessage?: string; addRuns: number },
  ): Promise<boolean> {
    const claimed = await this.#run(() =>
      this.#redis.longrunClaim(
        this.keys.task(taskId),
        workerId,
        Date.now(),
        options.expectStage ?? '',
        options.statusMessage ?? '',
        options.addRuns,
      ),
    )
    return claimed === 1
  }

  /** Records progress; answers the ids of tasks that ended meanwhile (to stop their runs here). */
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
      throw backendUnavailable(failed, this.#where)
    return ended
  }

  /** Ends a task (see the script): the record after, or undefined when nothing was recorded. */
  async end(
    how: 'complete' | 'cancel',
    taskId: string,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
    workerId: string,
    ttlMs: number,
  ): Promise<TaskRecord | undefined> {
    const ended = await this.#run(() =>
      this.#redis.longrunEnd(
        this.keys.task(taskId),
        this.keys.active,
        this.keys.owed,
        this.keys.inline,
        how,
        workerId,
        end.status,
        end.statusMessage ?? '',
        JSON.stringify(end.result),
        end.endedAt,
        end.endedAt + ttlMs,
        delivery === undefined ? '' : JSON.stringify(delivery),
        Math.max(1, ttlMs),
        taskId,
      ),
    )
    return ended === 1 ? this.get(taskId) : undefined
  }

  /** The memory event owed for a task, as recorded with its end. */
  async outboxEntry(taskId: string): Promise<{ entry: OutboxEntry; delivery: DeliveryState } | undefined> {
    const [outbox, delivery] = await this.#run(() =>
      this.#redis.hmget(this.keys.task(taskId), 'outbox', 'delivery'),
    )
    if (outbox === null || outbox === undefined || delivery === null || delivery === undefined)
      return undefined
    return { entry: JSON.parse(outbox) as OutboxEntry, delivery: parseDelivery(delivery) }
  }

  /** Records where a task's memory event stands (and the text to write next, when it changed). */
  async setDelivery(taskId: string, state: DeliveryState, text?: OutboxEntry): Promise<void> {
    const final = state.state !== 'pending'
    await this.#run(() =>
      this.#redis.longrunDelivery(
        this.keys.task(taskId),
        this.keys.owed,
        JSON.stringify({ state: state.state, attempts: state.attempts, lastError: state.lastError ?? null }),
        text === undefined ? '' : JSON.stringify(text),
        final ? 'final' : '',
        taskId,
      ),
    )
  }

  /** Tasks whose memory event is still owed. */
  async owed(): Promise<string[]> {
    return this.#run(() => this.#redis.smembers(this.keys.owed))
  }

  /** Inline calls not ended yet, of every process. */
  async inlineTasks(): Promise<string[]> {
    return this.#run(() => this.#redis.smembers(this.keys.inline))
  }

  /** Forgets an id in the inline set (its task ended or is gone). */
  async forgetInline(taskId: string): Promise<void> {
    await this.#run(() => this.#redis.srem(this.keys.inline, taskId))
  }

  /** Renews this process's liveness for `leaseMs`. */
  async renewWorker(workerId: string, leaseMs: number): Promise<void> {
    await this.#run(() => this.#redis.set(this.keys.worker(workerId), String(process.pid), 'PX', leaseMs))
  }

  async workerAlive(workerId: string): Promise<boolean> {
    return (await this.#run(() => this.#redis.exists(this.keys.worker(workerId)))) === 1
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.#run(() => this.#redis.del(this.keys.worker(workerId)))
  }

  /** Tells the process running `taskId` that it ended (a cancel). */
  async announceCancel(taskId: string): Promise<void> {
    await this.#run(() => this.#redis.publish(this.keys.cancelChannel, taskId))
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw backendUnavailable(error, this.#where)
    }
  }
}

function newRecord(task: NewTaskRecord, options: RedisSubmitOptions): TaskRecord {
  return {
    ...task,
    input: task.input ?? null,
    status: 'working',
    stage: options.stage,
    statusMessage: undefined,
    progress: undefined,
    total: undefined,
    result: undefined,
    updatedAt: task.createdAt,
    runs: options.stage === 'running' ? 1 : 0,
    workerId: options.workerId,
  }
}

/** A record as hash fields (strings; absent fields are left out). */
function toFields(task: TaskRecord): Record<string, string> {
  const fields: Record<string, string> = {
    taskId: task.taskId,
    owner: task.owner,
    tool: task.tool,
    input: JSON.stringify(task.input ?? null),
    mode: task.mode,
    caller: task.caller === null ? '' : JSON.stringify(task.caller),
    status: task.status,
    stage: task.stage,
    createdAt: String(task.createdAt),
    updatedAt: String(task.updatedAt),
    ttlMs: String(task.ttlMs),
    pollIntervalMs: String(task.pollIntervalMs),
    runs: String(task.runs),
  }
  if (task.workerId !== undefined) fields.workerId = task.workerId
  if (task.traceContext !== undefined) fields.traceContext = JSON.stringify(task.traceContext)
  return fields
}

function fromFields(fields: Record<string, string>): TaskRecord {
  const optionalNumber = (value: string | undefined) =>
    value === undefined || value === '' ? undefined : Number(value)
  const text = (value: string | undefined) => (value === undefined || value === '' ? undefined : value)
  return {
    taskId: fields.taskId as string,
    owner: fields.owner as string,
    tool: fields.tool as string,
    input: JSON.parse(fields.input ?? 'null'),
    mode: fields.mode as CallMode,
    caller:
      fields.caller === undefined || fields.caller === ''
        ? null
        : (JSON.parse(fields.caller) as CompositeSessionParts),
    status: fields.status as TaskStatus,
    stage: fields.stage as TaskStage,
    statusMessage: text(fields.statusMessage),
    progress: optionalNumber(fields.progress),
    total: optionalNumber(fields.total),
    result: fields.result === undefined ? undefined : (JSON.parse(fields.result) as CallToolResult),
    createdAt: Number(fields.createdAt),
    updatedAt: Number(fields.updatedAt),
    ttlMs: Number(fields.ttlMs),
    pollIntervalMs: Number(fields.pollIntervalMs),
    runs: Number(fields.runs ?? 0),
    workerId: text(fields.workerId),
    ...(fields.traceContext !== undefined && {
      traceContext: JSON.parse(fields.traceContext) as TraceCarrier,
    }),
    ...(fields.delivery !== undefined && { delivery: parseDelivery(fields.delivery) }),
  }
}

function parseDelivery(text: string): DeliveryState {
  const parsed = JSON.parse(text) as {
    state: DeliveryState['state']
    attempts: number
    lastError?: string | null
  }
  return { state: parsed.state, attempts: parsed.attempts, lastError: parsed.lastError ?? undefined }
}
