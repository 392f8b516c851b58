/**
 * Everything the session manager reads from AgentCore Memory, and the bookkeeping reading needs:
 * the restore when the agent is built (the whole session, or only the conversation window, cold or
 * warm from a {@link SessionCache}), and the catch-up read before model calls that brings in what
 * others wrote meanwhile, from where the previous read started less the lookback allowance,
 * skipping the events already in the history.
 */
import { ListEventsCommand, type ListEventsCommandOutput } from '@aws-sdk/client-bedrock-agentcore'
import { Message } from '@strands-agents/sdk'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { errorName, MemorySessionError, rootCause } from './errors.ts'
import { AGENT_ID_KEY, decodeMemoryEvent, type MemoryEventLike, STATE_TYPE_KEY } from './event-codec.ts'
import { windowStart } from './history-window.ts'
import { MEMORY_LIMITS, type RetryPolicy, withRetry } from '../contract/index.ts'
import type { MemoryDataClient } from './event-writer.ts'
import { type CachedEvent, type CachedSession, SessionCache } from './session-cache.ts'

/** How much of the session a restore reads. */
export type RestoreScope = { readonly kind: 'window'; readonly messages: number } | { readonly kind: 'full' }

/** How a restore went: for logs, tests and benchmarks. */
export interface RestoreReport {
  /** `warm` used a cached window; `cold` read the window afresh; `full` read the whole session. */
  readonly kind: 'full' | 'cold' | 'warm'
  /** ListEvents calls made: pages of the session, and the agent-state lookup if one was needed. */
  readonly listCalls: number
  /** The window held no state of this agent, so it was looked up by its metadata (one of `listCalls`). */
  readonly stateLookup: boolean
  /** Milliseconds the restore took: its reads and the decoding of what they returned. */
  readonly durationMs: number
  /** Why a cached window could not be used, when it could not. */
  readonly fallback?: string
}

/** What a restore found. */
export interface RestoredSession {
  /** The messages to restore, oldest first, as stored (not yet normalised for the model). */
  readonly messages: Message[]
  /** The newest state this agent stored, if any. */
  readonly agentState: Record<string, unknown> | undefined
  /** Whether the session already holds a SESSION state (so none is written again). */
  readonly sessionStored: boolean
  /** The message_id to give the next message written. */
  readonly nextMessageId: number
  /** Messages of the session before the restored ones, where known (Python's `removed_message_count`). */
  readonly removedMessageCount: number | undefined
  readonly report: RestoreReport
}

/** Collaborators and settings of {@link SessionReader}. */
export interface SessionReaderConfig {
  readonly client: MemoryDataClient
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  /** Names this agent's state events. */
  readonly agentId: string
  readonly scope: RestoreScope
  /** Windows restored by earlier invocations in this process (window scope only). */
  readonly cache: SessionCache | undefined
  readonly retry: RetryPolicy
  /** Milliseconds since the epoch. */
  readonly clock: () => number
  /** Clock-skew allowance of the catch-up read. */
  readonly lookbackMs: number
  /** Catch-up reads follow the restore: remember the events read, so none is added twice. */
  readonly catchUps: boolean
  /** True for an event this agent sent whose acknowledgement was lost: it is not someone else's. */
  readonly isOwnUnacknowledged: (timestampMs: number | undefined, payload: readonly unknown[]) => boolean
  /** A read that will never look below `floorMs` again: own unacknowledged events before it are settled. */
  readonly settleOwnBefore: (floorMs: number) => void
  readonly log: (line: string) => void
  readonly logDebug: (line: string) => void
}

/** One listed event, decoded. */
interface ReadEvent {
  readonly eventId: string
  readonly timestampMs: number
  readonly messages: Message[]
  readonly messageIds: (number | undefined)[]
  readonly agentState: Record<string, unknown> | undefined
  readonly sessionState: boolean
}

/** A listing of the session newest first, page by page, kept for reuse (a failed warm check continues it cold). */
interface Listing {
  /** Events read so far, newest first. */
  readonly events: ReadEvent[]
  nextToken: string | undefined
  /** No page was read yet. */
  started: boolean
  calls: number
}

/** Reads one session of one actor. */
export class SessionReader {
  readonly #config: SessionReaderConfig
  /**
   * Events in the history or written by this agent, by id, with their timestamps: never added
   * again. Each completed read forgets those no later read can reach (stamped before its floor).
   */
  readonly #seen = new Map<string, number>()
  /** Local clock when the last completed read (restore or catch-up) started. */
  #lastReadStartedMs = Number.NEGATIVE_INFINITY
  /** The oldest event of the restored window: older events are history outside it, never new. */
  #windowFloorMs = Number.NEGATIVE_INFINITY
  /** The newest event timestamp met: written events are stamped after it. */
  #newestTimestampMs = 0
  /** Local clock when the current restore started. */
  #restoreStartedMs = 0

  constructor(config: SessionReaderConfig) {
    this.#config = config
  }

  /** When the last completed read started (the catch-up interval counts from it). */
  get lastReadStartedMs(): number {
    return this.#lastReadStartedMs
  }

  /** The newest event timestamp seen in the session. */
  get newestTimestampMs(): number {
    return this.#newestTimestampMs
  }

  /** Records an event this agent wrote: a later read skips it. */
  noteWritten(eventId: string, timestampMs: number): void {
    if (timestampMs > this.#newestTimestampMs) this.#newestTimestampMs = timestampMs
    if (this.#config.catchUps) this.#seen.set(eventId, timestampMs)
  }

  /** Restores the session: the window (warm when the cache holds it) or, by the scope, all of it. */
  async restore(): Promise<RestoredSession> {
    const startedMs = this.#config.clock()
    this.#restoreStartedMs = startedMs
    const started = performance.now()
    const listing: Listing = { events: [], nextToken: undefined, started: false, calls: 0 }
    const { scope } = this.#config
    let restored: RestoredSession
    if (scope.kind === 'full') restored = await this.#restoreFull(listing)
    else {
      const key = this.#cacheKey(scope.messages)
      const cached = key === undefined ? undefined : this.#config.cache?.get(key)
      const warm = cached === undefined ? undefined : await this.#restoreWarm(listing, cached, scope.messages)
      restored =
        warm !== undefined && typeof warm !== 'string'
          ? warm
          : await this.#restoreWindow(
              listing,
              scope.messages,
              cached === undefined ? undefined : String(warm),
            )
    }
    this.#finishRead(startedMs, listing.events)
    restored = { ...restored, report: { ...restored.report, durationMs: performance.now() - started } }
    this.#config.logDebug(
      `kind=${restored.report.kind} list_calls=${restored.report.listCalls} messages=${restored.messages.length}${restored.report.fallback ? ` fallback=${JSON.stringify(restored.report.fallback)}` : ''} | session restored`,
    )
    return restored
  }

  /**
   * Reads what others wrote since the last read: newest first down to where the previous completed
   * read started less the lookback allowance, skipping events already seen and this agent's own.
   * Returns the new messages oldest first; a failed read is logged and returns nothing, so the next
   * catch-up covers the same span.
   */
  async catchUp(): Promise<Message[]> {
    const startedMs = this.#config.clock()
    const floorMs = Math.max(this.#lastReadStartedMs - this.#config.lookbackMs, this.#windowFloorMs)
    const listing: Listing = { events: [], nextToken: undefined, started: false, calls: 0 }
    const fresh: Message[] = []
    try {
      for (;;) {
        const page = await this.#readPage(listing)
        let reachedFloor = false
        for (const event of page) {
          const timestampMs = event.eventTimestamp?.getTime() ?? 0
          if (timestampMs < floorMs) {
            reachedFloor = true
            break
          }
          if (!event.eventId || this.#seen.has(event.eventId)) continue
          if (this.#config.isOwnUnacknowledged(timestampMs, event.payload ?? [])) continue
          const decoded = this.#decodeEvent(event)
          listing.events.push(decoded)
          fresh.unshift(...decoded.messages)
        }
        if (reachedFloor || listing.nextToken === undefined) break
      }
    } catch (error) {
      this.#config.log(
        `error=${errorName(rootCause(error))} | reading events written outside this agent failed; the next model call tries again`,
      )
      return []
    }
    this.#finishRead(startedMs, listing.events)
    // No later read goes below this floor: own unacknowledged events stamped before it are settled.
    this.#config.settleOwnBefore(startedMs - this.#config.lookbackMs)
    return fresh
  }

  /** Forgets the cached window of this session (the session was deleted or rewritten). */
  forgetCached(): void {
    const { scope, cache } = this.#config
    const key = scope.kind === 'window' ? this.#cacheKey(scope.messages) : undefined
    if (key !== undefined) cache?.delete(key)
  }

  /** The whole session, every page, the next one fetched while the last is decoded. */
  async #restoreFull(listing: Listing): Promise<RestoredSession> {
    let pending: Promise<MemoryEventLike[]> | undefined = this.#readPage(listing)
    while (pending) {
      const page = await pending
      pending = undefined
      if (listing.nextToken !== undefined) {
        pending = this.#readPage(listing)
        pending.catch(() => {})
        // The client signs and sends over several ticks: let the request leave before decoding.
        await yieldToEventLoop()
      }
      for (let index = 0; index < page.length; index += 1) {
        listing.events.push(this.#decodeEvent(page[index] as MemoryEventLike))
        // Released as decoded: a page of large events held to the end outlives its collections.
        page[index] = undefined as unknown as MemoryEventLike
      }
    }
    const oldestFirst = [...listing.events].reverse()
    const messages = oldestFirst.flatMap((event) => event.messages)
    return {
      messages,
      ...stateOf(listing.events),
      nextMessageId: Math.max(messages.length, nextIdAfter(oldestFirst)),
      removedMessageCount: 0,
      report: { kind: 'full', listCalls: listing.calls, stateLookup: false, durationMs: 0 },
    }
  }

  /**
   * The conversation window, read newest first page by page until it is known where it begins
   * (see {@link windowStart}); the agent's state, when the window holds none, by one filtered read.
   */
  async #restoreWindow(
    listing: Listing,
    window: number,
    fallback: string | undefined,
  ): Promise<RestoredSession> {
    for (;;) {
      const complete = listing.started && listing.nextToken === undefined
      if (listing.started) {
        const oldestFirst = [...listing.events].reverse()
        const flat = flatten(oldestFirst)
        const start = windowStart(
          flat.map((entry) => entry.message),
          window,
          complete ? 'session-start' : 'unknown',
        )
        if (start !== undefined) {
          return this.#windowed(listing, oldestFirst, flat, start, {
            kind: 'cold',
            fallback,
            windowAtSessionStart: complete && start === 0,
            totalMessages: complete ? flat.length : undefined,
            listed: listing.events,
            listedToEnd: complete,
          })
        }
      }
      const page = await this.#readPage(listing)
      for (const event of page) listing.events.push(this.#decodeEvent(event))
    }
  }

  /**
   * The cached window brought up to date: the session read newest first down to the cache's floor,
   * which must still hold every event of the window and of the few before it, and nothing unknown
   * stamped at or before the window's newest event (a deletion, a replacement, another writer's
   * late event would make the window differ from a fresh restore). Returns why not when it cannot
   * be used; what was read stays in the listing for the cold restore to go on from.
   */
  async #restoreWarm(
    listing: Listing,
    cached: CachedSession,
    window: number,
  ): Promise<RestoredSession | string> {
    // Cached events are not decoded again: what they say of time is taken from the cache.
    for (const event of [...cached.before, ...cached.events]) {
      if (event.timestampMs > this.#newestTimestampMs) this.#newestTimestampMs = event.timestampMs
    }
    // An empty cached window (a new session): everything stored now is new.
    const newestMs = cached.events.at(-1)?.timestampMs ?? Number.NEGATIVE_INFINITY
    const read: MemoryEventLike[] = []
    while (read.length === 0 || timestampOf(read.at(-1) as MemoryEventLike) >= cached.floorMs) {
      const page = await this.#readPage(listing)
      read.push(...page)
      if (listing.nextToken === undefined) break
    }
    const checked = read.filter((event) => timestampOf(event) >= cached.floorMs)
    const known = new Set([...cached.events, ...cached.before].map((event) => event.eventId))
    const listed = new Set(checked.map((event) => event.eventId))
    const missing = [...cached.before, ...cached.events].find((event) => !listed.has(event.eventId))
    const intruder = checked.find(
      (event) => !known.has(event.eventId ?? '') && timestampOf(event) <= newestMs,
    )
    if (missing !== undefined || intruder !== undefined) {
      // What was read stays for the cold restore to go on from.
      for (const event of read) listing.events.push(this.#decodeEvent(event))
      return missing !== undefined
        ? `event ${missing.eventId} of the cached window is gone`
        : `event ${intruder?.eventId} was written inside the cached window`
    }
    // Only what was written since is decoded; the window itself comes from the cache.
    const fresh = checked
      .filter((event) => !known.has(event.eventId ?? ''))
      .map((event) => this.#decodeEvent(event))
    const cachedEvents: ReadEvent[] = cached.events.map((event, index) => {
      const messages = cached.messages.filter((message) => message.event === index)
      return {
        eventId: event.eventId,
        timestampMs: event.timestampMs,
        messages: messages.map((message) => Message.fromMessageData(message.data)),
        messageIds: messages.map((message) => message.messageId),
        agentState: undefined,
        sessionState: false,
      }
    })
    // Everything read counts as seen by the catch-up reads, the events just before the window too.
    const before: ReadEvent[] = cached.before.map((event) => ({
      ...event,
      ...NO_CONTENT,
      messages: [],
      messageIds: [],
    }))
    listing.events.push(...fresh, ...[...cachedEvents].reverse(), ...[...before].reverse())
    const oldestFirst = [...cachedEvents, ...[...fresh].reverse()]
    const flat = flatten(oldestFirst)
    const head = cached.windowAtSessionStart ? 'session-start' : 'turn-start'
    const start = windowStart(
      flat.map((entry) => entry.message),
      window,
      head,
    ) as number
    const state = stateOf(fresh)
    const freshMessages = fresh.reduce((sum, event) => sum + event.messages.length, 0)
    return this.#windowed(listing, oldestFirst, flat, start, {
      kind: 'warm',
      windowAtSessionStart: cached.windowAtSessionStart && start === 0,
      totalMessages: cached.totalMessages === undefined ? undefined : cached.totalMessages + freshMessages,
      listed: read.map((event) => ({ eventId: event.eventId ?? '', timestampMs: timestampOf(event) })),
      listedToEnd: listing.nextToken === undefined,
      known: {
        agentState: state.agentState ?? cached.agentState,
        sessionStored: state.sessionStored || cached.sessionStored,
        nextMessageId: Math.max(cached.nextMessageId, nextIdAfter(oldestFirst)),
      },
    })
  }

  /**
   * The window from `start` (an index into `flat`), its state, and the cache entry the next
   * invocation starts from.
   */
  async #windowed(
    listing: Listing,
    oldestFirst: readonly ReadEvent[],
    flat: readonly FlatMessage[],
    start: number,
    how: {
      kind: 'cold' | 'warm'
      fallback?: string | undefined
      /** The window begins at the session's first message. */
      windowAtSessionStart: boolean
      /** Stored messages of the whole session, when all of it was read (now or by the cached restore). */
      totalMessages: number | undefined
      /** Every event the read listed, and whether the listing went on to the session's start. */
      listed: readonly CachedEvent[]
      listedToEnd: boolean
      known?: {
        agentState: Record<string, unknown> | undefined
        sessionStored: boolean
        nextMessageId: number
      }
    },
  ): Promise<RestoredSession> {
    const kept = flat.slice(start)
    let state = how.known ?? { ...stateOf(listing.events), nextMessageId: nextIdAfter(oldestFirst) }
    const stateLookup = how.known === undefined && state.agentState === undefined && !how.listedToEnd
    if (stateLookup) state = { ...state, agentState: await this.#findAgentState(listing) }
    // An assistant message or agent state means an agent wrote here, and an agent writes the
    // SESSION state first (this manager and Python's alike): it exists even if not read.
    const sessionStored =
      state.sessionStored ||
      state.agentState !== undefined ||
      kept.some((entry) => entry.message.role === 'assistant')
    const firstEvent = kept[0]?.event ?? oldestFirst.length
    const events = oldestFirst.slice(firstEvent)
    const nextMessageId = Math.max(state.nextMessageId, how.totalMessages ?? 0)
    // Messages stored before the window: exact when the whole session is known, else from the
    // window's first message id (ids count only agents' messages, so this never counts too many).
    const removedMessageCount =
      how.totalMessages !== undefined
        ? how.totalMessages - kept.length
        : kept.find((entry) => entry.messageId !== undefined)?.messageId
    // Catch-up reads never go below the window: an event stamped like its first one is history.
    this.#windowFloorMs = (events[0]?.timestampMs ?? Number.NEGATIVE_INFINITY) + 1
    this.#cacheWindow(events, kept, firstEvent, how, {
      agentState: state.agentState,
      sessionStored,
      nextMessageId,
      windowAtSessionStart: how.windowAtSessionStart,
      totalMessages: how.totalMessages,
    })
    return {
      messages: kept.map((entry) => entry.message),
      agentState: state.agentState,
      sessionStored,
      nextMessageId,
      removedMessageCount,
      report: {
        kind: how.kind,
        listCalls: listing.calls,
        stateLookup,
        durationMs: 0,
        ...(how.fallback !== undefined && { fallback: how.fallback }),
      },
    }
  }

  /**
   * Keeps the window for the next invocation, with the events just before it down to a floor: the
   * one before it (its role decides where a window may begin) and those within the lookback
   * allowance (where another writer's late event would land), as far as the read listed them.
   */
  #cacheWindow(
    events: readonly ReadEvent[],
    kept: readonly FlatMessage[],
    firstEvent: number,
    read: { readonly listed: readonly CachedEvent[]; readonly listedToEnd: boolean },
    rest: Pick<
      CachedSession,
      'agentState' | 'sessionStored' | 'nextMessageId' | 'windowAtSessionStart' | 'totalMessages'
    >,
  ): void {
    const { cache, scope, lookbackMs } = this.#config
    if (cache === undefined || scope.kind !== 'window') return
    const key = this.#cacheKey(scope.messages) as string
    const first = events[0]
    if (first === undefined) {
      // Nothing stored yet (a new session): the next restore reads what was written since this one.
      if (read.listedToEnd) {
        const floorMs = this.#restoreStartedMs - lookbackMs
        cache.set(key, { ...rest, events: [], before: [], floorMs, messages: [] })
      }
      return
    }
    const inWindow = new Set(events.map((event) => event.eventId))
    const older = read.listed.filter(
      (event) => !inWindow.has(event.eventId) && event.timestampMs <= first.timestampMs,
    )
    const anchorMs = Math.max(...older.map((event) => event.timestampMs), Number.NEGATIVE_INFINITY)
    const wantedMs = Math.min(
      Number.isFinite(anchorMs) ? anchorMs : first.timestampMs,
      first.timestampMs - lookbackMs,
    )
    // Only what was listed can be vouched for: when the listing stopped before the session's start,
    // events stamped like its oldest one may go on in the next page, so the floor stays just above
    // it (and never above the window itself).
    const oldestListedMs = Math.min(...read.listed.map((event) => event.timestampMs), first.timestampMs)
    const floorMs = read.listedToEnd
      ? wantedMs
      : Math.min(Math.max(wantedMs, oldestListedMs + 1), first.timestampMs)
    cache.set(key, {
      ...rest,
      events: events.map((event) => ({ eventId: event.eventId, timestampMs: event.timestampMs })),
      before: older.filter((event) => event.timestampMs >= floorMs),
      floorMs,
      messages: kept.map((entry) => ({
        data: entry.message.toJSON(),
        event: entry.event - firstEvent,
        ...(entry.messageId !== undefined && { messageId: entry.messageId }),
      })),
    })
  }

  /** This agent's newest state, by one ListEvents filtered on its metadata. */
  async #findAgentState(listing: Listing): Promise<Record<string, unknown> | undefined> {
    const filter = {
      eventMetadata: [
        {
          left: { metadataKey: STATE_TYPE_KEY },
          operator: 'EQUALS_TO',
          right: { metadataValue: { stringValue: 'AGENT' } },
        },
        {
          left: { metadataKey: AGENT_ID_KEY },
          operator: 'EQUALS_TO',
          right: { metadataValue: { stringValue: this.#config.agentId } },
        },
      ],
    }
    listing.calls += 1
    const page = await this.#list(undefined, { filter, maxResults: 1 })
    const [event] = page.events ?? []
    return event === undefined ? undefined : this.#decodeEvent(event as MemoryEventLike).agentState
  }

  /** The next page of `listing`, newest first; `listing.nextToken` says whether more follow. */
  async #readPage(listing: Listing): Promise<MemoryEventLike[]> {
    if (listing.started && listing.nextToken === undefined) return []
    const token = listing.nextToken
    listing.started = true
    listing.calls += 1
    const page = await this.#list(token)
    listing.nextToken = page.nextToken
    // Our own copy: the client's answer is not ours to change.
    return [...(page.events ?? [])] as MemoryEventLike[]
  }

  async #list(
    nextToken: string | undefined,
    extra: { filter?: object; maxResults?: number } = {},
  ): Promise<ListEventsCommandOutput> {
    const input = {
      memoryId: this.#config.memoryId,
      actorId: this.#config.actorId,
      sessionId: this.#config.sessionId,
      includePayloads: true,
      maxResults: extra.maxResults ?? MEMORY_LIMITS.maxResults,
      ...(extra.filter !== undefined && { filter: extra.filter }),
      ...(nextToken ? { nextToken } : {}),
    }
    try {
      return (await withRetry(
        this.#config.retry,
        () =>
          this.#config.client.send(
            new ListEventsCommand(input as ConstructorParameters<typeof ListEventsCommand>[0]),
          ),
        { operation: 'ListEvents', what: 'read', log: this.#config.log },
      )) as ListEventsCommandOutput
    } catch (error) {
      throw new MemorySessionError('READ_FAILED', `ListEvents failed (${errorName(error)})`, { cause: error })
    }
  }

  #decodeEvent(event: MemoryEventLike): ReadEvent {
    const timestampMs = event.eventTimestamp?.getTime() ?? 0
    if (timestampMs > this.#newestTimestampMs) this.#newestTimestampMs = timestampMs
    const decoded = decodeMemoryEvent(event, this.#onDecodeProblem)
    const state = decoded.state
    return {
      eventId: event.eventId ?? '',
      timestampMs,
      messages: decoded.messages,
      messageIds: decoded.messageIds,
      agentState: state?.type === 'AGENT' && state.agentId === this.#config.agentId ? state.value : undefined,
      sessionState: state?.type === 'SESSION',
    }
  }

  readonly #onDecodeProblem = (problem: { eventId: string; index?: number; reason: string }): void =>
    this.#config.log(
      `event_id=${problem.eventId}${problem.index !== undefined ? ` payload_index=${problem.index}` : ''} reason=${JSON.stringify(problem.reason)} | unreadable event part skipped`,
    )

  /**
   * A read that started at `startedMs` completed: every later read goes back to it less the
   * lookback, so events stamped before that are forgotten and those read are remembered.
   */
  #finishRead(startedMs: number, events: readonly ReadEvent[]): void {
    this.#lastReadStartedMs = startedMs
    if (!this.#config.catchUps) return
    const reachableMs = startedMs - this.#config.lookbackMs
    for (const [eventId, timestampMs] of this.#seen) if (timestampMs < reachableMs) this.#seen.delete(eventId)
    for (const event of events)
      if (event.timestampMs >= reachableMs) this.#seen.set(event.eventId, event.timestampMs)
  }

  #cacheKey(window: number): string | undefined {
    if (this.#config.cache === undefined) return undefined
    const { memoryId, actorId, sessionId, agentId, lookbackMs } = this.#config
    return SessionCache.keyOf({ memoryId, actorId, sessionId, agentId, window, lookbackMs })
  }
}

/** One message of the read events, with the index of its event (oldest first) and its message_id. */
interface FlatMessage {
  readonly message: Message
  readonly event: number
  readonly messageId: number | undefined
}

/** What an event listed but not decoded again holds for the bookkeeping of reads. */
const NO_CONTENT = { agentState: undefined, sessionState: false } as const

function timestampOf(event: MemoryEventLike): number {
  return event.eventTimestamp?.getTime() ?? 0
}

function flatten(oldestFirst: readonly ReadEvent[]): FlatMessage[] {
  return oldestFirst.flatMap((event, index) =>
    event.messages.map((message, at) => ({ message, event: index, messageId: event.messageIds[at] })),
  )
}

/** The newest agent state and whether a SESSION state was met, in events listed newest first. */
function stateOf(newestFirst: readonly ReadEvent[]): {
  agentState: Record<string, unknown> | undefined
  sessionStored: boolean
} {
  return {
    agentState: newestFirst.find((event) => event.agentState !== undefined)?.agentState,
    sessionStored: newestFirst.some((event) => event.sessionState),
  }
}

/** One past the highest message_id among the events. */
function nextIdAfter(events: readonly ReadEvent[]): number {
  let next = 0
  for (const event of events)
    for (const id of event.messageIds) if (id !== undefined && id + 1 > next) next = id + 1
  return next
}
