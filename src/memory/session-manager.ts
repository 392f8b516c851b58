/**
 * AgentCoreMemorySessionManager: keeps a Strands agent's conversation in AgentCore Memory short-term
 * events, in the Python manager's format, and brings into the conversation what others wrote into
 * the same session (a task result from an MCP server) while the agent runs.
 */
import {
  BedrockAgentCoreClient,
  DeleteEventCommand,
  ListEventsCommand,
  type ListEventsCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore'
import type { ContentBlock } from '@strands-agents/sdk'
import {
  AfterInvocationEvent,
  AfterModelCallEvent,
  BeforeModelCallEvent,
  BeforeToolsEvent,
  InitializedEvent,
  InvokeModelStage,
  type LocalAgent,
  Message,
  MessageAddedEvent,
  SessionManager,
  TextBlock,
} from '@strands-agents/sdk'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { normalizeConverseHistory } from './converse-history.ts'
import { errorName, MemoryConfigError, MemorySessionError, rootCause } from './errors.ts'
import {
  AGENT_ID_KEY,
  agentStateEvent,
  decodeMemoryEvent,
  encodeMessagePayload,
  type EventPayloadItem,
  isRecord,
  type MemoryEventLike,
  STATE_TYPE_KEY,
  sessionStateEvent,
} from './event-codec.ts'
import { type EventMetadata, EventWriter, type MemoryDataClient, type RejectedWrite } from './event-writer.ts'
import {
  ACTOR_ID_RULE,
  explainIdViolation,
  MEMORY_ID_RULE,
  explainMetadataKeyViolation,
  explainMetadataValueViolation,
  METADATA_MAX_KEYS,
  SESSION_ID_RULE,
} from './ids.ts'
import { MEMORY_LIMITS } from './limits.ts'
import { type RetrievalConfig, retrieveLongTermContext } from './long-term-context.ts'
import { DEFAULT_RETRY_POLICY, isPermanentError, type RetryPolicy, withRetry } from './retry.ts'

/** Where log lines go (`key=value | message`). */
export interface MemoryLogger {
  warn(line: string): void
  debug?(line: string): void
}

/** When events written by others into the session are read. */
export type ExternalEventSync = 'beforeModelCall' | 'onInit'

/** Configuration of {@link AgentCoreMemorySessionManager}; every field but the three ids is optional. */
export interface AgentCoreMemorySessionManagerConfig {
  readonly memoryId: string
  readonly sessionId: string
  readonly actorId: string
  /** A `BedrockAgentCoreClient` (or anything with its `send`); built from `region` when absent. */
  readonly client?: MemoryDataClient
  readonly region?: string
  /**
   * Names this agent's state events (`agentId` metadata). Default `default`, Python's default, so a
   * Python agent built on the same session finds this agent's state (and with it the conversation).
   */
  readonly agentId?: string
  /** Long-term memory to search per user message, by namespace template. */
  readonly retrieval?: Readonly<Record<string, RetrievalConfig>>
  /** Payload items per CreateEvent and buffer size that triggers a flush (1..100, default 100). */
  readonly batchSize?: number
  /** Also flush on this interval when something is buffered. */
  readonly flushIntervalMs?: number
  /** Tag wrapping long-term context in the user's message (default `user_context`). */
  readonly contextTag?: string
  /** Leave toolUse/toolResult blocks out of the restored history (stored events keep them). */
  readonly filterRestoredToolContext?: boolean
  /** Metadata put on every message event. */
  readonly defaultMetadata?: Readonly<Record<string, string>>
  /** `false` reads the session but never writes to it. Default true. */
  readonly persist?: boolean
  /** Read events written by others only when the agent is built, or also before each model call (default). */
  readonly syncExternalEvents?: ExternalEventSync
  /**
   * The session is read before a model call only when the previous read started at least this long
   * ago (default 10,000 ms; 0 reads before every model call). The default reads during a long
   * invocation (once 10 s have passed since the last read) and spares a short turn the extra call;
   * work that reports back through memory takes minutes to hours, so 10 s of delay costs it little. A
   * skipped read only delays an event: the next read starts from where the last completed read
   * started, so it still finds it.
   */
  readonly externalSyncMinIntervalMs?: number
  /**
   * Clock-skew allowance of the before-model-call read (default 10 s): it reads every event stamped
   * later than the start of the previous completed read less this much. An outside writer whose
   * clock (plus its write's latency) lags ours by more than this can be missed until the agent is
   * rebuilt; the event itself is stored either way.
   */
  readonly externalSyncLookbackMs?: number
  /** Python's default behaviour, for comparison: an agent-state event after every message. Use with batchSize 1. */
  readonly syncAgentStateEveryMessage?: boolean
  readonly retry?: Partial<RetryPolicy>
  /** Milliseconds since the epoch. */
  readonly clock?: () => number
  readonly logger?: MemoryLogger
}

const RESERVED_METADATA_KEYS = new Set([STATE_TYPE_KEY, AGENT_ID_KEY])
const CONTEXT_TAG_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
const DEFAULT_CONTEXT_TAG = 'user_context'
/** Reads before a model call come at least this far apart: a short turn reads the session once, at the restore. */
const DEFAULT_EXTERNAL_SYNC_MIN_INTERVAL_MS = 10_000
/** Clock-skew allowance of a read before a model call. */
const DEFAULT_EXTERNAL_SYNC_LOOKBACK_MS = 10_000
/** DeleteEvent answers: the event is gone already, which is what the delete was for. */
const ALREADY_DELETED = ['ResourceNotFoundException']
/** Python's default agent id: its reader looks for this agent's state before it reads any message. */
const DEFAULT_AGENT_ID = 'default'

/**
 * A Strands `SessionManager` backed by AgentCore Memory. Pass it as `new Agent({ sessionManager })`;
 * one manager serves one agent. Restores the session when the agent initialises, writes each
 * invocation's messages in as few CreateEvent calls as possible (before a tool runs and at the end
 * of the invocation), and never loses a message silently: a write that keeps failing fails the
 * invocation (or `flush()` / `close()`) with a `WRITE_FAILED` {@link MemorySessionError}, and the
 * messages stay buffered for the next flush.
 */
export class AgentCoreMemorySessionManager extends SessionManager {
  readonly memoryId: string
  readonly actorId: string
  readonly #sessionId: string
  readonly #client: MemoryDataClient
  readonly #ownsClient: boolean
  readonly #retry: RetryPolicy
  readonly #clock: () => number
  readonly #logger: MemoryLogger
  readonly #writer: EventWriter
  readonly #persist: boolean
  /** Names this agent's state events; fixed by the config. */
  readonly #agentId: string
  /** Long-term memory to search per prompt; undefined when no namespace is configured. */
  readonly #retrieval: Readonly<Record<string, RetrievalConfig>> | undefined
  readonly #contextTag: string
  readonly #flushIntervalMs: number | undefined
  readonly #filterRestoredToolContext: boolean
  /** Python's default writes: an agent-state event of its own after every message. */
  readonly #stateEveryMessage: boolean
  /** Events written by others are also read before model calls (`syncExternalEvents` not `onInit`). */
  readonly #syncBeforeModelCall: boolean
  readonly #syncMinIntervalMs: number
  /** Clock-skew allowance of every read: a read goes this far below where the previous one started. */
  readonly #skewMs: number
  /**
   * Events this agent has in its history or wrote itself, by id, with their timestamps: never
   * appended again. Each completed read forgets events no later read can reach (stamped before its
   * floor), so this holds the events of the last 10 s or so, not one entry per event of the session.
   * With `syncExternalEvents: 'onInit'` there are no later reads, and nothing is kept.
   */
  readonly #seenEvents = new Map<string, number>()
  /**
   * trackingId of the toolUse message written before its tools ran, until the MessageAdded that
   * appends it after them (a resumed interrupt fires BeforeTools for it once more in between).
   */
  #writtenAhead: string | undefined
  /**
   * trackingId of the message buffered last: a continuation merged into the agent's last message
   * fires MessageAdded again under that id, and the message is not written twice.
   */
  #lastBuffered: string | undefined
  #agent: LocalAgent | undefined
  #lastTimestampMs = 0
  /** Local clock when the last completed ListEvents look (restore or sync) started. */
  #lastLookMs = Number.NEGATIVE_INFINITY
  /** trackingId of the latest user prompt (text, not a toolResult): what a guardrail redacts. */
  #promptTrackingId: string | undefined
  #messageCounter = 0
  #sessionStored = false
  #agentStateStored: string | undefined
  #agentStateCreatedAt: Date | undefined
  #context: { trackingId: string; text: string } | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(config: AgentCoreMemorySessionManagerConfig) {
    // Strands validates its own id rule here; AgentCore ids differ, so the real one is kept apart.
    super({ sessionId: 'agentcore-memory' })
    validateConfig(config)
    this.memoryId = config.memoryId
    this.actorId = config.actorId
    this.#sessionId = config.sessionId
    this.#ownsClient = config.client === undefined
    // Retries are ours (same clientToken, logged), so a client we build does not retry on its own.
    this.#client =
      config.client ??
      new BedrockAgentCoreClient({ ...(config.region ? { region: config.region } : {}), maxAttempts: 1 })
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...config.retry }
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? { warn: (line) => console.warn(line) }
    this.#persist = config.persist ?? true
    this.#agentId = config.agentId ?? DEFAULT_AGENT_ID
    this.#retrieval =
      config.retrieval && Object.keys(config.retrieval).length > 0 ? config.retrieval : undefined
    this.#contextTag = config.contextTag ?? DEFAULT_CONTEXT_TAG
    this.#flushIntervalMs = config.flushIntervalMs
    this.#filterRestoredToolContext = config.filterRestoredToolContext === true
    this.#stateEveryMessage = config.syncAgentStateEveryMessage === true
    this.#syncBeforeModelCall = config.syncExternalEvents !== 'onInit'
    this.#syncMinIntervalMs = config.externalSyncMinIntervalMs ?? DEFAULT_EXTERNAL_SYNC_MIN_INTERVAL_MS
    this.#skewMs = config.externalSyncLookbackMs ?? DEFAULT_EXTERNAL_SYNC_LOOKBACK_MS
    const metadata = config.defaultMetadata
    this.#writer = new EventWriter({
      client: this.#client,
      memoryId: config.memoryId,
      actorId: config.actorId,
      sessionId: config.sessionId,
      batchSize: config.batchSize ?? MEMORY_LIMITS.payloadItems,
      messageMetadata:
        metadata && Object.keys(metadata).length > 0
          ? Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, { stringValue: value }]))
          : undefined,
      retry: this.#retry,
      nextTimestampMs: () => this.#nextTimestampMs(),
      onWritten: (eventId, timestampMs) => {
        if (this.#syncBeforeModelCall) this.#seenEvents.set(eventId, timestampMs)
      },
      log: (line) => this.#log(line),
    })
  }

  override get name(): string {
    return 'agentcore:memory-session-manager'
  }

  /** The AgentCore Memory session id (may hold characters Strands' own session ids do not allow). */
  override get sessionId(): string {
    return this.#sessionId
  }

  /** Payload items not yet acknowledged by the service. */
  get pendingWrites(): number {
    return this.#writer.pendingCount
  }

  /**
   * Batches the service refused for good (a ValidationException), oldest first. The flush that met
   * one threw `WRITE_FAILED` with the reason; later messages were still written. Kept here so a
   * caller can inspect, shorten and re-send them: they are never dropped silently.
   */
  get rejectedWrites(): readonly RejectedWrite[] {
    return this.#writer.rejected
  }

  override initAgent(agent: LocalAgent): void {
    if (this.#agent) {
      throw new MemorySessionError(
        'ALREADY_ATTACHED',
        'an AgentCoreMemorySessionManager serves one agent; build one per agent',
      )
    }
    this.#agent = agent
    agent.addHook(InitializedEvent, (event) => this.#restore(event.agent))
    agent.addHook(MessageAddedEvent, (event) => this.#onMessageAdded(event.agent, event.message))
    agent.addHook(BeforeToolsEvent, (event) => this.#onBeforeTools(event.message))
    agent.addHook(BeforeModelCallEvent, (event) => this.#onBeforeModelCall(event.agent))
    agent.addHook(AfterModelCallEvent, async (event) => {
      if (event.stopData?.redaction) await this.#persistRedaction(event.agent)
    })
    agent.addHook(AfterInvocationEvent, (event) => this.#onAfterInvocation(event.agent))
    agent.addMiddleware(InvokeModelStage.Input, async (context) => ({
      ...context,
      messages: this.#modelView(context.messages),
    }))
    if (this.#flushIntervalMs !== undefined && this.#persist) {
      this.#timer = setInterval(() => {
        if (this.#writer.pendingCount === 0) return
        this.flush().catch((error) =>
          this.#log(`error=${errorName(error)} | timed flush failed; messages kept`),
        )
      }, this.#flushIntervalMs)
      this.#timer.unref()
    }
  }

  override initMultiAgent(_orchestrator: Parameters<SessionManager['initMultiAgent']>[0]): void {
    throw new MemorySessionError(
      'UNSUPPORTED',
      'AgentCoreMemorySessionManager serves a single agent, not Graph or Swarm',
    )
  }

  /** Writes everything buffered now. Throws `WRITE_FAILED` (messages kept) when the service keeps failing. */
  async flush(): Promise<void> {
    if (!this.#persist) return
    if (this.#writer.pendingCount > 0) this.#queueSessionStateOnce()
    await this.#writer.flush()
  }

  /** Stops the flush timer and writes what is buffered; the manager takes no more messages. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.#closed = true
    await this.flush()
    if (this.#ownsClient) (this.#client as BedrockAgentCoreClient).destroy()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** Reads the whole session (pages of 100, oldest first) into the agent. */
  async #restore(agent: LocalAgent): Promise<void> {
    const startedMs = this.#clock()
    let events = 0
    let sessionStored = false
    let agentState: Record<string, unknown> | undefined
    // Events arrive newest first: the first state of this agent met is its latest.
    const restored = await this.#listNewerThan(Number.NEGATIVE_INFINITY, startedMs, (event) => {
      events += 1
      const decoded = this.#decode(event)
      if (decoded.state?.type === 'SESSION') sessionStored = true
      if (decoded.state?.type === 'AGENT' && decoded.state.agentId === this.#agentId)
        agentState ??= decoded.state.value
      return decoded.messages
    })
    if (sessionStored) this.#sessionStored = true
    this.#lastLookMs = startedMs
    this.#messageCounter = restored.length
    const usable = this.#filterRestoredToolContext ? withoutToolBlocks(restored) : restored
    const statefulModel = (agent as { model?: { stateful?: boolean } }).model?.stateful === true
    if (usable.length > 0 && !statefulModel) {
      if (agent.messages.length > 0) {
        this.#log(`agent_messages=${agent.messages.length} | replaced by the history restored from memory`)
      }
      agent.messages.splice(0, agent.messages.length, ...normalizeConverseHistory(usable))
    } else if (restored.length === 0) {
      // A new session started with messages given to the agent: they belong to the session too.
      for (const message of agent.messages) this.#buffer(message)
    }
    if (agentState) {
      const state = agentState.state
      if (isRecord(state)) {
        agent.appState.clear()
        for (const [key, value] of Object.entries(state)) agent.appState.set(key, value as never)
      }
      this.#agentStateStored = JSON.stringify(agent.appState.getAll())
      const createdAt =
        typeof agentState.created_at === 'string' ? new Date(agentState.created_at) : undefined
      if (createdAt && !Number.isNaN(createdAt.getTime())) this.#agentStateCreatedAt = createdAt
    }
    this.#logDebug(`events=${events} messages=${restored.length} | session restored`)
  }

  #onMessageAdded(agent: LocalAgent, message: Message): Promise<void> | undefined {
    this.#buffer(message)
    if (message.trackingId === this.#writtenAhead) this.#writtenAhead = undefined
    const prompt = isPrompt(message)
    if (prompt) {
      this.#promptTrackingId = message.trackingId
      // Only the current prompt's event can still be redacted; its record is added once it is written.
      this.#writer.forgetWritten()
    }
    const retrieval = prompt ? this.#retrieveContext(message) : undefined
    if (!this.#persist) return retrieval
    if (this.#stateEveryMessage) this.#enqueueAgentState(agent)
    else if (!this.#writer.isFull) return retrieval
    return Promise.all([retrieval, this.flush()]).then(() => {})
  }

  /** The toolUse message is appended only after its tools finish; write it before they start. */
  async #onBeforeTools(message: Message): Promise<void> {
    if (!this.#persist) return
    this.#buffer(message)
    this.#writtenAhead = message.trackingId
    await this.flush()
  }

  /**
   * Looks for outside events before every model call once the previous look started at least
   * `externalSyncMinIntervalMs` ago (0: before every model call). A skipped look only delays an
   * event to the next look, which starts its read from where the last completed one started.
   */
  async #onBeforeModelCall(agent: LocalAgent): Promise<void> {
    if (!this.#syncBeforeModelCall) return
    if (this.#clock() - this.#lastLookMs < this.#syncMinIntervalMs) return
    await this.#syncExternalEvents(agent)
  }

  async #onAfterInvocation(agent: LocalAgent): Promise<void> {
    this.#context = undefined
    if (!this.#persist) return
    const state = JSON.stringify(agent.appState.getAll())
    if (this.#agentStateStored !== state) this.#enqueueAgentState(agent, state)
    if (this.#writer.pendingCount > 0) await this.flush()
  }

  /** Encodes a message into the write buffer once, at the moment it is said: later edits stay in memory only. */
  #buffer(message: Message): void {
    const id = message.trackingId
    if (!this.#persist || id === this.#lastBuffered || id === this.#writtenAhead) return
    if (this.#closed)
      throw new MemorySessionError('CLOSED', 'the session manager was closed; build a new one')
    this.#lastBuffered = id
    const payload = encodeMessagePayload(message, {
      messageId: this.#messageCounter,
      now: new Date(this.#clock()),
    })
    this.#messageCounter += 1
    if (payload) this.#writer.append(payload, message.trackingId)
  }

  /** Python decides whether a session exists from its SESSION event: write it with the first write. */
  #queueSessionStateOnce(): void {
    if (this.#sessionStored) return
    this.#queueState(sessionStateEvent(this.#sessionId, new Date(this.#clock())))
    this.#sessionStored = true
  }

  /** Queues the agent's state; `serialized` is its JSON when the caller has it already. */
  #enqueueAgentState(agent: LocalAgent, serialized?: string): void {
    this.#queueSessionStateOnce()
    const state = agent.appState.getAll()
    const now = new Date(this.#clock())
    this.#agentStateCreatedAt ??= now
    const event = agentStateEvent({
      agentId: this.#agentId,
      state,
      createdAt: this.#agentStateCreatedAt,
      now,
    })
    this.#queueState(event)
    this.#agentStateStored = serialized ?? JSON.stringify(state)
  }

  /** State rides on the next message event; in the Python-default mode it is an event of its own, as Python writes it. */
  #queueState(event: { payload: EventPayloadItem[]; metadata: EventMetadata }): void {
    if (this.#stateEveryMessage) this.#writer.enqueueEvent(event.payload, event.metadata)
    else this.#writer.attachState(event.payload[0] as EventPayloadItem, event.metadata)
  }

  /**
   * Adds what others wrote since the last look. Reads newest first down to the moment the previous
   * completed look started (local clock) less the skew allowance, skipping events already seen:
   * however long a model call or tool took, an event not yet seen is at or above that floor (its
   * writer's clock allowing). A failed read is logged and changes nothing, so the next look covers
   * the same span: the user's turn goes on, and nothing is lost.
   */
  async #syncExternalEvents(agent: LocalAgent): Promise<void> {
    const startedMs = this.#clock()
    let fresh: Message[]
    try {
      fresh = await this.#listNewerThan(this.#lastLookMs - this.#skewMs, startedMs, (event) =>
        this.#writer.isUnacknowledgedOwn(event.eventTimestamp?.getTime(), event.payload ?? [])
          ? []
          : this.#decode(event).messages,
      )
    } catch (error) {
      this.#log(
        `error=${errorName(rootCause(error))} | reading events written outside this agent failed; the next model call tries again`,
      )
      return
    }
    this.#lastLookMs = startedMs
    // No later look reads below its floor: own unacknowledged events stamped before it are settled.
    this.#writer.settleUnacknowledged(startedMs - this.#skewMs)
    if (fresh.length === 0) return
    // Outside events were written before the prompt that is about to be answered (which is not stored
    // yet): they go before it, as a restore orders them, and the prompt stays last, where a guardrail
    // redaction applies. After a toolResult they simply follow.
    const last = agent.messages.at(-1)
    const beforePrompt = last !== undefined && isPrompt(last)
    agent.messages.splice(beforePrompt ? agent.messages.length - 1 : agent.messages.length, 0, ...fresh)
    this.#messageCounter += fresh.length
    this.#logDebug(`messages=${fresh.length} | added events written outside this agent`)
  }

  /**
   * Lists the session newest first down to `floorMs`, skipping events already seen, and returns the
   * messages `read(event)` gives for each, oldest first, in one flat array (a long history keeps
   * no per-event wrappers alive). Events are read page by page so a long session's raw pages are
   * not all held at once. Events count as seen only once the whole read succeeded; a read that
   * started at `startedMs` makes every later floor at least `startedMs` less the skew allowance,
   * so events stamped before that are forgotten.
   */
  async #listNewerThan(
    floorMs: number,
    startedMs: number,
    read: (event: MemoryEventLike) => readonly Message[],
  ): Promise<Message[]> {
    const newestFirst: Message[] = []
    const taken = new Map<string, number>()
    const fullRead = floorMs === Number.NEGATIVE_INFINITY
    let pending: Promise<ListEventsCommandOutput> | undefined = this.#listPage(undefined)
    while (pending) {
      // Our own copy of the page's events (the client's answer is not ours to change), released
      // one by one as decoded: a page of large events held to the end would outlive the collections
      // its decoding triggers and be copied into the old generation.
      const { nextToken, events } = ownPage(await pending)
      pending = undefined
      // A full read fetches the next page while this one is decoded; a sync usually stops within one page.
      if (fullRead && nextToken) {
        pending = this.#listPage(nextToken)
        pending.catch(() => {})
        // The client signs and sends over several ticks: let the request leave before decoding.
        await yieldToEventLoop()
      }
      let reachedFloor = false
      for (let index = 0; index < events.length; index += 1) {
        if (!this.#take(events[index] as MemoryEventLike, floorMs, read, newestFirst, taken)) {
          reachedFloor = true
          break
        }
        events[index] = undefined
      }
      if (!fullRead && !reachedFloor && nextToken) pending = this.#listPage(nextToken)
    }
    const reachableMs = startedMs - this.#skewMs
    for (const [eventId, timestampMs] of this.#seenEvents) {
      if (timestampMs < reachableMs) this.#seenEvents.delete(eventId)
    }
    if (this.#syncBeforeModelCall) {
      for (const [eventId, timestampMs] of taken) {
        if (timestampMs >= reachableMs) this.#seenEvents.set(eventId, timestampMs)
      }
    }
    return newestFirst.reverse()
  }

  /** Reads one listed event's messages into `newestFirst` (last first) unless already seen; false once events get older than `floorMs`. */
  #take(
    event: MemoryEventLike,
    floorMs: number,
    read: (event: MemoryEventLike) => readonly Message[],
    newestFirst: Message[],
    taken: Map<string, number>,
  ): boolean {
    const timestampMs = event.eventTimestamp?.getTime() ?? 0
    if (timestampMs < floorMs) return false
    if (!event.eventId || this.#seenEvents.has(event.eventId) || taken.has(event.eventId)) return true
    taken.set(event.eventId, timestampMs)
    if (timestampMs > this.#lastTimestampMs) this.#lastTimestampMs = timestampMs
    const messages = read(event)
    for (let index = messages.length - 1; index >= 0; index -= 1) newestFirst.push(messages[index] as Message)
    return true
  }

  async #listPage(nextToken: string | undefined): Promise<ListEventsCommandOutput> {
    const input = {
      memoryId: this.memoryId,
      actorId: this.actorId,
      sessionId: this.#sessionId,
      includePayloads: true,
      maxResults: MEMORY_LIMITS.maxResults,
      ...(nextToken ? { nextToken } : {}),
    }
    try {
      return (await withRetry(this.#retry, () => this.#client.send(new ListEventsCommand(input)), {
        operation: 'ListEvents',
        what: 'read',
        log: (line) => this.#log(line),
      })) as ListEventsCommandOutput
    } catch (error) {
      throw new MemorySessionError('READ_FAILED', `ListEvents failed (${errorName(error)})`, { cause: error })
    }
  }

  #decode(event: MemoryEventLike) {
    return decodeMemoryEvent(event, this.#onDecodeProblem)
  }

  readonly #onDecodeProblem = (problem: { eventId: string; index?: number; reason: string }): void =>
    this.#log(
      `event_id=${problem.eventId}${problem.index !== undefined ? ` payload_index=${problem.index}` : ''} reason=${JSON.stringify(problem.reason)} | unreadable event part skipped`,
    )

  /** Searches long-term memory with the prompt's text; the result goes into the model call only. */
  async #retrieveContext(message: Message): Promise<void> {
    const namespaces = this.#retrieval
    if (!namespaces) return
    const query = message.content.find((block) => block.type === 'textBlock')?.text
    if (!query?.trim()) return
    const texts = await retrieveLongTermContext({
      client: this.#client,
      memoryId: this.memoryId,
      actorId: this.actorId,
      sessionId: this.#sessionId,
      namespaces,
      query,
      retry: this.#retry,
      log: (line) => this.#log(line),
    })
    const tag = this.#contextTag
    this.#context =
      texts.length > 0
        ? { trackingId: message.trackingId, text: `<${tag}>${texts.join('\n')}</${tag}>` }
        : undefined
  }

  /** What the model receives: a Converse-valid history, long-term context in the user's message. */
  #modelView(messages: readonly Message[]): Message[] {
    const view = normalizeConverseHistory(messages)
    const context = this.#context
    if (!context) return view
    let index = view.findIndex((message) => message.trackingId === context.trackingId)
    if (index === -1) index = view.findLastIndex((message) => message.role === 'user')
    const target = view[index]
    if (!target) return view
    const results = target.content.filter((block) => block.type === 'toolResultBlock')
    const others = target.content.filter((block) => block.type !== 'toolResultBlock')
    const content: ContentBlock[] = [...results, new TextBlock(context.text), ...others]
    view[index] = new Message({ role: target.role, content, trackingId: target.trackingId })
    return view
  }

  /** A guardrail replaced the latest user message: its stored form must be replaced too. */
  async #persistRedaction(agent: LocalAgent): Promise<void> {
    const promptId = this.#promptTrackingId
    const message =
      (promptId !== undefined
        ? agent.messages.findLast((entry) => entry.trackingId === promptId)
        : undefined) ?? agent.messages.at(-1)
    if (!this.#persist || !message || message.role !== 'user') return
    const payload = encodeMessagePayload(message, { now: new Date(this.#clock()) })
    if (!payload) return
    const outcome = this.#writer.replacePending(message.trackingId, payload)
    if (outcome === 'replaced') return
    if (outcome === 'sent') await this.flush()
    const written = this.#writer.writtenMessage(message.trackingId)
    if (!written) {
      this.#log(
        `tracking_id=${message.trackingId} | redacted message was not written by this manager; nothing replaced`,
      )
      return
    }
    const replacement = written.payload.map((item, index) =>
      written.trackingIds[index] === message.trackingId ? payload : item,
    )
    let replacementId: string
    try {
      replacementId = await this.#writer.writeReplacement(written, replacement)
    } catch (error) {
      const cause = rootCause(error)
      throw new MemorySessionError(
        'WRITE_FAILED',
        `redaction not stored: the replacement of event ${written.eventId} could not be written (${errorName(cause)}); the original is kept, and the replacement may be stored beside it`,
        { cause },
      )
    }
    try {
      await this.#deleteEvent(written.eventId)
    } catch (error) {
      // Keep exactly one stored copy: take the replacement back, as Python does, and report.
      let rollback = 'the replacement was deleted again, the original is kept'
      try {
        await this.#deleteEvent(replacementId)
        this.#writer.restoreWritten(written)
      } catch (rollbackError) {
        rollback = `deleting the replacement ${replacementId} failed too (${errorName(rollbackError)}); both are stored`
      }
      this.#log(`event_id=${written.eventId} error=${errorName(error)} | redaction not stored: ${rollback}`)
      throw new MemorySessionError(
        'WRITE_FAILED',
        `redaction not stored: event ${written.eventId} holding the original could not be deleted (${errorName(error)}); ${rollback}`,
        { cause: error },
      )
    }
  }

  /** DeleteEvent with retries; an event already gone counts as deleted. */
  async #deleteEvent(eventId: string): Promise<void> {
    const input = { memoryId: this.memoryId, actorId: this.actorId, sessionId: this.#sessionId, eventId }
    try {
      await withRetry(this.#retry, () => this.#client.send(new DeleteEventCommand(input)), {
        operation: 'DeleteEvent',
        what: 'delete',
        log: (line) => this.#log(line),
      })
    } catch (error) {
      if (!isPermanentError(error, ALREADY_DELETED)) throw error
    }
  }

  /** Milliseconds, strictly increasing, never before an event already in the session. */
  #nextTimestampMs(): number {
    this.#lastTimestampMs = Math.max(Math.floor(this.#clock()), this.#lastTimestampMs + 1)
    return this.#lastTimestampMs
  }

  #log(line: string): void {
    this.#logger.warn(`memory_id=${this.memoryId} session_id=${this.#sessionId} ${line}`)
  }

  #logDebug(line: string): void {
    this.#logger.debug?.(`memory_id=${this.memoryId} session_id=${this.#sessionId} ${line}`)
  }
}

/** A user's prompt: a user message that is not a toolResult (what retrieval searches with and a guardrail redacts). */
function isPrompt(message: Message): boolean {
  return message.role === 'user' && !message.content.some((block) => block.type === 'toolResultBlock')
}

function withoutToolBlocks(messages: readonly Message[]): Message[] {
  return messages.flatMap((message) => {
    const content = message.content.filter(
      (block) => block.type !== 'toolUseBlock' && block.type !== 'toolResultBlock',
    )
    return content.length === 0
      ? []
      : [new Message({ role: message.role, content, trackingId: message.trackingId })]
  })
}

/** Rejects a bad configuration before anything is read or written, naming the field. */
function validateConfig(config: AgentCoreMemorySessionManagerConfig): void {
  if (typeof config !== 'object' || config === null)
    throw new MemoryConfigError('config', 'must be an object')
  const ids = [
    ['memoryId', config.memoryId, MEMORY_ID_RULE],
    ['sessionId', config.sessionId, SESSION_ID_RULE],
    ['actorId', config.actorId, ACTOR_ID_RULE],
  ] as const
  for (const [field, value, rule] of ids) {
    const problem = explainIdViolation(value, rule)
    if (problem) throw new MemoryConfigError(field, problem)
  }
  if (config.agentId !== undefined) {
    const problem = explainMetadataValueViolation(config.agentId)
    if (problem) throw new MemoryConfigError('agentId', problem)
  }
  checkInteger('batchSize', config.batchSize, 1, MEMORY_LIMITS.payloadItems)
  checkDuration('flushIntervalMs', config.flushIntervalMs, { positive: true })
  if (config.contextTag !== undefined && !CONTEXT_TAG_PATTERN.test(config.contextTag)) {
    throw new MemoryConfigError('contextTag', `must match ${CONTEXT_TAG_PATTERN.source}`)
  }
  if (config.defaultMetadata !== undefined) {
    const entries = Object.entries(config.defaultMetadata)
    // State events carry stateType and agentId besides the default metadata.
    const maxKeys = METADATA_MAX_KEYS - RESERVED_METADATA_KEYS.size
    if (entries.length > maxKeys) {
      throw new MemoryConfigError('defaultMetadata', `must have at most ${maxKeys} keys`)
    }
    for (const [key, value] of entries) {
      if (RESERVED_METADATA_KEYS.has(key))
        throw new MemoryConfigError(`defaultMetadata.${key}`, 'is reserved for state events')
      const problem = explainMetadataKeyViolation(key) ?? explainMetadataValueViolation(value)
      if (problem) throw new MemoryConfigError(`defaultMetadata.${key}`, problem)
    }
  }
  for (const [template, retrieval] of Object.entries(config.retrieval ?? {})) {
    const field = `retrieval[${JSON.stringify(template)}]`
    if (template.trim() === '' || template.includes('*'))
      throw new MemoryConfigError(field, 'must be a namespace without wildcards')
    checkInteger(`${field}.topK`, retrieval.topK, 1, MEMORY_LIMITS.topK)
    const score = retrieval.relevanceScore
    if (score !== undefined && !(typeof score === 'number' && score >= 0 && score <= 1)) {
      throw new MemoryConfigError(`${field}.relevanceScore`, 'must be a number from 0 to 1')
    }
    if (
      retrieval.strategyId !== undefined &&
      (typeof retrieval.strategyId !== 'string' || retrieval.strategyId === '')
    ) {
      throw new MemoryConfigError(`${field}.strategyId`, 'must be a non-empty string')
    }
  }
  if (
    config.syncExternalEvents !== undefined &&
    !['beforeModelCall', 'onInit'].includes(config.syncExternalEvents)
  ) {
    throw new MemoryConfigError('syncExternalEvents', "must be 'beforeModelCall' or 'onInit'")
  }
  checkDuration('externalSyncMinIntervalMs', config.externalSyncMinIntervalMs)
  checkDuration('externalSyncLookbackMs', config.externalSyncLookbackMs)
  checkInteger('retry.maxAttempts', config.retry?.maxAttempts, 1, 100)
  checkDuration('retry.baseDelayMs', config.retry?.baseDelayMs)
  checkDuration('retry.maxDelayMs', config.retry?.maxDelayMs)
  if (
    config.client === undefined &&
    config.region !== undefined &&
    (typeof config.region !== 'string' || config.region === '')
  ) {
    throw new MemoryConfigError('region', 'must be a non-empty string')
  }
}

function checkInteger(field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MemoryConfigError(field, `must be an integer from ${min} to ${max}`)
  }
}

/** A number of milliseconds: finite and 0 or more (more than 0 when `positive`). */
function checkDuration(field: string, value: number | undefined, options: { positive?: boolean } = {}): void {
  if (value === undefined) return
  if (!Number.isFinite(value) || value < 0 || (options.positive && value === 0)) {
    throw new MemoryConfigError(
      field,
      options.positive ? 'must be a positive number of milliseconds' : 'must be 0 or more',
    )
  }
}

/** The page's next token and a copy of its events that the reader may clear as it goes. */
function ownPage(page: ListEventsCommandOutput): {
  nextToken: string | undefined
  events: (MemoryEventLike | undefined)[]
} {
  return { nextToken: page.nextToken, events: [...(page.events ?? [])] as MemoryEventLike[] }
}
