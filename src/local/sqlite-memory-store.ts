import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import type { Logger } from '../shared/logger.ts'
import { ensurePrivateFile, PRIVATE_DIRECTORY_MODE, restrictExistingFiles } from '../shared/private-files.ts'
import { isRecord } from '../shared/is-record.ts'
import {
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  type EventCursor,
  type EventPage,
  type EventPredicate,
  type IdempotentRequest,
  type IdempotentResult,
  type IdempotentWork,
  MemoryStoreConfigError,
  type MemoryPosition,
  type MemoryStore,
  type SessionPosition,
  type SessionRow,
  type StoredEvent,
  type StoredMemory,
  type StoredRecord,
} from './memory-store.ts'

/** Options for {@link SqliteMemoryStore}. */
export interface SqliteMemoryStoreConfig {
  /** A file path, or `:memory:` for a store that lives as long as the process. */
  readonly path: string
  /** Where tightening a file left readable by others is reported; default stderr. */
  readonly logger?: Logger
  /** How long a client token is honoured (default {@link DEFAULT_IDEMPOTENCY_WINDOW_MS}, 24 h). */
  readonly idempotencyWindowMs?: number
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS memories (
  id TEXT PRIMARY KEY,
  name TEXT,
  body TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  memory_id TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_ts REAL NOT NULL,
  payload TEXT NOT NULL,
  branch_name TEXT,
  branch_root TEXT,
  metadata TEXT,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_session ON events (memory_id, actor_id, session_id, event_ts DESC, seq DESC);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (memory_id, actor_id, session_id, event_id);
CREATE INDEX IF NOT EXISTS events_by_age ON events (memory_id, created_at_ms);
-- One client token's record. The response column holds what the guarded work kept (ids the service chose);
-- versions before the idempotency window kept the whole answer there, which has the same fields.
CREATE TABLE IF NOT EXISTS idempotency (
  scope TEXT NOT NULL,
  token TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response TEXT NOT NULL,
  memory_id TEXT,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, token)
);
CREATE TABLE IF NOT EXISTS records (
  memory_id TEXT NOT NULL,
  record_id TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (memory_id, record_id)
);
`

/** Columns added after a table first shipped, with how to fill them in on an older file. */
const ADDED_COLUMNS: readonly { table: string; column: string; backfill?: string }[] = [
  {
    table: 'memories',
    column: 'name TEXT',
    backfill: "UPDATE memories SET name = json_extract(body, '$.name')",
  },
  { table: 'idempotency', column: 'memory_id TEXT' },
]

/** Indexes over added columns, and indexes earlier versions made that nothing uses any more. */
const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS memories_by_name ON memories (name);
CREATE INDEX IF NOT EXISTS idempotency_by_memory ON idempotency (memory_id);
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (created_at_ms);
DROP INDEX IF EXISTS events_by_time;
DROP INDEX IF EXISTS events_by_token;
`

interface EventRow {
  seq: number
  memory_id: string
  actor_id: string
  session_id: string
  event_id: string
  event_ts: number
  payload: string
  branch_name: string | null
  branch_root: string | null
  metadata: string | null
}

/** How many rows one scan step reads when a predicate may reject some of them. */
const SCAN_CHUNK = 256

/**
 * Expired client-token records removed by each new one: more than one, so the expired backlog
 * shrinks under any load and the table holds about one window's worth of tokens.
 */
const EXPIRED_TOKENS_PER_WRITE = 2

/**
 * The local service's storage on `node:sqlite` (WAL, synchronous=NORMAL). Every method is one
 * synchronous statement or transaction, so concurrent HTTP requests cannot interleave inside one.
 */
export class SqliteMemoryStore implements MemoryStore {
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  private readonly idempotencyWindowMs: number
  private transactionDepth = 0

  constructor(config: SqliteMemoryStoreConfig) {
    const window = config.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS
    if (!Number.isSafeInteger(window) || window < 1)
      throw new MemoryStoreConfigError(
        'idempotencyWindowMs',
        'must be a whole number of milliseconds, 1 or more',
      )
    this.idempotencyWindowMs = window
    // Owner-only: every memory is in this file. SQLite gives its -wal and -shm files the database's
    // mode. A directory it creates is owner-only too; one that exists is its owner's to set.
    if (config.path !== ':memory:') {
      mkdirSync(dirname(config.path), { recursive: true, mode: PRIVATE_DIRECTORY_MODE })
      ensurePrivateFile(config.path, config.logger)
      restrictExistingFiles([`${config.path}-wal`, `${config.path}-shm`], config.logger)
    }
    this.db = new DatabaseSync(config.path)
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
    this.db.exec(SCHEMA)
    for (const { table, column, backfill } of ADDED_COLUMNS) {
      const columns = this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]
      if (columns.some((existing) => existing.name === column.split(' ')[0])) continue
      this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`)
      if (backfill) this.db.exec(backfill)
    }
    this.db.exec(INDEXES)
  }

  private statement(sql: string): StatementSync {
    let prepared = this.statements.get(sql)
    if (!prepared) {
      prepared = this.db.prepare(sql)
      this.statements.set(sql, prepared)
    }
    return prepared
  }

  insertMemory(memory: StoredMemory): void {
    this.statement('INSERT INTO memories (id, name, body, created_at_ms) VALUES (?, ?, ?, ?)').run(
      memory.id,
      memory.name,
      JSON.stringify(memory),
      memory.createdAtMs,
    )
  }

  findMemory(id: string): StoredMemory | undefined {
    const row = this.statement('SELECT body FROM memories WHERE id = ?').get(id) as
      { body: string } | undefined
    return row ? (JSON.parse(row.body) as StoredMemory) : undefined
  }

  hasMemory(id: string): boolean {
    return this.statement('SELECT 1 FROM memories WHERE id = ?').get(id) !== undefined
  }

  findMemoryByName(name: string): StoredMemory | undefined {
    const row = this.statement('SELECT body FROM memories WHERE name = ?').get(name) as
      { body: string } | undefined
    return row ? (JSON.parse(row.body) as StoredMemory) : undefined
  }

  listMemories(after: MemoryPosition | undefined, limit: number): StoredMemory[] {
    const rows = (
      after
        ? this.statement(
            `SELECT body FROM memories WHERE (created_at_ms, id) > (?, ?) ORDER BY created_at_ms, id LIMIT ?`,
          ).all(after.createdAtMs, after.id, limit)
        : this.statement('SELECT body FROM memories ORDER BY created_at_ms, id LIMIT ?').all(limit)
    ) as { body: string }[]
    return rows.map((row) => JSON.parse(row.body) as StoredMemory)
  }

  deleteMemory(id: string): void {
    this.transaction(() => {
      this.statement('DELETE FROM events WHERE memory_id = ?').run(id)
      this.statement('DELETE FROM records WHERE memory_id = ?').run(id)
      this.statement('DELETE FROM idempotency WHERE memory_id = ?').run(id)
      this.statement('DELETE FROM memories WHERE id = ?').run(id)
    })
  }

  insertEvent(event: StoredEvent, storedAtMs: number): void {
    this.statement(
      `INSERT INTO events (memory_id, actor_id, session_id, event_id, event_ts, payload, branch_name, branch_root,
         metadata, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      event.memoryId,
      event.actorId,
      event.sessionId,
      event.eventId,
      event.eventTimestamp,
      JSON.stringify(event.payload),
      event.branch?.name ?? null,
      event.branch?.rootEventId ?? null,
      event.metadata ? JSON.stringify(event.metadata) : null,
      storedAtMs,
    )
  }

  findEvent(memoryId: string, actorId: string, sessionId: string, eventId: string): StoredEvent | undefined {
    const row = this.statement(
      'SELECT * FROM events WHERE memory_id = ? AND actor_id = ? AND session_id = ? AND event_id = ?',
    ).get(memoryId, actorId, sessionId, eventId) as EventRow | undefined
    return row ? toEvent(row) : undefined
  }

  listEvents(
    memoryId: string,
    actorId: string,
    sessionId: string,
    after: EventCursor | undefined,
    limit: number,
    predicate: EventPredicate | undefined,
    includePayloads = true,
  ): EventPage {
    const first = this.statement(
      `SELECT * FROM events WHERE memory_id = ? AND actor_id = ? AND session_id = ?
       ORDER BY event_ts DESC, seq DESC LIMIT ?`,
    )
    const next = this.statement(
      `SELECT * FROM events WHERE memory_id = ? AND actor_id = ? AND session_id = ?
         AND (event_ts < ? OR (event_ts = ? AND seq < ?))
       ORDER BY event_ts DESC, seq DESC LIMIT ?`,
    )
    const events: StoredEvent[] = []
    let cursor = after
    let lastKept: EventCursor | undefined
    // Read one row more than asked so that a next page is announced only when one exists.
    const chunk = predicate ? SCAN_CHUNK : limit + 1
    for (;;) {
      const rows = (cursor
        ? next.all(
            memoryId,
            actorId,
            sessionId,
            cursor.eventTimestamp,
            cursor.eventTimestamp,
            cursor.sequence,
            chunk,
          )
        : first.all(memoryId, actorId, sessionId, chunk)) as unknown as EventRow[]
      for (const row of rows) {
        const event = toEvent(row, includePayloads)
        if (predicate && !predicate(event)) continue
        if (events.length === limit) return { events, ...(lastKept ? { next: lastKept } : {}) }
        events.push(event)
        lastKept = { eventTimestamp: row.event_ts, sequence: row.seq }
      }
      if (rows.length < chunk) return { events }
      const last = rows[rows.length - 1] as EventRow
      cursor = { eventTimestamp: last.event_ts, sequence: last.seq }
    }
  }

  deleteEvent(memoryId: string, actorId: string, sessionId: string, eventId: string): boolean {
    const result = this.statement(
      'DELETE FROM events WHERE memory_id = ? AND actor_id = ? AND session_id = ? AND event_id = ?',
    ).run(memoryId, actorId, sessionId, eventId)
    return Number(result.changes) > 0
  }

  firstEventOfBranch(
    memoryId: string,
    actorId: string,
    sessionId: string,
    branch: string,
  ): StoredEvent | undefined {
    const row = this.statement(
      `SELECT * FROM events WHERE memory_id = ? AND actor_id = ? AND session_id = ? AND branch_name = ?
       ORDER BY event_ts, seq LIMIT 1`,
    ).get(memoryId, actorId, sessionId, branch) as EventRow | undefined
    return row ? toEvent(row) : undefined
  }

  listSessions(
    memoryId: string,
    actorId: string,
    after: SessionPosition | undefined,
    limit: number,
  ): SessionRow[] {
    // Newest first, ties by session id; the page continues strictly after `after`.
    const sessions = `SELECT session_id, MIN(created_at_ms) AS created FROM events WHERE memory_id = ? AND actor_id = ?
       GROUP BY session_id`
    const order = 'ORDER BY created DESC, session_id LIMIT ?'
    const rows = (
      after
        ? this.statement(`${sessions} HAVING created < ? OR (created = ? AND session_id > ?) ${order}`).all(
            memoryId,
            actorId,
            after.createdAtMs,
            after.createdAtMs,
            after.sessionId,
            limit,
          )
        : this.statement(`${sessions} ${order}`).all(memoryId, actorId, limit)
    ) as { session_id: string; created: number }[]
    return rows.map((row) => ({ sessionId: row.session_id, actorId, createdAtMs: row.created }))
  }

  listActors(memoryId: string, after: string | undefined, limit: number): string[] {
    const rows = this.statement(
      `SELECT DISTINCT actor_id FROM events WHERE memory_id = ? AND actor_id > ? ORDER BY actor_id LIMIT ?`,
    ).all(memoryId, after ?? '', limit) as { actor_id: string }[]
    return rows.map((row) => row.actor_id)
  }

  purgeExpiredEvents(nowMs: number): number {
    // Expiry counts from when the service stored the event, not from the timestamp the caller chose.
    return this.transaction(() => {
      const events = this.statement(
        `DELETE FROM events WHERE created_at_ms <
           ? - 86400000 * (SELECT json_extract(body, '$.eventExpiryDays') FROM memories WHERE id = events.memory_id)`,
      ).run(nowMs)
      this.statement('DELETE FROM idempotency WHERE created_at_ms <= ?').run(nowMs - this.idempotencyWindowMs)
      return Number(events.changes)
    })
  }

  insertRecords(records: StoredRecord[]): void {
    this.transaction(() => {
      const insert = this.statement(
        'INSERT INTO records (memory_id, record_id, body, created_at_ms) VALUES (?, ?, ?, ?)',
      )
      for (const record of records) {
        insert.run(record.memoryId, record.memoryRecordId, JSON.stringify(record), record.createdAtMs)
      }
    })
  }

  findRecord(memoryId: string, memoryRecordId: string): StoredRecord | undefined {
    const row = this.statement('SELECT body FROM records WHERE memory_id = ? AND record_id = ?').get(
      memoryId,
      memoryRecordId,
    ) as { body: string } | undefined
    return row ? (JSON.parse(row.body) as StoredRecord) : undefined
  }

  listRecords(memoryId: string): StoredRecord[] {
    const rows = this.statement(
      'SELECT body FROM records WHERE memory_id = ? ORDER BY created_at_ms DESC, record_id',
    ).all(memoryId) as { body: string }[]
    return rows.map((row) => JSON.parse(row.body) as StoredRecord)
  }

  deleteRecord(memoryId: string, memoryRecordId: string): boolean {
    const result = this.statement('DELETE FROM records WHERE memory_id = ? AND record_id = ?').run(
      memoryId,
      memoryRecordId,
    )
    return Number(result.changes) > 0
  }

  idempotent<T>(request: IdempotentRequest, work: () => IdempotentWork<T>): IdempotentResult<T> {
    const { scope, token, requestHash, nowMs } = request
    if (token === undefined) return { kind: 'fresh', value: work().value }
    const expiredAt = nowMs - this.idempotencyWindowMs
    return this.transaction((): IdempotentResult<T> => {
      const prior = this.statement(
        'SELECT request_hash, response, created_at_ms FROM idempotency WHERE scope = ? AND token = ?',
      ).get(scope, token) as { request_hash: string; response: string; created_at_ms: number } | undefined
      // A record past the window is as good as gone: the token starts a new request.
      if (prior && prior.created_at_ms > expiredAt) {
        if (prior.request_hash !== requestHash) return { kind: 'token-mismatch' }
        const kept: unknown = JSON.parse(prior.response)
        return { kind: 'replayed', kept: isRecord(kept) ? kept : {} }
      }
      const done = work()
      this.statement(
        `INSERT OR REPLACE INTO idempotency (scope, token, request_hash, response, memory_id, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(scope, token, requestHash, JSON.stringify(done.kept), request.memoryId ?? null, nowMs)
      this.statement(
        `DELETE FROM idempotency WHERE rowid IN
           (SELECT rowid FROM idempotency WHERE created_at_ms <= ? ORDER BY created_at_ms LIMIT ?)`,
      ).run(expiredAt, EXPIRED_TOKENS_PER_WRITE)
      return { kind: 'fresh', value: done.value }
    })
  }

  countIdempotencyRecords(): number {
    const row = this.statement('SELECT COUNT(*) AS count FROM idempotency').get() as { count: number }
    return row.count
  }

  close(): void {
    if (this.db.isOpen) this.db.close()
  }

  /** Runs `work` in one transaction; nested calls join the outer one. */
  private transaction<T>(work: () => T): T {
    if (this.transactionDepth > 0) return work()
    this.db.exec('BEGIN IMMEDIATE')
    this.transactionDepth += 1
    try {
      const result = work()
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    } finally {
      this.transactionDepth -= 1
    }
  }
}

/** An event from its row; without `withPayload` the payload is left undecoded and empty. */
function toEvent(row: EventRow, withPayload = true): StoredEvent {
  return {
    memoryId: row.memory_id,
    actorId: row.actor_id,
    sessionId: row.session_id,
    eventId: row.event_id,
    eventTimestamp: row.event_ts,
    payload: withPayload ? (JSON.parse(row.payload) as unknown[]) : [],
    ...(row.branch_name !== null
      ? {
          branch: {
            name: row.branch_name,
            ...(row.branch_root !== null ? { rootEventId: row.branch_root } : {}),
          },
        }
      : {}),
    ...(row.metadata !== null ? { metadata: JSON.parse(row.metadata) as StoredEvent['metadata'] } : {}),
  }
}
