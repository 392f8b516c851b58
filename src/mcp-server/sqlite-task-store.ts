/**
 * The SQLite tables under the SQLite backend: tasks, the outbox of memory events still owed, and
 * the processes working on the data directory with their leases. A task's end and its outbox row
 * are written in one transaction, so a crash can never leave a finished task whose memory event is
 * forgotten, nor a memory event for a task that did not end.
 */
import { join } from 'node:path'
import { DatabaseSync, type SQLOutputValue, type StatementSync } from 'node:sqlite'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { CompositeSessionParts } from '../mcp/composite-session-header.ts'
import type { Logger } from '../shared/logger.ts'
import { ensurePrivateDirectory, ensurePrivateFile, restrictExistingFiles } from '../shared/private-files.ts'
import type { TraceCarrier } from '../telemetry/index.ts'
import type { CallMode } from './long-running-tool.ts'
import type { Outbox } from './result-delivery.ts'
import { decodeCursor, encodeCursor } from './task-cursor.ts'
import type {
  DeliveryState,
  NewTaskRecord,
  OutboxEntry,
  PendingDelivery,
  TaskEnd,
  TaskPage,
  TaskProgress,
  TaskRecord,
  TaskStage,
  TaskStatus,
} from './task-record.ts'

/** Configuration of {@link SqliteTaskStore}. */
export interface SqliteTaskStoreConfig {
  /** Directory of the SQLite file `mcp-tasks.sqlite` (kept owner-only); ':memory:' for a throwaway store. */
  readonly dataDir: string
  /** Where tightening a directory or file left readable by others is reported; default stderr. */
  readonly logger?: Logger | undefined
}

/** A process working on the data directory, as its lease row says. */
export interface WorkerRow {
  readonly workerId: string
  readonly pid: number
  readonly host: string
  readonly tools: readonly string[]
  readonly startedAt: number
  readonly leaseExpiresAt: number
}

/** How a task is recorded at its creation. */
export interface CreateOptions {
  readonly stage: 'queued' | 'running'
  readonly workerId: string | undefined
  readonly queueSeq: number
}

/** The schema version this file writes (PRAGMA user_version). */
const SCHEMA_VERSION = 3

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  tool TEXT NOT NULL,
  input TEXT NOT NULL,
  mode TEXT NOT NULL,
  caller TEXT,
  status TEXT NOT NULL,
  stage TEXT NOT NULL DEFAULT 'done',
  worker_id TEXT,
  queue_seq INTEGER,
  status_message TEXT,
  progress REAL,
  total REAL,
  result TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL,
  poll_interval_ms INTEGER NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER,
  trace_context TEXT
);
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, created_at DESC, task_id DESC);
CREATE INDEX IF NOT EXISTS tasks_held ON tasks (worker_id, stage) WHERE stage <> 'done';
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
  delivered_at INTEGER,
  worker_id TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (worker_id, next_attempt_at) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS workers (
  worker_id TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  tools TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL
);
`

type Row = Record<string, SQLOutputValue>

/** A task row with its outbox delivery state, in one query (no extra read per task). */
const TASK_WITH_DELIVERY = `SELECT tasks.*, o.state AS d_state, o.attempts AS d_attempts, o.last_error AS d_error
  FROM tasks LEFT JOIN outbox o ON o.task_id = tasks.task_id`

const ACTIVE = "status IN ('working', 'input_required')"

interface PendingCreate {
  readonly task: NewTaskRecord
  readonly options: CreateOptions
  readonly resolve: (task: TaskRecord) => void
  readonly reject: (error: unknown) => void
}

/** The SQLite tables (WAL) in the data directory. */
export class SqliteTaskStore {
  readonly path: string
  readonly #db: DatabaseSync
  readonly #statements = new Map<string, StatementSync>()
  #pendingCreates: PendingCreate[] = []

  constructor(config: SqliteTaskStoreConfig) {
    this.path = ':memory:'
    if (config.dataDir !== ':memory:') {
      // Owner-only: task inputs and results are in it. SQLite gives -wal and -shm the database's mode.
      ensurePrivateDirectory(config.dataDir, config.logger)
      this.path = join(config.dataDir, 'mcp-tasks.sqlite')
      ensurePrivateFile(this.path, config.logger)
      restrictExistingFiles([`${this.path}-wal`, `${this.path}-shm`], config.logger)
    }
    this.#db = new DatabaseSync(this.path)
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
    this.#transaction(() => {
      this.#migrate()
      this.#db.exec(SCHEMA)
      this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    })
  }

  /** Brings a database written by an earlier version up to this schema; nothing is lost. */
  #migrate(): void {
    const version = Number((this.#db.prepare('PRAGMA user_version').get() as Row).user_version)
    const columns = (this.#db.prepare('PRAGMA table_info(tasks)').all() as Row[]).map((row) =>
      String(row.name),
    )
    if (columns.length === 0 || version >= SCHEMA_VERSION) return
    // Version 1: `kind` for the call mode, `attempts` for runs, no stages, workers or leases. Its
    // unfinished tasks become running tasks of no live process: the next start recovers them.
    if (columns.includes('kind')) this.#db.exec('ALTER TABLE tasks RENAME COLUMN kind TO mode')
    if (columns.includes('attempts')) this.#db.exec('ALTER TABLE tasks RENAME COLUMN attempts TO runs')
    if (!columns.includes('stage')) {
      this.#db.exec("ALTER TABLE tasks ADD COLUMN stage TEXT NOT NULL DEFAULT 'done'")
      this.#db.exec(`UPDATE tasks SET stage = 'running' WHERE ${ACTIVE}`)
    }
    if (!columns.includes('worker_id')) this.#db.exec('ALTER TABLE tasks ADD COLUMN worker_id TEXT')
    if (!columns.includes('queue_seq')) this.#db.exec('ALTER TABLE tasks ADD COLUMN queue_seq INTEGER')
    // Version 2: no trace context (tasks it holds start traces of their own when they run).
    if (!columns.includes('trace_context')) this.#db.exec('ALTER TABLE tasks ADD COLUMN trace_context TEXT')
    const outbox = (this.#db.prepare('PRAGMA table_info(outbox)').all() as Row[]).map((row) =>
      String(row.name),
    )
    if (outbox.length > 0 && !outbox.includes('worker_id'))
      this.#db.exec('ALTER TABLE outbox ADD COLUMN worker_id TEXT')
    this.#db.exec('DROP INDEX IF EXISTS tasks_unfinished')
    this.#db.exec('DROP INDEX IF EXISTS outbox_due')
  }

  /**
   * Records a new task. Creates arriving together (in one turn of the event loop) are committed in
   * one transaction with one `synchronous = FULL` sync, so a burst of starts pays for one disk flush,
   * not one each; every create resolves only once its row is on disk.
   */
  create(task: NewTaskRecord, options: CreateOptions): Promise<TaskRecord> {
    return new Promise((resolve, reject) => {
      this.#pendingCreates.push({ task, options, resolve, reject })
      if (this.#pendingCreates.length === 1) setImmediate(() => this.#commitCreates())
    })
  }

  #commitCreates(): void {
    const batch = this.#pendingCreates
    this.#pendingCreates = []
    const done: { create: PendingCreate; error?: unknown }[] = []
    try {
      this.#durably(() =>
        this.#transaction(() => {
          for (const create of batch) {
            // One bad row (a duplicate id from a custom newTaskId) fails alone.
            this.#db.exec('SAVEPOINT one_create')
            try {
              this.#insert(create.task, create.options)
              this.#db.exec('RELEASE one_create')
              done.push({ create })
            } catch (error) {
              this.#db.exec('ROLLBACK TO one_create')
              this.#db.exec('RELEASE one_create')
              done.push({ create, error })
            }
          }
        }),
      )
    } catch (error) {
      for (const create of batch) create.reject(error)
      return
    }
    for (const { create, error } of done) {
      if (error !== undefined) create.reject(error)
      else create.resolve(newRecord(create.task, create.options))
    }
  }

  #insert(task: NewTaskRecord, options: CreateOptions): void {
    this.#prepare(
      `INSERT INTO tasks (task_id, owner, tool, input, mode, caller, status, stage, worker_id, queue_seq,
           created_at, updated_at, ttl_ms, poll_interval_ms, runs, trace_context)
         VALUES (?, ?, ?, ?, ?, ?, 'working', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      task.taskId,
      task.owner,
      task.tool,
      JSON.stringify(task.input ?? null),
      task.mode,
      task.caller === null ? null : JSON.stringify(task.caller),
      options.stage,
      options.workerId ?? null,
      options.queueSeq,
      task.createdAt,
      task.createdAt,
      task.ttlMs,
      task.pollIntervalMs,
      options.stage === 'running' ? 1 : 0,
      task.traceContext === undefined ? null : JSON.stringify(task.traceContext),
    )
  }

  /** The next queue position to hand out: after every task recorded so far. */
  lastQueueSeq(): number {
    const row = this.#prepare('SELECT max(queue_seq) AS seq FROM tasks').get() as Row
    return row.seq === null ? 0 : Number(row.seq)
  }

  get(taskId: string, owner?: string): TaskRecord | undefined {
    const row = this.#prepare(`${TASK_WITH_DELIVERY} WHERE tasks.task_id = ?`).get(taskId) as Row | undefined
    if (row === undefined) return undefined
    const task = toTask(row)
    return owner !== undefined && task.owner !== owner ? undefined : task
  }

  /** The owner's background tasks (not inline calls), newest first. */
  list(owner: string, options: { cursor?: string | undefined; limit: number }): TaskPage {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, owner)
    const rows = (
      after === undefined
        ? this.#prepare(
            `${TASK_WITH_DELIVERY} WHERE tasks.owner = ? AND tasks.mode <> 'inline'
               ORDER BY tasks.created_at DESC, tasks.task_id DESC LIMIT ?`,
          ).all(owner, options.limit + 1)
        : this.#prepare(
            `${TASK_WITH_DELIVERY} WHERE tasks.owner = ? AND tasks.mode <> 'inline'
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

  /** Records progress of running tasks in one transaction; ignored for tasks that ended. */
  saveProgress(updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[]): void {
    if (updates.length === 0) return
    this.#transaction(() => {
      for (const { taskId, patch } of updates) {
        this.#prepare(
          `UPDATE tasks SET progress = coalesce(?, progress), total = coalesce(?, total),
               status_message = coalesce(?, status_message), updated_at = ?
             WHERE task_id = ? AND ${ACTIVE}`,
        ).run(
          patch.progress ?? null,
          patch.total ?? null,
          patch.statusMessage ?? null,
          patch.updatedAt,
          taskId,
        )
      }
    })
  }

  /** A queued task of `workerId` starts: running, one more run. Undefined when it no longer waits. */
  claim(taskId: string, workerId: string, now: number): TaskRecord | undefined {
    const changed = this.#prepare(
      `UPDATE tasks SET stage = 'running', runs = runs + 1, status_message = NULL, updated_at = ?
         WHERE task_id = ? AND worker_id = ? AND stage = 'queued' AND ${ACTIVE}`,
    ).run(now, taskId, workerId)
    return Number(changed.changes) === 0 ? undefined : this.get(taskId)
  }

  /**
   * The end of a run, by the process that ran it (`workerId` must still hold the task), with its
   * outbox row; undefined when it ended already or another process took it over.
   */
  complete(
    taskId: string,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
    workerId: string,
  ): TaskRecord | undefined {
    return this.#end(taskId, end, delivery, workerId, 'complete')
  }

  /**
   * Ends a task from outside its run (a cancel, a recovery): a queued task is done; a running one
   * stays `running` until its process stops it. Undefined when it had already ended.
   */
  cancel(
    taskId: string,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
    workerId: string,
  ): TaskRecord | undefined {
    return this.#end(taskId, end, delivery, workerId, 'cancel')
  }

  #end(
    taskId: string,
    end: TaskEnd,
    delivery: OutboxEntry | undefined,
    workerId: string,
    how: 'complete' | 'cancel',
  ): TaskRecord | undefined {
    const ended = this.#durably(() =>
      this.#transaction(() => {
        const set = `status = ?, status_message = ?, result = ?, updated_at = ?, expires_at = ? + ttl_ms`
        const args = [
          end.status,
          end.statusMessage ?? null,
          JSON.stringify(end.result),
          end.endedAt,
          end.endedAt,
        ]
        const changed =
          how === 'complete'
            ? this.#prepare(
                `UPDATE tasks SET ${set}, stage = 'done' WHERE task_id = ? AND worker_id = ? AND ${ACTIVE}`,
              ).run(...args, taskId, workerId)
            : this.#prepare(
                `UPDATE tasks SET ${set}, stage = CASE stage WHEN 'running' THEN 'running' ELSE 'done' END
                   WHERE task_id = ? AND ${ACTIVE}`,
              ).run(...args, taskId)
        if (Number(changed.changes) === 0) return false
        if (delivery !== undefined) {
          this.#prepare(
            `INSERT OR IGNORE INTO outbox (task_id, memory_id, actor_id, session_id, event_timestamp_ms, text, next_attempt_at, worker_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            delivery.taskId,
            delivery.memoryId,
            delivery.actorId,
            delivery.sessionId,
            delivery.eventTimestampMs,
            delivery.text,
            end.endedAt,
            workerId,
          )
        }
        return true
      }),
    )
    return ended ? this.get(taskId) : undefined
  }

  /** The run of a task that ended meanwhile (cancelled) is over: nothing executes it any more. */
  release(taskId: string, workerId: string): void {
    this.#prepare(
      "UPDATE tasks SET stage = 'done' WHERE task_id = ? AND worker_id = ? AND stage = 'running'",
    ).run(taskId, workerId)
  }

  /** Tasks `workerId` runs that ended meanwhile (cancelled by another process): to stop. */
  endedWhileRunning(workerId: string): string[] {
    const rows = this.#prepare(
      `SELECT task_id FROM tasks WHERE worker_id = ? AND stage = 'running' AND NOT ${ACTIVE}`,
    ).all(workerId) as Row[]
    return rows.map((row) => String(row.task_id))
  }

  /** Tasks waiting in `workerId`'s queue, in queue order. */
  queuedOf(workerId: string): { taskId: string; owner: string; tool: string }[] {
    const rows = this.#prepare(
      `SELECT task_id, owner, tool FROM tasks WHERE worker_id = ? AND stage = 'queued' AND ${ACTIVE}
         ORDER BY queue_seq, created_at`,
    ).all(workerId) as Row[]
    return rows.map((row) => ({
      taskId: String(row.task_id),
      owner: String(row.owner),
      tool: String(row.tool),
    }))
  }

  /** Registers this process with its lease; replaces a row of the same id. */
  registerWorker(worker: WorkerRow): void {
    this.#prepare(
      `INSERT OR REPLACE INTO workers (worker_id, pid, host, tools, started_at, lease_expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      worker.workerId,
      worker.pid,
      worker.host,
      JSON.stringify(worker.tools),
      worker.startedAt,
      worker.leaseExpiresAt,
    )
  }

  /** Renews the lease; false when the row is gone (another process found it expired and took over). */
  renewWorker(workerId: string, leaseExpiresAt: number): boolean {
    const changed = this.#prepare('UPDATE workers SET lease_expires_at = ? WHERE worker_id = ?').run(
      leaseExpiresAt,
      workerId,
    )
    return Number(changed.changes) > 0
  }

  unregisterWorker(workerId: string): void {
    this.#prepare('DELETE FROM workers WHERE worker_id = ?').run(workerId)
  }

  /** Processes whose lease runs at `now`. */
  liveWorkers(now: number): WorkerRow[] {
    const rows = this.#prepare('SELECT * FROM workers WHERE lease_expires_at > ?').all(now) as Row[]
    return rows.map((row) => ({
      workerId: String(row.worker_id),
      pid: Number(row.pid),
      host: String(row.host),
      tools: JSON.parse(String(row.tools)) as string[],
      startedAt: Number(row.started_at),
      leaseExpiresAt: Number(row.lease_expires_at),
    }))
  }

  /** Deletes the rows of processes whose lease ran out (their tasks are then orphans). */
  forgetExpiredWorkers(now: number): void {
    this.#prepare('DELETE FROM workers WHERE lease_expires_at <= ?').run(now)
  }

  /** Tasks queued or running for no live process (it stopped or its lease ran out), oldest first. */
  orphans(now: number): TaskRecord[] {
    const rows = this.#prepare(
      `${TASK_WITH_DELIVERY} LEFT JOIN workers w ON w.worker_id = tasks.worker_id
         WHERE tasks.stage <> 'done' AND (w.worker_id IS NULL OR w.lease_expires_at <= ?)
         ORDER BY tasks.queue_seq, tasks.created_at`,
    ).all(now) as Row[]
    return rows.map(toTask)
  }

  /**
   * Takes an orphan over for `workerId`, if it is still the orphan it was (same holder, same stage):
   * two processes recovering at once cannot both take it. `stage` is where it goes: `queued` to wait
   * for a slot here (a re-run, or a task that was waiting), `running` to be ended at once.
   */
  adopt(task: TaskRecord, workerId: string, stage: 'queued' | 'running', statusMessage?: string): boolean {
    const changed = this.#prepare(
      `UPDATE tasks SET worker_id = ?, stage = ?, status_message = coalesce(?, status_message)
         WHERE task_id = ? AND worker_id IS ? AND stage = ?`,
    ).run(workerId, stage, statusMessage ?? null, task.taskId, task.workerId ?? null, task.stage)
    return Number(changed.changes) > 0
  }

  /** Takes over the undelivered outbox rows of processes that are gone. */
  adoptDeliveries(workerId: string, now: number): number {
    const changed = this.#prepare(
      `UPDATE outbox SET worker_id = ? WHERE state = 'pending' AND (worker_id IS NULL OR worker_id NOT IN
         (SELECT worker_id FROM workers WHERE lease_expires_at > ?))`,
    ).run(workerId, now)
    return Number(changed.changes)
  }

  /** Removes ended tasks whose time-to-live has passed, with their outbox rows; returns how many. */
  removeExpired(now: number): number {
    const result = this.#prepare('DELETE FROM tasks WHERE expires_at IS NOT NULL AND expires_at <= ?').run(
      now,
    )
    // An outbox row lives as long as its task: once the task's time-to-live passed, a delivered or
    // failed row has nothing left to tell, and a row still pending after the whole TTL is abandoned.
    this.#prepare('DELETE FROM outbox WHERE task_id NOT IN (SELECT task_id FROM tasks)').run()
    return Number(result.changes)
  }

  /** `workerId`'s outbox rows, as its delivery loop reads them. */
  outbox(workerId: string): Outbox {
    return {
      due: (now, limit) => this.due(workerId, now, limit),
      nextDueAt: () => this.nextDueAt(workerId),
      acknowledge: (taskId, now) => this.acknowledge(taskId, now),
      retryLater: (taskId, at, error) => this.retryLater(taskId, at, error),
      replaceText: (taskId, text, error) => this.replaceText(taskId, text, error),
      giveUp: (taskId, error) => this.giveUp(taskId, error),
    }
  }

  /** Outbox rows of `workerId` due by `now`. */
  due(workerId: string, now: number, limit: number): PendingDelivery[] {
    const rows = this.#prepare(
      `SELECT outbox.*, tasks.trace_context FROM outbox LEFT JOIN tasks ON tasks.task_id = outbox.task_id
         WHERE outbox.worker_id = ? AND outbox.state = 'pending' AND outbox.next_attempt_at <= ?
         ORDER BY outbox.next_attempt_at LIMIT ?`,
    ).all(workerId, now, limit) as Row[]
    return rows.map((row) => ({
      taskId: String(row.task_id),
      memoryId: String(row.memory_id),
      actorId: String(row.actor_id),
      sessionId: String(row.session_id),
      eventTimestampMs: Number(row.event_timestamp_ms),
      text: String(row.text),
      attempts: Number(row.attempts),
      ...(typeof row.trace_context === 'string' && {
        traceContext: JSON.parse(row.trace_context) as TraceCarrier,
      }),
    }))
  }

  /** When `workerId`'s next undelivered row is due, or undefined when it owes nothing. */
  nextDueAt(workerId: string): number | undefined {
    const row = this.#prepare(
      "SELECT min(next_attempt_at) AS at FROM outbox WHERE worker_id = ? AND state = 'pending'",
    ).get(workerId) as Row | undefined
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at)
  }

  acknowledge(taskId: string, now: number): void {
    this.#prepare(
      "UPDATE outbox SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE task_id = ?",
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
    // Creates still waiting for their commit are committed first: each was promised to a caller.
    if (this.#pendingCreates.length > 0 && this.#db.isOpen) this.#commitCreates()
    if (this.#db.isOpen) this.#db.close()
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

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      const result = work()
      this.#db.exec('COMMIT')
      return result
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw error
    }
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
}

/** The row just inserted, as a read would return it (no outbox row can exist for a new task). */
function newRecord(task: NewTaskRecord, options: CreateOptions): TaskRecord {
  return {
    taskId: task.taskId,
    owner: task.owner,
    tool: task.tool,
    input: task.input ?? null,
    mode: task.mode,
    caller: task.caller,
    status: 'working',
    stage: options.stage,
    statusMessage: undefined,
    progress: undefined,
    total: undefined,
    result: undefined,
    createdAt: task.createdAt,
    updatedAt: task.createdAt,
    ttlMs: task.ttlMs,
    pollIntervalMs: task.pollIntervalMs,
    runs: options.stage === 'running' ? 1 : 0,
    workerId: options.workerId,
    traceContext: task.traceContext,
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
    mode: String(row.mode) as CallMode,
    caller: row.caller === null ? null : (JSON.parse(String(row.caller)) as CompositeSessionParts),
    status: String(row.status) as TaskStatus,
    stage: String(row.stage) as TaskStage,
    statusMessage: row.status_message === null ? undefined : String(row.status_message),
    progress: optionalNumber(row.progress),
    total: optionalNumber(row.total),
    result: row.result === null ? undefined : (JSON.parse(String(row.result)) as CallToolResult),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    ttlMs: Number(row.ttl_ms),
    pollIntervalMs: Number(row.poll_interval_ms),
    runs: Number(row.runs),
    workerId: row.worker_id === null || row.worker_id === undefined ? undefined : String(row.worker_id),
    ...(typeof row.trace_context === 'string' && {
      traceContext: JSON.parse(row.trace_context) as TraceCarrier,
    }),
    ...(typeof row.d_state === 'string' && {
      delivery: {
        state: row.d_state as DeliveryState['state'],
        attempts: Number(row.d_attempts),
        lastError: row.d_error === null || row.d_error === undefined ? undefined : String(row.d_error),
      },
    }),
  }
}
