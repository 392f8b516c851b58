/**
 * How the Redis task store lays tasks out: the key names, the hash fields of a task and of its
 * after-end jobs, and the Lua scripts that change what must change together in one step.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'

import type { TraceCarrier } from '../telemetry/index.ts'
import type { CallMode } from './long-running-tool.ts'
import {
  type DeliveryState,
  MEMORY_JOB,
  type TaskRecord,
  type TaskStage,
  type TaskStatus,
  type TaskCaller,
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

  /** An owner's listed tasks, scored by creation time. */
  owner(owner: string): string {
    return `${this.prefix}:owner:${owner}`
  }

  /** Active (queued or running) tasks per owner: the rank of the owner's next task. */
  get active(): string {
    return `${this.prefix}:active`
  }

  /** Tasks whose job of `kind` is still owed (the memory event's set keeps its first name). */
  owed(kind: string): string {
    return kind === MEMORY_JOB ? `${this.prefix}:owed` : `${this.prefix}:owed:${kind}`
  }

  /** Tasks held by one process's own queue (inline calls), until they are done. */
  get inline(): string {
    return `${this.prefix}:inline`
  }

  /** Tasks recorded for a shared queue whose job is not confirmed yet, scored by time. */
  get submitting(): string {
    return `${this.prefix}:submitting`
  }

  /** A process's lease: its record, expiring when the lease runs out. */
  worker(workerId: string): string {
    return `${this.prefix}:worker:${workerId}`
  }

  /** The processes that registered (those whose lease key expired are dropped on reading). */
  get workers(): string {
    return `${this.prefix}:workers`
  }

  /** The channel a cancel is announced on, for the process running the task. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`
  }
}

/** The hash fields of a task's job of `kind` (the memory event's keep their first names). */
export function jobFields(kind: string): { payload: string; state: string } {
  return kind === MEMORY_JOB
    ? { payload: 'outbox', state: 'delivery' }
    : { payload: `outbox:${kind}`, state: `delivery:${kind}` }
}

const ACTIVE_LUA = "status == 'working' or status == 'input_required'"
const PENDING_JOB = '{"state":"pending","attempts":0}'

/** Records a new task (refusing a duplicate id); returns its owner's active count, its rank. */
export const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local fields = cjson.decode(ARGV[1])
for name, value in pairs(fields) do redis.call('HSET', KEYS[1], name, value) end
if ARGV[2] == 'listed' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4]) end
if ARGV[5] == 'held' then redis.call('SADD', KEYS[5], ARGV[4]) else redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4]) end
return redis.call('HINCRBY', KEYS[3], ARGV[6], 1)
`

/** Takes back a task that never ran and still waits (its queue refused it). */
export const REMOVE_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not (${ACTIVE_LUA}) or redis.call('HGET', KEYS[1], 'stage') ~= 'queued' or redis.call('HGET', KEYS[1], 'runs') ~= '0' then return 0 end
local owner = redis.call('HGET', KEYS[1], 'owner')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SREM', KEYS[5], ARGV[1])
if redis.call('HINCRBY', KEYS[3], owner, -1) <= 0 then redis.call('HDEL', KEYS[3], owner) end
return 1
`

/** Moves an active task still at stage ARGV[1] held by ARGV[2] (''); answers it, with its rank. */
export const CLAIM_SCRIPT = `
local h = KEYS[1]
local status = redis.call('HGET', h, 'status')
if not (${ACTIVE_LUA}) then return false end
if redis.call('HGET', h, 'stage') ~= ARGV[1] then return false end
if (redis.call('HGET', h, 'workerId') or '') ~= ARGV[2] then return false end
redis.call('HSET', h, 'stage', ARGV[4], 'workerId', ARGV[3], 'updatedAt', ARGV[8])
if ARGV[6] == 'set' then redis.call('HSET', h, 'statusMessage', ARGV[7])
elseif ARGV[6] == 'clear' then redis.call('HDEL', h, 'statusMessage') end
if ARGV[5] == '1' then redis.call('HINCRBY', h, 'runs', 1) end
local fields = redis.call('HGETALL', h)
table.insert(fields, '__rank')
table.insert(fields, redis.call('HGET', KEYS[2], redis.call('HGET', h, 'owner')) or '0')
return fields
`

/** Progress of a running task; answers its status (an ended task is left as it is). */
export const PROGRESS_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not (${ACTIVE_LUA}) then return status or 'missing' end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'total', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'statusMessage', ARGV[3]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[4])
return status
`

/**
 * Ends an active task (\`complete\` only by its holder) with its jobs (ARGV[8] of them, three
 * arguments each, their owed sets from KEYS[5]); a cancelled running task stays running (and held)
 * until its holder releases it.
 */
export const END_SCRIPT = `
local h = KEYS[1]
local status = redis.call('HGET', h, 'status')
if not (${ACTIVE_LUA}) then return 0 end
if ARGV[1] == 'complete' and redis.call('HGET', h, 'workerId') ~= ARGV[2] then return 0 end
local nextStage = 'done'
if ARGV[1] == 'cancel' and redis.call('HGET', h, 'stage') == 'running' then nextStage = 'running' end
local ttl = tonumber(redis.call('HGET', h, 'ttlMs'))
redis.call('HSET', h, 'status', ARGV[3], 'statusMessage', ARGV[4], 'result', ARGV[5], 'updatedAt', ARGV[6],
  'stage', nextStage, 'expiresAt', string.format('%.0f', tonumber(ARGV[6]) + ttl))
for i = 0, tonumber(ARGV[8]) - 1 do
  local at = 9 + i * 3
  redis.call('HSET', h, ARGV[at], ARGV[at + 2], ARGV[at + 1], '${PENDING_JOB}')
  redis.call('SADD', KEYS[5 + i], ARGV[7])
end
local owner = redis.call('HGET', h, 'owner')
if redis.call('HINCRBY', KEYS[2], owner, -1) <= 0 then redis.call('HDEL', KEYS[2], owner) end
if nextStage == 'done' then redis.call('SREM', KEYS[3], ARGV[7]) end
redis.call('ZREM', KEYS[4], ARGV[7])
redis.call('PEXPIRE', h, math.max(1, ttl))
return 1
`

/** The run of an ended task held by ARGV[1] is over. */
export const RELEASE_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status or ${ACTIVE_LUA} then return 0 end
if redis.call('HGET', KEYS[1], 'workerId') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'stage') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'stage', 'done')
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`

/**
 * One attempt at a pending job: counted, its state and (ARGV[6]) payload recorded; a settled job
 * leaves its owed set; ARGV[8] jobs owed next are recorded (their owed sets from KEYS[3]).
 */
export const SETTLE_SCRIPT = `
local h = KEYS[1]
local current = redis.call('HGET', h, ARGV[1])
if not current then return 0 end
local job = cjson.decode(current)
if job.state ~= 'pending' then return 0 end
local record = { state = ARGV[3], attempts = (job.attempts or 0) + 1 }
if ARGV[4] ~= '' then record.lastError = ARGV[4] end
redis.call('HSET', h, ARGV[1], cjson.encode(record))
if ARGV[6] ~= '' then redis.call('HSET', h, ARGV[2], ARGV[6]) end
if ARGV[3] ~= 'pending' then redis.call('SREM', KEYS[2], ARGV[7]) end
for i = 0, tonumber(ARGV[8]) - 1 do
  local at = 9 + i * 3
  if redis.call('HEXISTS', h, ARGV[at + 1]) == 0 then
    redis.call('HSET', h, ARGV[at], ARGV[at + 2], ARGV[at + 1], '${PENDING_JOB}')
    redis.call('SADD', KEYS[3 + i], ARGV[7])
  end
end
return 1
`

/** A record as hash fields (strings; absent fields are left out). */
export function toFields(task: TaskRecord): Record<string, string> {
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

/** A task's hash fields as its record (with its memory event's state). */
export function fromFields(fields: Record<string, string>): TaskRecord {
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
      fields.caller === undefined || fields.caller === '' ? null : (JSON.parse(fields.caller) as TaskCaller),
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
