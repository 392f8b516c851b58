/**
 * What the local AgentCore service keeps, behind a small interface so the HTTP layer knows nothing
 * of SQL. Times are epoch milliseconds except event timestamps, kept in seconds as the wire has them.
 */
import { AwsServiceError } from './errors.ts'

export interface StoredStrategy {
  readonly strategyId: string
  readonly name: string
  readonly type: string
  readonly namespaces: readonly string[]
  readonly description?: string
}

export interface StoredMemory {
  readonly id: string
  readonly arn: string
  readonly name: string
  readonly description?: string
  readonly eventExpiryDays: number
  readonly status: 'ACTIVE' | 'DELETING'
  readonly createdAtMs: number
  readonly updatedAtMs: number
  readonly strategies: readonly StoredStrategy[]
}

export interface EventBranch {
  readonly name: string
  readonly rootEventId?: string
}

export type EventMetadata = Record<string, { stringValue: string }>

export interface StoredEvent {
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  readonly eventId: string
  /** Seconds since the epoch, with a fraction, as CreateEvent sent it. */
  readonly eventTimestamp: number
  readonly payload: readonly unknown[]
  readonly branch?: EventBranch
  readonly metadata?: EventMetadata
}

/** Position in a newest-first listing; opaque to clients. */
export interface EventCursor {
  readonly eventTimestamp: number
  readonly sequence: number
}

export interface EventPage {
  readonly events: StoredEvent[]
  readonly next?: EventCursor
}

export type EventPredicate = (event: StoredEvent) => boolean

export interface StoredRecord {
  readonly memoryRecordId: string
  readonly memoryId: string
  readonly text: string
  readonly namespaces: readonly string[]
  readonly memoryStrategyId?: string
  readonly createdAtMs: number
  readonly metadata?: Record<string, unknown>
}

export interface SessionRow {
  readonly sessionId: string
  readonly actorId: string
  readonly createdAtMs: number
}

/** Where a sessions listing stands: the last session's first-event time and id. */
export interface SessionPosition {
  readonly createdAtMs: number
  readonly sessionId: string
}

/**
 * How long a client token is honoured: 24 hours from the request that first used it. AgentCore
 * documents no window for its client tokens; this follows EC2's convention (a client token stays
 * valid for at least 24 hours), the window several other AWS APIs state for theirs too. After it, the
 * same token starts a new request, as on AWS.
 */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000

/** A bad setting of a store, named. */
export class MemoryStoreConfigError extends Error {
  readonly code = 'INVALID_MEMORY_STORE_CONFIG'
  readonly field: string

  constructor(field: string, message: string) {
    super(`${field}: ${message}`)
    this.name = 'MemoryStoreConfigError'
    this.field = field
  }
}

/** A request guarded by a client token; `memoryId` ties the token's record to a memory's lifetime. */
export interface IdempotentRequest {
  readonly scope: string
  readonly token: string | undefined
  readonly requestHash: string
  readonly memoryId?: string
  readonly nowMs: number
}

/**
 * What guarded work did. `kept` is all the store keeps besides the token and the request's hash:
 * what a retry cannot be answered without (the ids the service chose), never the whole answer,
 * which a retry rebuilds from its own request (the same, as the hash shows) and `kept`.
 */
export interface IdempotentWork<T> {
  readonly value: T
  readonly kept: Readonly<Record<string, unknown>>
}

/** Where a memories listing stands. */
export interface MemoryPosition {
  readonly createdAtMs: number
  readonly id: string
}

/**
 * Outcome of an operation guarded by a client token. A replay hands back what the first request's
 * work kept, as stored: records written by older versions kept the whole answer, a superset of it.
 */
export type IdempotentResult<T> =
  | { readonly kind: 'fresh'; readonly value: T }
  | { readonly kind: 'replayed'; readonly kept: Readonly<Record<string, unknown>> }
  | { readonly kind: 'token-mismatch' }

export interface MemoryStore {
  /**
   * Runs `work` (writes included) once per `token` in `scope` within the idempotency window, in one
   * transaction, and keeps what it says to keep: a retry with the same token and request gets that
   * back without running again; the same token with another request is a mismatch. A token older
   * than the window counts as unused.
   */
  idempotent<T>(request: IdempotentRequest, work: () => IdempotentWork<T>): IdempotentResult<T>
  /** How many client-token records are kept (expired ones until a write or a purge removes them). */
  countIdempotencyRecords(): number

  insertMemory(memory: StoredMemory): void
  findMemory(id: string): StoredMemory | undefined
  /** Whether a memory with this id is stored (a stored memory is ACTIVE), without reading its body. */
  hasMemory(id: string): boolean
  findMemoryByName(name: string): StoredMemory | undefined
  /** Oldest first, after the memory `after` names (created time and id), at most `limit`. */
  listMemories(after: MemoryPosition | undefined, limit: number): StoredMemory[]
  deleteMemory(id: string): void

  insertEvent(event: StoredEvent, storedAtMs: number): void
  findEvent(memoryId: string, actorId: string, sessionId: string, eventId: string): StoredEvent | undefined
  /**
   * Newest first, starting after `after`, keeping events that pass `predicate`. With
   * `includePayloads` false (default true) payloads are not decoded and come back empty.
   */
  listEvents(
    memoryId: string,
    actorId: string,
    sessionId: string,
    after: EventCursor | undefined,
    limit: number,
    predicate: EventPredicate | undefined,
    includePayloads?: boolean,
  ): EventPage
  deleteEvent(memoryId: string, actorId: string, sessionId: string, eventId: string): boolean
  /** The oldest event of a branch in a session (the one that names its root), to find its fork point. */
  firstEventOfBranch(
    memoryId: string,
    actorId: string,
    sessionId: string,
    branch: string,
  ): StoredEvent | undefined
  /** Newest session first (ties by session id), strictly after `after`, at most `limit`. */
  listSessions(
    memoryId: string,
    actorId: string,
    after: SessionPosition | undefined,
    limit: number,
  ): SessionRow[]
  /** In id order, after `after`, at most `limit`. */
  listActors(memoryId: string, after: string | undefined, limit: number): string[]
  /**
   * Removes events stored longer ago than their memory's expiry, and client-token records older
   * than the idempotency window; returns how many events.
   */
  purgeExpiredEvents(nowMs: number): number

  insertRecords(records: StoredRecord[]): void
  findRecord(memoryId: string, memoryRecordId: string): StoredRecord | undefined
  listRecords(memoryId: string): StoredRecord[]
  deleteRecord(memoryId: string, memoryRecordId: string): boolean

  close(): void
}

/**
 * A string `work` kept for a retry (an id the service chose). A record without it cannot be
 * answered from: that is the service's fault, so an InternalServerException, and nothing is written.
 */
export function keptString(kept: Readonly<Record<string, unknown>>, field: string): string {
  const value = kept[field]
  if (typeof value !== 'string' || value === '')
    throw new AwsServiceError('InternalServerException', `the client token's record has no ${field}`)
  return value
}
