/**
 * The tables of the SQLite task store: the schema of this version, the upgrade of a database an
 * earlier version wrote (nothing lost), and rows read back as records.
 */
import type { DatabaseSync, SQLOutputValue } from 'node:sqlite'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'

import type { TraceCarrier } from '../telemetry/index.ts'
import type { CallMode } from './long-running-tool.ts'
import {
  type DeliveryState,
  MEMORY_JOB,
  type OwedJob,
  type TaskRecord,
  type TaskStage,
  type TaskStatus,
  type TaskCaller,
} from './task-record.ts'

/** The schema version this file writes (PRAGMA user_version). */
export const SCHEMA_VERSION = 4

/** The holder given to unfinished tasks of a version that recorded none: a process long gone. */
const EARLIER_VERSION = 'earlier-version'

/** One row per after-end job: a task owes at most one job of each kind. */
const OUTBOX_TABLE = `
CREATE TABLE IF NOT EXISTS outbox (
  task_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  state TEXT NOT NULL DEFAULT 'pending',
  delivered_at INTEGER,
  worker_id TEXT,
  PRIMARY KEY (task_id, kind)
);`

/**
 * Each owner's active (queued or running) tasks: the rank of its next one. One B-tree (no rowid),
 * so counting a start writes one more page, not two.
 */
const OWNERS_TABLE = `
CREATE TABLE IF NOT EXISTS owners (
  owner TEXT PRIMARY KEY,
  active INTEGER NOT NULL
) WITHOUT ROWID;`

/** The tables and indexes of this version, created where missing. */
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
  trace_context TEXT,
  unconfirmed_at INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, created_at DESC, task_id DESC);
CREATE INDEX IF NOT EXISTS tasks_held ON tasks (worker_id, stage) WHERE stage <> 'done';
CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_unconfirmed ON tasks (unconfirmed_at) WHERE unconfirmed_at IS NOT NULL;
${OUTBOX_TABLE}
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (worker_id, next_attempt_at) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS workers (
  worker_id TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  tools TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL
);
${OWNERS_TABLE}
`

/** A row as node:sqlite reads it. */
export type Row = Record<string, SQLOutputValue>

/** A task row with its memory event's state, in one query (no extra read per task). */
export const TASK_WITH_DELIVERY = `SELECT tasks.*, o.state AS d_state, o.attempts AS d_attempts, o.last_error AS d_error
  FROM tasks LEFT JOIN outbox o ON o.task_id = tasks.task_id AND o.kind = '${MEMORY_JOB}'`

/** Tasks not ended yet. */
export const ACTIVE = "status IN ('working', 'input_required')"

/** A memory event as versions 1 to 3 recorded it in the outbox, as the payload of a `memory` job. */
const V3_EVENT = `json_object('taskId', o.task_id, 'memoryId', o.memory_id, 'actorId', o.actor_id,
  'sessionId', o.session_id, 'eventTimestampMs', o.event_timestamp_ms, 'text', o.text)`

/**
 * Brings a database written by an earlier version up to this schema, nothing lost, then creates
 * what is missing. Run inside a transaction: a crash leaves the database as it was.
 */
export function upgradeSchema(db: DatabaseSync): void {
  migrate(db)
  db.exec(SCHEMA)
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
}

function migrate(db: DatabaseSync): void {
  const version = Number((db.prepare('PRAGMA user_version').get() as Row).user_version)
  const columns = columnsOf(db, 'tasks')
  if (columns.length === 0 || version >= SCHEMA_VERSION) return
  // Version 1: `kind` for the call mode, `attempts` for runs, no stages, workers or leases.
  if (columns.includes('kind')) db.exec('ALTER TABLE tasks RENAME COLUMN kind TO mode')
  if (columns.includes('attempts')) db.exec('ALTER TABLE tasks RENAME COLUMN attempts TO runs')
  if (!columns.includes('stage')) {
    db.exec("ALTER TABLE tasks ADD COLUMN stage TEXT NOT NULL DEFAULT 'done'")
    db.exec(`UPDATE tasks SET stage = 'running' WHERE ${ACTIVE}`)
  }
  if (!columns.includes('worker_id')) db.exec('ALTER TABLE tasks ADD COLUMN worker_id TEXT')
  if (!columns.includes('queue_seq')) db.exec('ALTER TABLE tasks ADD COLUMN queue_seq INTEGER')
  // Version 2: no trace context (tasks it holds start traces of their own when they run).
  if (!columns.includes('trace_context')) db.exec('ALTER TABLE tasks ADD COLUMN trace_context TEXT')
  // Version 3: no unconfirmed starts, no owner counts; unfinished tasks of version 1 held by no
  // process (they become tasks of a process long gone: the next start takes them over).
  if (!columns.includes('unconfirmed_at')) db.exec('ALTER TABLE tasks ADD COLUMN unconfirmed_at INTEGER')
  db.prepare("UPDATE tasks SET worker_id = ? WHERE worker_id IS NULL AND stage <> 'done'").run(
    EARLIER_VERSION,
  )
  db.exec(OWNERS_TABLE)
  db.exec('DELETE FROM owners')
  db.exec(`INSERT INTO owners SELECT owner, count(*) FROM tasks WHERE ${ACTIVE} GROUP BY owner`)
  db.exec('DROP INDEX IF EXISTS tasks_unfinished')
  // Versions 1 to 3: one memory event per task, in columns of its own. Each becomes a `memory`
  // job whose payload is that event, with the task's trace context (read from the task until now).
  const outbox = columnsOf(db, 'outbox')
  if (outbox.includes('memory_id')) {
    db.exec('ALTER TABLE outbox RENAME TO outbox_v3')
    db.exec(OUTBOX_TABLE)
    db.exec(`INSERT INTO outbox (task_id, kind, payload, attempts, next_attempt_at, last_error, state, delivered_at, worker_id)
      SELECT o.task_id, '${MEMORY_JOB}',
        CASE WHEN t.trace_context IS NULL THEN ${V3_EVENT}
          ELSE json_set(${V3_EVENT}, '$.traceContext', json(t.trace_context)) END,
        o.attempts, o.next_attempt_at, o.last_error, o.state, o.delivered_at,
        ${outbox.includes('worker_id') ? 'o.worker_id' : 'NULL'}
      FROM outbox_v3 o LEFT JOIN tasks t ON t.task_id = o.task_id`)
    db.exec('DROP TABLE outbox_v3')
  }
}

function columnsOf(db: DatabaseSync, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Row[]).map((row) => String(row.name))
}

/** An outbox row as a job. */
export function toJob(row: Row): OwedJob {
  return {
    taskId: String(row.task_id),
    kind: String(row.kind),
    payload: JSON.parse(String(row.payload)) as unknown,
    state: String(row.state) as DeliveryState['state'],
    attempts: Number(row.attempts),
    lastError: row.last_error === null ? undefined : String(row.last_error),
  }
}

/** A task row (with its memory event's state, from {@link TASK_WITH_DELIVERY}) as a record. */
export function toTask(row: Row): TaskRecord {
  const optionalNumber = (value: SQLOutputValue | undefined) =>
    value === null || value === undefined ? undefined : Number(value)
  return {
    taskId: String(row.task_id),
    owner: String(row.owner),
    tool: String(row.tool),
    input: JSON.parse(String(row.input)),
    mode: String(row.mode) as CallMode,
    caller: row.caller === null ? null : (JSON.parse(String(row.caller)) as TaskCaller),
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
