import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import type {
  EventCursor,
  EventPage,
  EventPredicate,
  IdempotentResult,
  InsertEventResult,
  MemoryStore,
  SessionRow,
  StoredEvent,
  StoredMemory,
  StoredRecord,
} from './memory-store.ts'

/** Options for {@link SqliteMemoryStore}. */
export interface SqliteMemoryStoreConfig {
  /** A file path, or `:memory:` for a store that lives as long as the process. */
  readonly path: string
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS memories (
  id TEXT PRIMARY KEY,
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
  client_token TEXT,
  request_hash TEXT,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_session ON events (memory_id, actor_id, session_id, event_ts DESC, seq DESC);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (memory_id, actor_id, session_id, event_id);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_token ON events (memory_id, client_token) WHERE client_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_age ON events (memory_id, created_at_ms);
CREATE TABLE IF NOT EXISTS idempotency (
  scope TEXT NOT NULL,
  token TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response TEXT NOT NULL,
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
  client_token: string | null
  request_hash: string | null
}

/** How many rows one scan step reads when a predicate may reject some of them. */
const SCAN_CHUNK = 256

/**
 * The local service's storage on `node:sqlite` (WAL, synchronous=NORMAL). Every method is one
 * synchronous statement or transaction, so concurrent HTTP requests cannot interleave inside one.
 */
export class SqliteMemoryStore implements MemoryStore {
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  private transactionDepth = 0

  constructor(config: SqliteMemoryStoreConfig) {
    if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true })
    this.db = new DatabaseSync(config.path)
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
    this.db.exec(SCHEMA)
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
    this.statement('INSERT INTO memories (id, body, created_at_ms) VALUES (?, ?, ?)').run(
      memory.id,
      JSON.stringify(memory),
      memory.createdAtMs,
    )
  }

  findMemory(id: string): StoredMemory | undefined {
    const row = this.statement('SELECT body FROM memories WHERE id = ?').get(id) as
      { body: string } | undefined
    return row ? (JSON.parse(row.body) as StoredMemory) : undefined
  }

  listMemories(): StoredMemory[] {
    const rows = this.statement('SELECT body FROM memories ORDER BY created_at_ms, id').all() as {
      body: string
    }[]
    return rows.map((row) => JSON.parse(row.body) as StoredMemory)
  }

  deleteMemory(id: string): void {
    this.transaction(() => {
      this.statement('DELETE FROM events WHERE memory_id = ?').run(id)
      this.statement('DELETE FROM records WHERE memory_id = ?').run(id)
      this.statement('DELETE FROM memories WHERE id = ?').run(id)
    })
  }

  insertEvent(
    event: StoredEvent,
    clientToken: string | undefined,
    requestHash: string,
    storedAtMs: number,
  ): InsertEventResult {
    return this.transaction((): InsertEventResult => {
      if (clientToken !== undefined) {
        const prior = this.statement('SELECT * FROM events WHERE memory_id = ? AND client_token = ?').get(
          event.memoryId,
          clientToken,
        ) as EventRow | undefined
        if (prior) {
          return prior.request_hash === requestHash
            ? { kind: 'replayed', event: toEvent(prior) }
            : { kind: 'token-mismatch' }
        }
      }
      this.statement(
        `INSERT INTO events (memory_id, actor_id, session_id, event_id, event_ts, payload, branch_name, branch_root,
           metadata, client_token, request_hash, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        clientToken ?? null,
        requestHash,
        storedAtMs,
      )
      return { kind: 'created', event }
    })
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
        const event = toEvent(row)
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

  listSessions(memoryId: string, actorId: string): SessionRow[] {
    const rows = this.statement(
      `SELECT session_id, MIN(created_at_ms) AS created FROM events WHERE memory_id = ? AND actor_id = ?
       GROUP BY session_id`,
    ).all(memoryId, actorId) as { session_id: string; created: number }[]
    return rows.map((row) => ({ sessionId: row.session_id, actorId, createdAtMs: row.created }))
  }

  listActors(memoryId: string): string[] {
    const rows = this.statement('SELECT DISTINCT actor_id FROM events WHERE memory_id = ?').all(memoryId) as {
      actor_id: string
    }[]
    return rows.map((row) => row.actor_id)
  }

  purgeExpiredEvents(nowMs: number): number {
    let removed = 0
    for (const memory of this.listMemories()) {
      // Expiry counts from when the service stored the event, not from the timestamp the caller chose.
      const cutoffMs = nowMs - memory.eventExpiryDays * 86_400_000
      const result = this.statement('DELETE FROM events WHERE memory_id = ? AND created_at_ms < ?').run(
        memory.id,
        cutoffMs,
      )
      removed += Number(result.changes)
    }
    return removed
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

  idempotent<T>(
    scope: string,
    token: string | undefined,
    requestHash: string,
    work: () => T,
  ): IdempotentResult<T> {
    if (token === undefined) return { kind: 'fresh', value: work() }
    return this.transaction((): IdempotentResult<T> => {
      const prior = this.statement(
        'SELECT request_hash, response FROM idempotency WHERE scope = ? AND token = ?',
      ).get(scope, token) as { request_hash: string; response: string } | undefined
      if (prior) {
        return prior.request_hash === requestHash
          ? { kind: 'replayed', value: JSON.parse(prior.response) as T }
          : { kind: 'token-mismatch' }
      }
      const value = work()
      this.statement(
        'INSERT INTO idempotency (scope, token, request_hash, response, created_at_ms) VALUES (?, ?, ?, ?, ?)',
      ).run(scope, token, requestHash, JSON.stringify(value), Date.now())
      return { kind: 'fresh', value }
    })
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

function toEvent(row: EventRow): StoredEvent {
  return {
    memoryId: row.memory_id,
    actorId: row.actor_id,
    sessionId: row.session_id,
    eventId: row.event_id,
    eventTimestamp: row.event_ts,
    payload: JSON.parse(row.payload) as unknown[],
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
