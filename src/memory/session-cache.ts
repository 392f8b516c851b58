/**
 * What a process keeps of the sessions it restored, so the next invocation of a session (AgentCore
 * Runtime sends a session's invocations to the same process while it stays warm) reads only what
 * was written since instead of restoring again. Bounded by sessions and bytes, least recently used
 * out, and dropped after the idle timeout. An entry is only a hint: the reader checks it against
 * the service and restores afresh whatever it cannot reconcile.
 */
import type { MessageData } from '@strands-agents/sdk'

/** One stored event of a restored window, as far as the reader needs it again. */
export interface CachedEvent {
  readonly eventId: string
  readonly timestampMs: number
}

/** What a session's restore left: its window as stored, and the state found with it. */
export interface CachedSession {
  /** The events the window's messages come from, oldest first (the first may hold older messages too). */
  readonly events: readonly CachedEvent[]
  /**
   * Events older than the window that were listed with it, down to `floorMs`: the one just before
   * it (whose role decides where the window may begin) and those within the lookback allowance.
   * They must still be there, and nothing unknown may appear among them, for the window to hold.
   */
  readonly before: readonly CachedEvent[]
  /** How far back a warm read checks the session. */
  readonly floorMs: number
  /** The window's messages, oldest first, each with the index of its event in `events`. */
  readonly messages: readonly {
    readonly data: MessageData
    readonly event: number
    readonly messageId?: number
  }[]
  /** The newest agent state of this agent, as stored. */
  readonly agentState: Record<string, unknown> | undefined
  readonly sessionStored: boolean
  /** The next message_id to write. */
  readonly nextMessageId: number
  /** The window begins at the session's first message (nothing older exists). */
  readonly windowAtSessionStart: boolean
  /** Stored messages of the whole session, when a restore read all of it; else undefined. */
  readonly totalMessages: number | undefined
}

/** Limits of a {@link SessionCache}. */
export interface SessionCacheConfig {
  /** Sessions kept at most (default 200). */
  readonly maxSessions?: number
  /** Estimated bytes kept at most (default 64 MiB). */
  readonly maxBytes?: number
  /** An entry unused this long is dropped (default 15 min, AgentCore Runtime's idle session timeout). */
  readonly idleMs?: number
  readonly clock?: () => number
}

/** Defaults of the cache, defined once. */
export const SESSION_CACHE_DEFAULTS = {
  maxSessions: 200,
  maxBytes: 64 * 1024 * 1024,
  idleMs: 15 * 60_000,
} as const

interface Entry {
  readonly session: CachedSession
  readonly bytes: number
  usedAt: number
}

/** Restored windows by session, for warm invocations. */
export class SessionCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxSessions: number
  readonly #maxBytes: number
  readonly #idleMs: number
  readonly #clock: () => number
  #bytes = 0

  constructor(config: SessionCacheConfig = {}) {
    this.#maxSessions = config.maxSessions ?? SESSION_CACHE_DEFAULTS.maxSessions
    this.#maxBytes = config.maxBytes ?? SESSION_CACHE_DEFAULTS.maxBytes
    this.#idleMs = config.idleMs ?? SESSION_CACHE_DEFAULTS.idleMs
    this.#clock = config.clock ?? Date.now
  }

  /** Sessions held now. */
  get size(): number {
    return this.#entries.size
  }

  /** Estimated bytes held now. */
  get bytes(): number {
    return this.#bytes
  }

  /**
   * The key of one agent's window of one session: the window size and the lookback allowance (which
   * sets how far back a warm read checks) are part of it.
   */
  static keyOf(parts: {
    memoryId: string
    actorId: string
    sessionId: string
    agentId: string
    window: number
    lookbackMs: number
  }): string {
    const { memoryId, actorId, sessionId, agentId, window, lookbackMs } = parts
    return JSON.stringify([memoryId, actorId, sessionId, agentId, window, lookbackMs])
  }

  /** The entry of `key` unless it idled out; counts as a use. */
  get(key: string): CachedSession | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (this.#clock() - entry.usedAt > this.#idleMs) {
      this.delete(key)
      return undefined
    }
    // Re-inserted: the Map's order is the order of use, oldest first.
    this.#entries.delete(key)
    entry.usedAt = this.#clock()
    this.#entries.set(key, entry)
    return entry.session
  }

  /** Keeps `session` under `key`, dropping the least recently used entries beyond the limits. */
  set(key: string, session: CachedSession): void {
    this.delete(key)
    const bytes = estimateBytes(session)
    if (bytes > this.#maxBytes) return
    this.#entries.set(key, { session, bytes, usedAt: this.#clock() })
    this.#bytes += bytes
    const now = this.#clock()
    for (const [oldest, entry] of this.#entries) {
      const over = this.#entries.size > this.#maxSessions || this.#bytes > this.#maxBytes
      if (!over && now - entry.usedAt <= this.#idleMs) break
      this.delete(oldest)
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) return
    this.#entries.delete(key)
    this.#bytes -= entry.bytes
  }
}

/** Twice the JSON length (strings are UTF-16 in memory), plus a little per event and message. */
function estimateBytes(session: CachedSession): number {
  let bytes = 256 + (session.events.length + session.before.length) * 96
  for (const message of session.messages) bytes += 64 + JSON.stringify(message.data).length * 2
  if (session.agentState !== undefined) bytes += JSON.stringify(session.agentState).length * 2
  return bytes
}
