/**
 * AgentCoreMemorySessionManager: keeps a Strands agent's conversation in AgentCore Memory short-term
 * events, in the Python manager's format, and brings into the conversation what others wrote into
 * the same session (a task result from an MCP server) while the agent runs. This file wires the
 * agent's hooks to the parts that do the work: the {@link SessionReader} (restore, catch-up reads),
 * the {@link EventWriter} (batched writes), redaction and long-term retrieval.
 */
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
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
} from '@strands-agents/sdk'
import { normalizeConverseHistory } from './converse-history.ts'
import { errorName, MemoryConfigError, MemorySessionError } from './errors.ts'
import {
  agentStateEvent,
  encodeMessagePayload,
  type EventPayloadItem,
  type InterruptStateData,
  interruptStateOf,
  isRecord,
  modelStateOf,
  pausedToolUseIds,
  sessionStateEvent,
} from './event-codec.ts'
import { type EventMetadata, EventWriter, type MemoryDataClient, type RejectedWrite } from './event-writer.ts'
import { isPrompt } from './history-window.ts'
import { DEFAULT_RETRY_POLICY, MEMORY_LIMITS, type RetryPolicy } from '../contract/index.ts'
import { TurnContext } from './long-term-context.ts'
import { storeRedactedMessage } from './redaction.ts'
import { listSessionEvents } from './session-events.ts'
import {
  type AgentCoreMemorySessionManagerConfig,
  explainMetadataViolation,
  type MemoryLogger,
  validateConfig,
} from './session-manager-config.ts'
import { SESSION_MANAGER_DEFAULTS } from './session-manager-defaults.ts'
import { type RestoreReport, SessionReader } from './session-reader.ts'

/**
 * A Strands `SessionManager` backed by AgentCore Memory. Pass it as `new Agent({ sessionManager })`;
 * one manager serves one agent. Restores the session when the agent initialises (its conversation
 * window, or all of it), writes each invocation's messages in as few CreateEvent calls as possible
 * (before a tool runs and at the end of the invocation), and never loses a message silently: a
 * write that keeps failing fails the invocation (or `flush()` / `close()`) with a `WRITE_FAILED`
 * {@link MemorySessionError}, and the messages stay buffered for the next flush.
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
  readonly #reader: SessionReader
  readonly #persist: boolean
  /** Names this agent's state events; fixed by the config. */
  readonly #agentId: string
  /** Long-term memory of the current turn; undefined when no namespace is configured. */
  readonly #turnContext: TurnContext | undefined
  readonly #flushIntervalMs: number | undefined
  readonly #filterRestoredToolContext: boolean
  /** Python's default writes: an agent-state event of its own after every message. */
  readonly #stateEveryMessage: boolean
  /** Events written by others are also read before model calls (`syncExternalEvents` not `onInit`). */
  readonly #catchUpBeforeModelCall: boolean
  readonly #catchUpMinIntervalMs: number
  /**
   * trackingId of the toolUse message written before its tools ran, until the MessageAdded that
   * appends it after them (a resumed interrupt fires BeforeTools for it once more in between).
   */
  #writtenAhead: string | undefined
  /**
   * toolUse ids of the message a restored pause holds (joined): that message was written before its
   * tools were paused, and the resume hands it to BeforeTools and MessageAdded again.
   */
  #pausedToolUses: string | undefined
  /**
   * trackingId of the message buffered last: a continuation merged into the agent's last message
   * fires MessageAdded again under that id, and the message is not written twice.
   */
  #lastBuffered: string | undefined
  #agent: LocalAgent | undefined
  /** Timestamps of written events: strictly increasing, never before an event already in the session. */
  #lastTimestampMs = 0
  /** trackingId of the latest user prompt (text, not a toolResult): what a guardrail redacts. */
  #promptTrackingId: string | undefined
  /** The `message_id` of the next message written. */
  #messageCounter = 0
  /** Messages before the restored ones (for the conversation manager state Python reads). */
  #removedMessageCount = 0
  #sessionStored = false
  #agentStateStored: string | undefined
  #agentStateCreatedAt: Date | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #restoreReport: RestoreReport | undefined

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
    this.#agentId = config.agentId ?? SESSION_MANAGER_DEFAULTS.agentId
    this.#turnContext =
      config.retrieval && Object.keys(config.retrieval).length > 0
        ? new TurnContext({
            client: this.#client,
            memoryId: config.memoryId,
            actorId: config.actorId,
            sessionId: config.sessionId,
            namespaces: config.retrieval,
            tag: config.contextTag ?? SESSION_MANAGER_DEFAULTS.contextTag,
            retry: this.#retry,
            log: (line) => this.#log(line),
          })
        : undefined
    this.#flushIntervalMs = config.flushIntervalMs
    this.#filterRestoredToolContext = config.filterRestoredToolContext === true
    this.#stateEveryMessage = config.syncAgentStateEveryMessage === true
    this.#catchUpBeforeModelCall = config.syncExternalEvents !== 'onInit'
    this.#catchUpMinIntervalMs =
      config.externalSyncMinIntervalMs ?? SESSION_MANAGER_DEFAULTS.externalSyncMinIntervalMs
    const restoreWindow = config.restoreWindow ?? SESSION_MANAGER_DEFAULTS.restoreWindow
    const metadata = config.defaultMetadata
    const provider = config.metadataProvider
    this.#writer = new EventWriter({
      client: this.#client,
      memoryId: config.memoryId,
      actorId: config.actorId,
      sessionId: config.sessionId,
      batchSize: config.batchSize ?? MEMORY_LIMITS.payloadItems,
      messageMetadata: metadata && Object.keys(metadata).length > 0 ? toEventMetadata(metadata) : undefined,
      eventMetadata: provider === undefined ? undefined : () => providedMetadata(provider),
      retry: this.#retry,
      nextTimestampMs: () => this.#nextTimestampMs(),
      onWritten: (eventId, timestampMs) => this.#reader.noteWritten(eventId, timestampMs),
      log: (line) => this.#log(line),
    })
    this.#reader = new SessionReader({
      client: this.#client,
      memoryId: config.memoryId,
      actorId: config.actorId,
      sessionId: config.sessionId,
      agentId: this.#agentId,
      scope: restoreWindow === 'full' ? { kind: 'full' } : { kind: 'window', messages: restoreWindow },
      cache: config.sessionCache,
      retry: this.#retry,
      clock: this.#clock,
      lookbackMs: config.externalSyncLookbackMs ?? SESSION_MANAGER_DEFAULTS.externalSyncLookbackMs,
      catchUps: this.#catchUpBeforeModelCall,
      isOwnUnacknowledged: (timestampMs, payload) => this.#writer.isUnacknowledgedOwn(timestampMs, payload),
      settleOwnBefore: (floorMs) => this.#writer.settleUnacknowledged(floorMs),
      log: (line) => this.#log(line),
      logDebug: (line) => this.#logDebug(line),
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

  /** How the restore went (kind, ListEvents calls, why a cached window was not used); undefined before it. */
  get restoreReport(): RestoreReport | undefined {
    return this.#restoreReport
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
      if (event.stopData?.redaction) await this.#storeRedaction(event.agent)
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

  /**
   * Deletes every event of the session (DeleteEvent each, with retries), as the Python manager's
   * `delete_session` does. What is still buffered is dropped first (a flush under way is waited
   * for), so nothing is written after the delete; the agent's history in memory is left as it is.
   */
  override async deleteSession(): Promise<void> {
    await this.#writer.discard()
    const events = await listSessionEvents(this.#client, {
      memoryId: this.memoryId,
      actorId: this.actorId,
      sessionId: this.#sessionId,
    })
    for (const event of events) if (event.eventId) await this.#writer.deleteEvent(event.eventId)
    this.#reader.forgetCached()
    this.#sessionStored = false
    this.#agentStateStored = undefined
    this.#agentStateCreatedAt = undefined
    this.#messageCounter = 0
    this.#removedMessageCount = 0
    this.#logDebug(`events=${events.length} | session deleted`)
  }

  /**
   * Restores the session into the agent: its window (or all of it), state and counters, and a pause
   * it waits in (the turn resumes with the caller's answers). The paused toolUse message is held by
   * the pause, not the history: restored as history it would be answered "interrupted".
   */
  async #restore(agent: LocalAgent): Promise<void> {
    const restored = await this.#reader.restore()
    this.#restoreReport = restored.report
    if (restored.sessionStored) this.#sessionStored = true
    this.#messageCounter = restored.nextMessageId
    this.#removedMessageCount = restored.removedMessageCount ?? 0
    this.#lastTimestampMs = Math.max(this.#lastTimestampMs, this.#reader.newestTimestampMs)
    const agentState = restored.agentState
    const paused = agentState ? interruptStateOf(agentState) : undefined
    const pausedIds = pausedToolUseIds(paused)
    const messages =
      pausedIds.length > 0 ? withoutPausedToolUse(restored.messages, pausedIds) : restored.messages
    const usable = this.#filterRestoredToolContext ? withoutToolBlocks(messages) : messages
    const statefulModel = (agent as { model?: { stateful?: boolean } }).model?.stateful === true
    if (usable.length > 0 && !statefulModel) {
      if (agent.messages.length > 0) {
        this.#log(`agent_messages=${agent.messages.length} | replaced by the history restored from memory`)
      }
      agent.messages.splice(0, agent.messages.length, ...normalizeConverseHistory(usable))
    } else if (messages.length === 0) {
      // A new session started with messages given to the agent: they belong to the session too.
      for (const message of agent.messages) this.#buffer(message)
    }
    if (agentState) {
      const state = agentState.state
      if (isRecord(state)) {
        agent.appState.clear()
        for (const [key, value] of Object.entries(state)) agent.appState.set(key, value as never)
      }
      // A stateful model continues from what it kept (its response id); its messages are not restored.
      const modelState = modelStateOf(agentState)
      if (Object.keys(modelState).length > 0) {
        agent.modelState.clear()
        for (const [key, value] of Object.entries(modelState)) agent.modelState.set(key, value as never)
      }
      if (paused !== undefined) {
        // Strands' own way in: a snapshot holding only the interrupts leaves the rest as restored.
        const snapshot = agent.takeSnapshot({ include: ['interrupts'] })
        agent.loadSnapshot({ ...snapshot, data: { interrupts: paused as never } })
        if (pausedIds.length > 0) this.#pausedToolUses = pausedIds.join(' ')
      }
      this.#agentStateStored = storedStateKey(agent)
      const createdAt =
        typeof agentState.created_at === 'string' ? new Date(agentState.created_at) : undefined
      if (createdAt && !Number.isNaN(createdAt.getTime())) this.#agentStateCreatedAt = createdAt
    }
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
    const retrieval = prompt ? this.#turnContext?.retrieve(message) : undefined
    if (!this.#persist) return retrieval
    if (this.#stateEveryMessage) this.#enqueueAgentState(agent)
    else if (!this.#writer.isFull) return retrieval
    return Promise.all([retrieval, this.flush()]).then(() => {})
  }

  /** The toolUse message is appended only after its tools finish; write it before they start. */
  async #onBeforeTools(message: Message): Promise<void> {
    if (!this.#persist) return
    if (this.#pausedToolUses !== undefined && toolUseIdsOf(message).join(' ') === this.#pausedToolUses) {
      // A resumed pause: its toolUse message is stored already; only its results are new.
      this.#pausedToolUses = undefined
      this.#writtenAhead = message.trackingId
      return
    }
    this.#buffer(message)
    this.#writtenAhead = message.trackingId
    await this.flush()
  }

  /**
   * A catch-up read before a model call once the previous read started at least
   * `externalSyncMinIntervalMs` ago (0: before every model call). A skipped one only delays an
   * event to the next, which reads from where the last completed read started.
   */
  async #onBeforeModelCall(agent: LocalAgent): Promise<void> {
    if (!this.#catchUpBeforeModelCall) return
    if (this.#clock() - this.#reader.lastReadStartedMs < this.#catchUpMinIntervalMs) return
    const fresh = await this.#reader.catchUp()
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

  async #onAfterInvocation(agent: LocalAgent): Promise<void> {
    this.#turnContext?.clear()
    if (!this.#persist) return
    const state = storedStateKey(agent)
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

  /** Queues the agent's state; `serialized` is its {@link storedStateKey} when the caller has it already. */
  #enqueueAgentState(agent: LocalAgent, serialized?: string): void {
    this.#queueSessionStateOnce()
    const state = agent.appState.getAll()
    const modelState = agent.modelState.getAll()
    const now = new Date(this.#clock())
    this.#agentStateCreatedAt ??= now
    const event = agentStateEvent({
      agentId: this.#agentId,
      state,
      createdAt: this.#agentStateCreatedAt,
      now,
      // Stored messages before the restored window (Python's sliding window restores from there):
      // never more than there are, so a Python agent never drops a message this one holds.
      removedMessageCount: this.#removedMessageCount,
      modelState,
      interruptState: interruptStateOfAgent(agent),
    })
    this.#queueState(event)
    this.#agentStateStored = serialized ?? storedStateKey(agent)
  }

  /** State rides on the next message event; in the Python-default mode it is an event of its own, as Python writes it. */
  #queueState(event: { payload: EventPayloadItem[]; metadata: EventMetadata }): void {
    if (this.#stateEveryMessage) this.#writer.enqueueEvent(event.payload, event.metadata)
    else this.#writer.attachState(event.payload[0] as EventPayloadItem, event.metadata)
  }

  /** What the model receives: a Converse-valid history, long-term context in the user's message. */
  #modelView(messages: readonly Message[]): Message[] {
    const view = normalizeConverseHistory(messages)
    return this.#turnContext?.applyTo(view) ?? view
  }

  /** A guardrail replaced the latest user message: its stored form must be replaced too. */
  async #storeRedaction(agent: LocalAgent): Promise<void> {
    const promptId = this.#promptTrackingId
    const message =
      (promptId !== undefined
        ? agent.messages.findLast((entry) => entry.trackingId === promptId)
        : undefined) ?? agent.messages.at(-1)
    if (!this.#persist || !message || message.role !== 'user') return
    // The stored window changes under the cache's feet: the next restore reads it afresh.
    this.#reader.forgetCached()
    await storeRedactedMessage(message, {
      writer: this.#writer,
      flush: () => this.flush(),
      now: () => new Date(this.#clock()),
      log: (line) => this.#log(line),
    })
  }

  /** Milliseconds, strictly increasing, never before an event already in the session. */
  #nextTimestampMs(): number {
    this.#lastTimestampMs = Math.max(
      Math.floor(this.#clock()),
      this.#lastTimestampMs + 1,
      this.#reader.newestTimestampMs + 1,
    )
    return this.#lastTimestampMs
  }

  #log(line: string): void {
    this.#logger.warn(`memory_id=${this.memoryId} session_id=${this.#sessionId} ${line}`)
  }

  #logDebug(line: string): void {
    this.#logger.debug?.(`memory_id=${this.memoryId} session_id=${this.#sessionId} ${line}`)
  }
}

/** What an agent state event holds that may change: a new one is written when this differs. */
function storedStateKey(agent: LocalAgent): string {
  return JSON.stringify([agent.appState.getAll(), agent.modelState.getAll(), interruptStateOfAgent(agent)])
}

/** The agent's pause, through Strands' public snapshot (the state itself is internal). */
function interruptStateOfAgent(agent: LocalAgent): InterruptStateData | undefined {
  const data = agent.takeSnapshot({ include: ['interrupts'] }).data.interrupts
  return (data ?? undefined) as InterruptStateData | undefined
}

function toolUseIdsOf(message: Message): string[] {
  return message.content.flatMap((block) => (block.type === 'toolUseBlock' ? [block.toolUseId] : []))
}

/**
 * The restored history without the paused toolUse message: the last assistant message that asked
 * for exactly the paused calls. The pause resumes it; as history it would look unanswered.
 */
function withoutPausedToolUse(messages: readonly Message[], pausedIds: readonly string[]): Message[] {
  const key = pausedIds.join(' ')
  const index = messages.findLastIndex(
    (message) => message.role === 'assistant' && toolUseIdsOf(message).join(' ') === key,
  )
  return index === -1 ? [...messages] : messages.filter((_message, at) => at !== index)
}

function toEventMetadata(metadata: Readonly<Record<string, string>>): EventMetadata {
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, { stringValue: value }]))
}

/** The provider's metadata for one flush, checked like `defaultMetadata`: a bad answer refuses the flush (messages kept). */
function providedMetadata(provider: () => Readonly<Record<string, string>>): EventMetadata | undefined {
  const metadata = provider()
  if (metadata === undefined || Object.keys(metadata).length === 0) return undefined
  const violation = explainMetadataViolation('metadataProvider()', metadata)
  if (violation) throw new MemoryConfigError(violation.field, violation.problem)
  return toEventMetadata(metadata)
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
