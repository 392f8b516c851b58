/**
 * The durable record of every task and of every result still owed to memory. A task's end and its
 * outbox row are written in one transaction, so a crash can never leave a finished task whose
 * memory event is forgotten, nor a memory event for a task that did not end.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync, type SQLOutputValue, type StatementSync } from 'node:sqlite'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { CompositeSessionParts } from '../mcp/composite-session-header.ts'
import { decodePageToken, encodePageToken, isSortKey } from '../shared/page-token.ts'
import { McpServerError } from './errors.ts'

/** The statuses of spec 2025-11-25 tasks. */
export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled'
/** The three end states. */
export type TaskEndStatus = 'completed' | 'failed' | 'cancelled'
/** How the task was started: inside the request, as an async task tool, or as a spec-native task. */
export type TaskKind = 'inline' | 'async' | 'spec'

/** True for completed, failed and cancelled. */
export function isEnded(status: TaskStatus): status is TaskEndStatus {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

/** What the server knows of one task. */
export interface TaskRecord {
  readonly taskId: string
  /** The actor that owns it: only this owner can see or cancel it. */
  readonly owner: string
  readonly tool: string
  readonly input: unknown
  readonly kind: TaskKind
  /** Where the result goes in memory; null when the caller sent no composite header. */
  readonly caller: CompositeSessionParts | null
  readonly status: TaskStatus
  readonly statusMessage: string | undefined
  readonly progress: number | undefined
  readonly total: number | undefined
  readonly result: CallToolResult | undefined
  readonly createdAt: number
  readonly updatedAt: number
  readonly ttlMs: number
  readonly pollIntervalMs: number
  /** How many times the task was (re)started. */
  readonly attempts: number
  /** Where its memory event stands, read with the task (undefined when none is queued, or the store keeps no outbox). */
  readonly delivery?: DeliveryState | undefined
}

/** The fields of a task at its creation. */
export type NewTaskRecord = Pick<
  TaskRecord,
  'taskId' | 'owner' | 'tool' | 'input' | 'kind' | 'caller' | 'createdAt' | 'ttlMs' | 'pollIntervalMs'
>

/** How a task ended. */
export interface TaskEnd {
  readonly status: TaskEndStatus
  readonly statusMessage?: string
  readonly result: CallToolResult
  readonly endedAt: number
}

/** A memory event owed for an ended task: the exact CreateEvent content, so every retry is identical. */
export interface OutboxEntry {
  readonly taskId: string
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  readonly eventTimestampMs: number
  readonly text: string
}

/** An outbox row waiting for delivery. */
export interface PendingDelivery extends OutboxEntry {
  readonly attempts: number
}

/** Progress or a status message of a running task, as {@link TaskStore.update} records it. */
export interface TaskProgress {
  readonly progress?: number
  readonly total?: number
  readonly statusMessage?: string
  readonly updatedAt: number
}

/** A page of tasks. */
export interface TaskPage {
  readonly tasks: TaskRecord[]
  readonly nextCursor?: string
}

/** Persistence of tasks, kept behind an interface so the runner works with any store (the benchmark compares two). */
export interface TaskStore {
  create(task: NewTaskRecord): Promise<TaskRecord>
  /** The task when `owner` owns it (or `owner` is undefined: the server itself asks); else undefined. */
  get(taskId: string, owner?: string): Promise<TaskRecord | undefined>
  list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage>
  /** Records progress or a status message of a running task; ignored once it ended. */
  update(taskId: string, patch: TaskProgress): Promise<void>
  /**
   * Records the progress of several running tasks at once (one transaction: the runner's heartbeat
   * writes every task's progress of a tick together). Optional: without it the runner calls
   * {@link update} per task.
   */
  updateMany?(updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[]): Promise<void>
  /** Ends a running task (and queues its memory event, atomically); undefined when it had already ended. */
  finish(taskId: string, end: TaskEnd, delivery?: OutboxEntry): Promise<TaskRecord | undefined>
  /** Tasks not ended: after a restart these were interrupted. */
  unfinished(): Promise<TaskRecord[]>
  /** Marks a new attempt of an interrupted task. */
  restart(taskId: string, now: number): Promise<void>
  /** Removes ended tasks whose time-to-live has passed; returns how many. */
  removeExpired(now: number): Promise<number>
}

/** The memory events still owed, with their retry schedule. */
export interface Outbox {
  due(now: number, limit: number): PendingDelivery[]
  /** When the next undelivered row is due, or undefined when nothing is owed. */
  nextDueAt(): number | undefined
  acknowledge(taskId: string, now: number): void
  retryLater(taskId: string, nextAttemptAt: number, error: string): void
  /** Replaces the text of a pending row (a smaller fallback after the service refused the first) and counts the attempt. */
  replaceText(taskId: string, text: string, error: string): void
  /** Stops retrying a row the service will never accept (kept, with its error, for inspection). */
  giveUp(taskId: string, error: string): void
  /** Delivery state of one task's memory event; undefined when none was owed. */
  deliveryOf(taskId: string): DeliveryState | undefined
}

/** Where a task's memory event stands: what check_task_status reports as `delivery`. */
export interface DeliveryState {
  readonly state: 'pending' | 'delivered' | 'failed'
  readonly attempts: number
  /** The last error of the service (why it failed, or why the last attempt of a pending row did). */
  readonly lastError: string | undefined
}

/** Configuration of {@link SqliteTaskStore}. */
export interface SqliteTaskStoreConfig {
  /** Directory of the SQLite file `mcp-tasks.sqlite`; ':memory:' for a throwaway store. */
  readonly dataDir: string
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  tool TEXT NOT NULL,
  input TEXT NOT NULL,
  kind TEXT NOT NULL,
  caller TEXT,
  status TEXT NOT NULL,
  status_message TEXT,
  progress REAL,
  total REAL,
  result TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL,
  poll_interval_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 1,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, created_at DESC, task_id DESC);
CREATE INDEX IF NOT EXISTS tasks_unfinished ON tasks (status) WHERE status IN ('working', 'input_required');
CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox (
  task_id TEXT PRIMARY KEY,
  memory_id TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  event_timestamp_ms INTEGER NOT NULL,
  text TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  state TEXT NOT NULL DEFAULT 'pending',
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
`

type Row = Record<string, SQLOutputValue>

/** A task row with its outbox delivery state, in one query (no extra read per task). */
const TASK_WITH_DELIVERY = `SELECT tasks.*, o.state AS d_state, o.attempts AS d_attempts, o.last_error AS d_error
  FROM tasks LEFT JOIN outbox o ON o.task_id = tasks.task_id`

/** The durable task store and outbox on SQLite (WAL), in the data directory. */
export class SqliteTaskStore implements TaskStore, Outbox {
  readonly #db: DatabaseSync
  readonly #statements = new Map<string, StatementSync>()

  constructor(config: SqliteTaskStoreConfig) {
    let path = ':memory:'
    if (config.dataDir !== ':memory:') {
      mkdirSync(config.dataDir, { recursive: true })
      path = join(config.dataDir, 'mcp-tasks.sqlite')
    }
    this.#db = new DatabaseSync(path)
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
    this.#db.exec(SCHEMA)
  }

  async create(task: NewTaskRecord): Promise<TaskRecord> {
    this.#durably(() => this.#insert(task))
    // The row just written, as #read would return it (no outbox row can exist for a new task).
    return {
      taskId: task.taskId,
      owner: task.owner,
      tool: task.tool,
      input: task.input ?? null,
      kind: task.kind,
      caller: task.caller,
      status: 'working',
      statusMessage: undefined,
      progress: undefined,
      total: undefined,
      result: undefined,
      createdAt: task.createdAt,
      updatedAt: task.createdAt,
      ttlMs: task.ttlMs,
      pollIntervalMs: task.pollIntervalMs,
      attempts: 1,
    }
  }

  /**
   * Runs a write the caller is told about (a task id handed out, a task's end and its outbox row)
   * with synchronous = FULL, so even a power loss cannot roll it back; progress updates stay on
   * the cheaper NORMAL (losing one costs nothing a later update does not repeat).
   */
  #durably<T>(write: () => T): T {
    // Not prepared once: SQLite applies this pragma when it compiles the statement (a cached one
    // would take effect at prepare time and be recompiled on every run anyway).
    this.#db.exec('PRAGMA synchronous = FULL')
    try {
      return write()
    } finally {
      this.#db.exec('PRAGMA synchronous = NORMAL')
    }
  }

  #insert(task: NewTaskRecord): void {
    this.#prepare(
      `INSERT INTO tasks (task_id, owner, tool, input, kind, caller, status, created_at, updated_at, ttl_ms, poll_interval_ms)
         VALUES (?, ?, ?, ?, ?, ?, 'working', ?, ?, ?, ?)`,
    ).run(
      task.taskId,
      task.owner,
      task.tool,
      JSON.stringify(task.input ?? null),
      task.kind,
      task.caller === null ? null : JSON.stringify(task.caller),
      task.createdAt,
      task.createdAt,
      task.ttlMs,
      task.pollIntervalMs,
    )
  }

  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    const task = this.#read(taskId)
    if (task === undefined || (owner !== undefined && task.owner !== owner)) return undefined
    return task
  }

  async list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, owner)
    const rows = (
      after === undefined
        ? this.#prepare(
            `${TASK_WITH_DELIVERY} WHERE tasks.owner = ?
               ORDER BY tasks.created_at DESC, tasks.task_id DESC LIMIT ?`,
          ).all(owner, options.limit + 1)
        : this.#prepare(
            `${TASK_WITH_DELIVERY} WHERE tasks.owner = ?
               AND (tasks.created_at < ? OR (tasks.created_at = ? AND tasks.task_id < ?))
               ORDER BY tasks.created_at DESC, tasks.task_id DESC LIMIT ?`,
          ).all(owner, after.createdAt, after.createdAt, after.taskId, options.limit + 1)
    ) as Row[]
    const tasks = rows.slice(0, options.limit).map(toTask)
    const last = tasks.at(-1)
    return rows.length > options.limit && last !== undefined
      ? { tasks, nextCursor: encodeCursor(owner, last.createdAt, last.taskId) }
      : { tasks }
  }

  async update(taskId: string, patch: TaskProgress): Promise<void> {
    this.#update(taskId, patch)
  }

  async updateMany(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<void> {
    if (updates.length === 0) return
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      for (const { taskId, patch } of updates) this.#update(taskId, patch)
      this.#db.exec('COMMIT')
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw error
    }
  }

  #update(taskId: string, patch: TaskProgress): void {
    this.#prepare(
      `UPDATE tasks SET progress = coalesce(?, progress), total = coalesce(?, total),
           status_message = coalesce(?, status_message), updated_at = ?
         WHERE task_id = ? AND status IN ('working', 'input_required')`,
    ).run(patch.progress ?? null, patch.total ?? null, patch.statusMessage ?? null, patch.updatedAt, taskId)
  }

  async finish(taskId: string, end: TaskEnd, delivery?: OutboxEntry): Promise<TaskRecord | undefined> {
    return this.#durably(() => this.#finish(taskId, end, delivery))
  }

  #finish(taskId: string, end: TaskEnd, delivery?: OutboxEntry): TaskRecord | undefined {
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      const changed = this.#prepare(
        `UPDATE tasks SET status = ?, status_message = ?, result = ?, updated_at = ?, expires_at = ? + ttl_ms
           WHERE task_id = ? AND status IN ('working', 'input_required')`,
      ).run(
        end.status,
        end.statusMessage ?? null,
        JSON.stringify(end.result),
        end.endedAt,
        end.endedAt,
        taskId,
      )
      if (Number(changed.changes) === 0) {
        this.#db.exec('ROLLBACK')
        return undefined
      }
      if (delivery !== undefined) {
        this.#prepare(
          `INSERT OR IGNORE INTO outbox (task_id, memory_id, actor_id, session_id, event_timestamp_ms, text, next_attempt_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          delivery.taskId,
          delivery.memoryId,
          delivery.actorId,
          delivery.sessionId,
          delivery.eventTimestampMs,
          delivery.text,
          end.endedAt,
        )
      }
      this.#db.exec('COMMIT')
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw error
    }
    return this.#read(taskId)
  }

  async unfinished(): Promise<TaskRecord[]> {
    const rows = this.#prepare(
      "SELECT * FROM tasks WHERE status IN ('working', 'input_required') ORDER BY created_at",
    ).all() as Row[]
    return rows.map(toTask)
  }

  async restart(taskId: string, now: number): Promise<void> {
    this.#prepare(
      `UPDATE tasks SET attempts = attempts + 1, progress = NULL, total = NULL, status = 'working',
           status_message = 'restarted after a server restart', updated_at = ?
         WHERE task_id = ? AND status IN ('working', 'input_required')`,
    ).run(now, taskId)
  }

  async removeExpired(now: number): Promise<number> {
    const result = this.#prepare('DELETE FROM tasks WHERE expires_at IS NOT NULL AND expires_at <= ?').run(
      now,
    )
    // An outbox row lives as long as its task: once the task's time-to-live passed, a delivered or
    // failed row has nothing left to tell, and a row still pending after the whole TTL is abandoned.
    this.#prepare('DELETE FROM outbox WHERE task_id NOT IN (SELECT task_id FROM tasks)').run()
    return Number(result.changes)
  }

  due(now: number, limit: number): PendingDelivery[] {
    const rows = this.#prepare(
      "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
    ).all(now, limit) as Row[]
    return rows.map((row) => ({
      taskId: String(row.task_id),
      memoryId: String(row.memory_id),
      actorId: String(row.actor_id),
      sessionId: String(row.session_id),
      eventTimestampMs: Number(row.event_timestamp_ms),
      text: String(row.text),
      attempts: Number(row.attempts),
    }))
  }

  nextDueAt(): number | undefined {
    const row = this.#prepare(
      "SELECT min(next_attempt_at) AS at FROM outbox WHERE state = 'pending'",
    ).get() as Row | undefined
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at)
  }

  acknowledge(taskId: string, now: number): void {
    this.#prepare(
      "UPDATE outbox SET state = 'delivered', delivered_at = ?, attempts = attempts + 1 WHERE task_id = ?",
    ).run(now, taskId)
  }

  retryLater(taskId: string, nextAttemptAt: number, error: string): void {
    this.#prepare(
      'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE task_id = ?',
    ).run(nextAttemptAt, error, taskId)
  }

  replaceText(taskId: string, text: string, error: string): void {
    this.#prepare(
      "UPDATE outbox SET text = ?, attempts = attempts + 1, last_error = ? WHERE task_id = ? AND state = 'pending'",
    ).run(text, error, taskId)
  }

  giveUp(taskId: string, error: string): void {
    this.#prepare(
      "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE task_id = ?",
    ).run(error, taskId)
  }

  /** Delivery state of one task's memory event (for status tools and tests). */
  deliveryOf(taskId: string): DeliveryState | undefined {
    const row = this.#prepare('SELECT state, attempts, last_error FROM outbox WHERE task_id = ?').get(
      taskId,
    ) as Row | undefined
    if (row === undefined) return undefined
    return {
      state: String(row.state) as DeliveryState['state'],
      attempts: Number(row.attempts),
      lastError: row.last_error === null ? undefined : String(row.last_error),
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close()
  }

  /** Statements are prepared once: preparing costs more than running these small queries. */
  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  #read(taskId: string): TaskRecord | undefined {
    const row = this.#prepare(`${TASK_WITH_DELIVERY} WHERE tasks.task_id = ?`).get(taskId) as Row | undefined
    return row === undefined ? undefined : toTask(row)
  }
}

function toTask(row: Row): TaskRecord {
  const optionalNumber = (value: SQLOutputValue | undefined) =>
    value === null || value === undefined ? undefined : Number(value)
  return {
    taskId: String(row.task_id),
    owner: String(row.owner),
    tool: String(row.tool),
    input: JSON.parse(String(row.input)),
    kind: String(row.kind) as TaskKind,
    caller: row.caller === null ? null : (JSON.parse(String(row.caller)) as CompositeSessionParts),
    status: String(row.status) as TaskStatus,
    statusMessage: row.status_message === null ? undefined : String(row.status_message),
    progress: optionalNumber(row.progress),
    total: optionalNumber(row.total),
    result: row.result === null ? undefined : (JSON.parse(String(row.result)) as CallToolResult),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    ttlMs: Number(row.ttl_ms),
    pollIntervalMs: Number(row.poll_interval_ms),
    attempts: Number(row.attempts),
    ...(typeof row.d_state === 'string' && {
      delivery: {
        state: row.d_state as DeliveryState['state'],
        attempts: Number(row.d_attempts),
        lastError: row.d_error === null || row.d_error === undefined ? undefined : String(row.d_error),
      },
    }),
  }
}

/** The paging scope of an owner's task list: a cursor pages only the listing that issued it. */
function cursorScope(owner: string): string {
  return `tasks:${owner}`
}

/** Opaque list cursor of `owner`'s listing: the position after the last task of a page. */
function encodeCursor(owner: string, createdAt: number, taskId: string): string {
  return encodePageToken(cursorScope(owner), [createdAt, taskId])
}

/** Reads a cursor made by {@link encodeCursor} for `owner`; throws INVALID_CURSOR for anything else. */
function decodeCursor(cursor: string, owner: string): { createdAt: number; taskId: string } {
  const position = decodePageToken(cursor, cursorScope(owner))
  if (isSortKey(position) && position.length === 2) {
    const [createdAt, taskId] = position
    if (typeof createdAt === 'number' && typeof taskId === 'string') return { createdAt, taskId }
  }
  throw new McpServerError('INVALID_CURSOR', 'cursor is not one this server issued', { field: 'cursor' })
}
