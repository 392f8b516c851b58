/**
 * The {@link TaskStore} on SQLite (WAL) in the data directory: tasks, the outbox of after-end jobs
 * still owed, each owner's count of active tasks, and the processes working on the directory with
 * their leases. A task's end, its outbox rows and its owner's count are written in one
 * transaction, so a crash can never leave a finished task whose memory event is forgotten, nor a
 * memory event for a task that did not end. SQLite has no notifications: a process learns of its
 * tasks ended elsewhere by looking every `endsPollMs`.
 */
import { join } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { ensurePrivateDirectory, ensurePrivateFile, restrictExistingFiles } from '../shared/private-files.ts'
import { echo, McpServerError } from './errors.ts'
import type { OutboxSchedule } from './local-outbox-queue.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { ACTIVE, type Row, TASK_WITH_DELIVERY, toJob, toTask, upgradeSchema } from './sqlite-task-schema.ts'
import { decodeCursor, encodeCursor } from './task-cursor.ts'
import {
  type AfterEndJob,
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

/** Configuration of {@link SqliteTaskStore}. */
export interface SqliteTaskStoreConfig {
  /** Directory of the SQLite file `mcp-tasks.sqlite` (kept owner-only); ':memory:' for a throwaway store. */
  readonly dataDir: string
  /** Where tightening a directory or file left readable by others is reported; default stderr. */
  readonly logger?: Logger | undefined
  /** The clock of leases. */
  readonly clock?: (() => number) | undefined
  /** How often a process looks for its running tasks ended by another one (default 1 s). */
  readonly endsPollMs?: number | undefined
}

interface PendingCreate {
  readonly task: NewTaskRecord
  readonly placement: Placement
  readonly resolve: (placed: Placed) => void
  readonly reject: (error: unknown) => void
}

/** The SQLite tables (WAL) in the data directory. */
export class SqliteTaskStore implements TaskStore {
  readonly path: string
  readonly #db: DatabaseSync
  readonly #statements = new Map<string, StatementSync>()
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #endsPollMs: number
  readonly #watchers = new Set<NodeJS.Timeout>()
  #pendingCreates: PendingCreate[] = []
  /** The queue order of the next task held here: after every task recorded so far. */
  #queueSeq: number

  constructor(config: SqliteTaskStoreConfig) {
    this.path = ':memory:'
    if (config.dataDir !== ':memory:') {
      // Owner-only: task inputs and results are in it. SQLite gives -wal and -shm the database's mode.
      ensurePrivateDirectory(config.dataDir, config.logger)
      this.path = join(config.dataDir, 'mcp-tasks.sqlite')
      ensurePrivateFile(this.path, config.logger)
      restrictExistingFiles([`${this.path}-wal`, `${this.path}-shm`], config.logger)
    }
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? silentLogger
    this.#endsPollMs = config.endsPollMs ?? MCP_SERVER_DEFAULTS.cancelPollMs
    this.#db = new DatabaseSync(this.path)
    // The wait first: processes opening one new database at once take turns switching it to WAL.
    this.#db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;')
    this.#transaction(() => upgradeSchema(this.#db))
    const row = this.#prepare('SELECT max(queue_seq) AS seq FROM tasks').get() as Row
    this.#queueSeq = row.seq === null ? 0 : Number(row.seq)
  }

  /**
   * Records a new task. Creates arriving together (in one turn of the event loop) are committed in
   * one transaction with one `synchronous = FULL` sync, so a burst of starts pays for one disk flush,
   * not one each; every create resolves only once its row is on disk.
   */
  create(task: NewTaskRecord, placement: Placement): Promise<Placed> {
    return new Promise((resolve, reject) => {
      this.#pendingCreates.push({ task, placement, resolve, reject })
      if (this.#pendingCreates.length === 1) setImmediate(() => this.#commitCreates())
    })
  }

  #commitCreates(): void {
    const batch = this.#pendingCreates
    this.#pendingCreates = []
    const done: { create: PendingCreate; rank?: number; error?: unknown }[] = []
    try {
      this.#durably(() =>
        this.#transaction(() => {
          for (const create of batch) {
            // One bad row (a duplicate id from a custom newTaskId) fails alone.
            this.#db.exec('SAVEPOINT one_create')
            try {
              const rank = this.#insert(create.task, create.placement)
              this.#db.exec('RELEASE one_create')
              done.push({ create, rank })
            } catch (error) {
              this.#db.exec('ROLLBACK TO one_create')
              this.#db.exec('RELEASE one_create')
              done.push({ create, error: refusal(error, create.task.taskId) })
            }
          }
        }),
      )
    } catch (error) {
      for (const create of batch) create.reject(error)
      return
    }
    for (const { create, rank, error } of done) {
      if (error !== undefined) create.reject(error)
      else create.resolve({ record: newRecord(create.task, create.placement), rank: rank as number })
    }
  }

  /** Inserts the row and counts its owner's active tasks; answers the count (its rank). */
  #insert(task: NewTaskRecord, placement: Placement): number {
    this.#queueSeq += 1
    this.#prepare(
      `INSERT INTO tasks (task_id, owner, tool, input, mode, caller, status, stage, worker_id, queue_seq,
           created_at, updated_at, ttl_ms, poll_interval_ms, runs, trace_context, unconfirmed_at)
         VALUES (?, ?, ?, ?, ?, ?, 'working', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      task.taskId,
      task.owner,
      task.tool,
      JSON.stringify(task.input ?? null),
      task.mode,
      task.caller === null ? null : JSON.stringify(task.caller),
      placement.stage,
      placement.holder ?? null,
      this.#queueSeq,
      task.createdAt,
      task.createdAt,
      task.ttlMs,
      task.pollIntervalMs,
      placement.stage === 'running' ? 1 : 0,
      task.traceContext === undefined ? null : JSON.stringify(task.traceContext),
      placement.holder === undefined ? task.createdAt : null,
    )
    const counted = this.#prepare(
      `INSERT INTO owners (owner, active) VALUES (?, 1)
         ON CONFLICT (owner) DO UPDATE SET active = active + 1 RETURNING active`,
    ).get(task.owner) as Row
    return Number(counted.active)
  }

  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    return this.#read(taskId, owner)
  }

  #read(taskId: string, owner?: string): TaskRecord | undefined {
    const row = this.#prepare(`${TASK_WITH_DELIVERY} WHERE tasks.task_id = ?`).get(taskId) as Row | undefined
    if (row === undefined) return undefined
    const task = toTask(row)
    return owner !== undefined && task.owner !== owner ? undefined : task
  }

  async list(owner: string, options: { cursor?: string | undefined; limit: number }): Promise<TaskPage> {
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

  async remove(task: Pick<TaskRecord, 'taskId' | 'owner'>): Promise<boolean> {
    return this.#transaction(() => {
      const removed = this.#prepare(
        `DELETE FROM tasks WHERE task_id = ? AND stage = 'queued' AND runs = 0 AND ${ACTIVE}`,
      ).run(task.taskId)
      if (Number(removed.changes) === 0) return false
      this.#uncount(task.owner)
      return true
    })
  }

  async confirm(taskId: string): Promise<void> {
    this.#prepare('UPDATE tasks SET unconfirmed_at = NULL WHERE task_id = ?').run(taskId)
  }

  async unconfirmed(before: number): Promise<string[]> {
    const rows = this.#prepare('SELECT task_id FROM tasks WHERE unconfirmed_at <= ?').all(before) as Row[]
    return rows.map((row) => String(row.task_id))
  }

  async claim(taskId: string, claim: Claim): Promise<Placed | undefined> {
    const changed = this.#prepare(
      `UPDATE tasks SET worker_id = ?, stage = ?, runs = runs + ?,
           status_message = CASE WHEN ? THEN ? ELSE status_message END, updated_at = ?
         WHERE task_id = ? AND stage = ? AND worker_id IS ? AND ${ACTIVE}`,
    ).run(
      claim.holder,
      claim.stage,
      claim.addRun ? 1 : 0,
      claim.statusMessage === undefined ? 0 : 1,
      claim.statusMessage ?? null,
      claim.now,
      taskId,
      claim.from.stage,
      claim.from.holder ?? null,
    )
    if (Number(changed.changes) === 0) return undefined
    const record = this.#read(taskId)
    return record === undefined ? undefined : { record, rank: this.#activeOf(record.owner) }
  }

  async saveProgress(
    updates: readonly { readonly taskId: string; readonly patch: TaskProgress }[],
  ): Promise<string[]> {
    if (updates.length === 0) return []
    return this.#transaction(() => {
      const ended: string[] = []
      for (const { taskId, patch } of updates) {
        const changed = this.#prepare(
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
        if (Number(changed.changes) === 0) ended.push(taskId)
      }
      return ended
    })
  }

  async end(
    taskId: string,
    end: TaskEnd,
    by: EndBy,
    jobs: readonly AfterEndJob[],
  ): Promise<TaskRecord | undefined> {
    const ended = this.#durably(() =>
      this.#transaction(() => {
        const set = `status = ?, status_message = ?, result = ?, updated_at = ?, expires_at = ? + ttl_ms,
          unconfirmed_at = NULL`
        const args = [
          end.status,
          end.statusMessage ?? null,
          JSON.stringify(end.result),
          end.endedAt,
          end.endedAt,
        ]
        const changed = (
          by.how === 'complete'
            ? this.#prepare(
                `UPDATE tasks SET ${set}, stage = 'done' WHERE task_id = ? AND worker_id = ? AND ${ACTIVE}
                   RETURNING owner`,
              ).get(...args, taskId, by.workerId)
            : this.#prepare(
                `UPDATE tasks SET ${set}, stage = CASE stage WHEN 'running' THEN 'running' ELSE 'done' END
                   WHERE task_id = ? AND ${ACTIVE} RETURNING owner`,
              ).get(...args, taskId)
        ) as Row | undefined
        if (changed === undefined) return false
        this.#uncount(String(changed.owner))
        this.#insertJobs(jobs, end.endedAt, by.workerId)
        return true
      }),
    )
    return ended ? this.#read(taskId) : undefined
  }

  async release(taskId: string, workerId: string): Promise<void> {
    this.#prepare(
      `UPDATE tasks SET stage = 'done' WHERE task_id = ? AND worker_id = ? AND stage = 'running' AND NOT ${ACTIVE}`,
    ).run(taskId, workerId)
  }

  async orphans(): Promise<TaskRecord[]> {
    const rows = this.#prepare(
      `${TASK_WITH_DELIVERY} LEFT JOIN workers w ON w.worker_id = tasks.worker_id
         WHERE tasks.stage <> 'done' AND tasks.worker_id IS NOT NULL
           AND (w.worker_id IS NULL OR w.lease_expires_at <= ?)
         ORDER BY tasks.queue_seq, tasks.created_at`,
    ).all(this.#clock()) as Row[]
    return rows.map(toTask)
  }

  async removeExpired(now: number): Promise<number> {
    const result = this.#prepare('DELETE FROM tasks WHERE expires_at IS NOT NULL AND expires_at <= ?').run(
      now,
    )
    // An outbox row lives as long as its task: once the task's time-to-live passed, a settled row
    // has nothing left to tell, and a row still pending after the whole TTL is abandoned.
    this.#prepare('DELETE FROM outbox WHERE task_id NOT IN (SELECT task_id FROM tasks)').run()
    return Number(result.changes)
  }

  async registerWorker(worker: WorkerLease, leaseMs: number): Promise<void> {
    this.#prepare(
      `INSERT OR REPLACE INTO workers (worker_id, pid, host, tools, started_at, lease_expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      worker.workerId,
      worker.pid,
      worker.host,
      JSON.stringify(worker.tools),
      worker.startedAt,
      this.#clock() + leaseMs,
    )
  }

  async renewWorker(workerId: string, leaseMs: number): Promise<boolean> {
    const changed = this.#prepare('UPDATE workers SET lease_expires_at = ? WHERE worker_id = ?').run(
      this.#clock() + leaseMs,
      workerId,
    )
    return Number(changed.changes) > 0
  }

  async removeWorker(workerId: string): Promise<void> {
    this.#prepare('DELETE FROM workers WHERE worker_id = ?').run(workerId)
  }

  async liveWorkers(): Promise<WorkerLease[]> {
    const now = this.#clock()
    // Their tasks are orphans now: the lease table keeps only processes that still renew.
    this.#prepare('DELETE FROM workers WHERE lease_expires_at <= ?').run(now)
    const rows = this.#prepare('SELECT * FROM workers').all() as Row[]
    return rows.map((row) => ({
      workerId: String(row.worker_id),
      pid: Number(row.pid),
      host: String(row.host),
      tools: JSON.parse(String(row.tools)) as string[],
      startedAt: Number(row.started_at),
    }))
  }

  /** Nothing to send: the holder finds the end when it next looks ({@link watchEnds}). */
  async announceEnd(): Promise<void> {}

  watchEnds(workerId: string, onEnded: (taskId: string) => void): () => void {
    const timer = setInterval(() => {
      try {
        const rows = this.#prepare(
          `SELECT task_id FROM tasks WHERE worker_id = ? AND stage = 'running' AND NOT ${ACTIVE}`,
        ).all(workerId) as Row[]
        for (const row of rows) onEnded(String(row.task_id))
      } catch (error) {
        this.#logger.log('warn', 'could not look for tasks ended elsewhere; will try again', {
          error: error instanceof Error ? error.message : String(error),
        })
      }
    }, this.#endsPollMs)
    timer.unref()
    this.#watchers.add(timer)
    return () => {
      clearInterval(timer)
      this.#watchers.delete(timer)
    }
  }

  async job(key: JobKey): Promise<OwedJob | undefined> {
    const row = this.#prepare('SELECT * FROM outbox WHERE task_id = ? AND kind = ?').get(
      key.taskId,
      key.kind,
    ) as Row | undefined
    return row === undefined ? undefined : toJob(row)
  }

  async settleJob(key: JobKey, settlement: Settlement): Promise<void> {
    this.#transaction(() => {
      const changed = this.#prepare(
        `UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,
             next_attempt_at = coalesce(?, next_attempt_at), payload = coalesce(?, payload),
             delivered_at = CASE WHEN ? = 'pending' THEN delivered_at ELSE ? END
           WHERE task_id = ? AND kind = ? AND state = 'pending' RETURNING worker_id`,
      ).get(
        settlement.state,
        settlement.lastError ?? null,
        settlement.retryAt ?? null,
        settlement.payload === undefined ? null : JSON.stringify(settlement.payload),
        settlement.state,
        this.#clock(),
        key.taskId,
        key.kind,
      ) as Row | undefined
      if (changed === undefined || settlement.then === undefined) return
      const holder = changed.worker_id === null ? undefined : String(changed.worker_id)
      this.#insertJobs(settlement.then, this.#clock(), holder)
    })
  }

  async owedJobs(kinds: readonly string[]): Promise<JobKey[]> {
    if (kinds.length === 0) return []
    const rows = this.#prepare(
      `SELECT task_id, kind FROM outbox WHERE state = 'pending' AND kind IN (${kinds.map(() => '?').join(', ')})`,
    ).all(...kinds) as Row[]
    return rows.map((row) => ({ taskId: String(row.task_id), kind: String(row.kind) }))
  }

  /** The owed jobs `workerId` holds, as its outbox queue reads them. */
  schedule(workerId: string): OutboxSchedule {
    return {
      due: async (now, limit) => {
        const rows = this.#prepare(
          `SELECT * FROM outbox WHERE worker_id = ? AND state = 'pending' AND next_attempt_at <= ?
             ORDER BY next_attempt_at LIMIT ?`,
        ).all(workerId, now, limit) as Row[]
        return rows.map(toJob)
      },
      nextDueAt: async () => {
        const row = this.#prepare(
          "SELECT min(next_attempt_at) AS at FROM outbox WHERE worker_id = ? AND state = 'pending'",
        ).get(workerId) as Row | undefined
        return row?.at === null || row?.at === undefined ? undefined : Number(row.at)
      },
      adopt: async () => {
        const changed = this.#prepare(
          `UPDATE outbox SET worker_id = ? WHERE state = 'pending' AND (worker_id IS NULL OR worker_id NOT IN
             (SELECT worker_id FROM workers WHERE lease_expires_at > ?))`,
        ).run(workerId, this.#clock())
        return Number(changed.changes)
      },
    }
  }

  async close(): Promise<void> {
    for (const timer of this.#watchers) clearInterval(timer)
    this.#watchers.clear()
    // Creates still waiting for their commit are committed first: each was promised to a caller.
    if (this.#pendingCreates.length > 0 && this.#db.isOpen) this.#commitCreates()
    if (this.#db.isOpen) this.#db.close()
  }

  #insertJobs(jobs: readonly AfterEndJob[], dueAt: number, holder: string | undefined): void {
    for (const job of jobs) {
      this.#prepare(
        `INSERT OR IGNORE INTO outbox (task_id, kind, payload, next_attempt_at, worker_id) VALUES (?, ?, ?, ?, ?)`,
      ).run(job.taskId, job.kind, JSON.stringify(job.payload), dueAt, holder ?? null)
    }
  }

  /** One active task fewer for `owner`. */
  #uncount(owner: string): void {
    const left = this.#prepare('UPDATE owners SET active = active - 1 WHERE owner = ? RETURNING active').get(
      owner,
    ) as Row | undefined
    if (left !== undefined && Number(left.active) <= 0)
      this.#prepare('DELETE FROM owners WHERE owner = ?').run(owner)
  }

  #activeOf(owner: string): number {
    const row = this.#prepare('SELECT active FROM owners WHERE owner = ?').get(owner) as Row | undefined
    return row === undefined ? 0 : Number(row.active)
  }

  /**
   * Runs a write the caller is told about (a task id handed out, a task's end and its outbox rows)
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

/** A duplicate task id (a custom newTaskId) is the caller's mistake, said as such. */
function refusal(error: unknown, taskId: string): unknown {
  const constraint = (error as { errcode?: number }).errcode === 1555
  return constraint
    ? new McpServerError('INVALID_CONFIG', `a task with id ${echo(taskId)} exists already`)
    : error
}
