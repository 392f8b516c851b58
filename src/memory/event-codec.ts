/**
 * Message <-> Memory event codec in the format the Python AgentCoreMemorySessionManager uses
 * (its SessionMessage JSON in conversational payloads), so a Python agent and a TypeScript agent
 * can share one session.
 * Writing follows Python exactly; reading also accepts the TypeScript Strands forms, bare
 * message JSON and plain text, because anything may have written an event into a session.
 */

import type { ContentBlock, ContentBlockData, MessageData } from '@strands-agents/sdk'
import { contentBlockFromData, Message, TextBlock } from '@strands-agents/sdk'
import type { ConversationalPayload } from '../contract/index.ts'
import { MEMORY_LIMITS } from '../contract/index.ts'
import { AGENT_ID_KEY, STATE_TYPE_KEY } from './metadata-keys.ts'
import { isRecord } from '../shared/is-record.ts'

/** One item of CreateEvent's `payload`: a conversational message or a JSON blob. */
export type EventPayloadItem = ConversationalPayload | { blob: unknown }

/** The parts of a Memory event (as ListEvents returns it) the codec reads. */
export interface MemoryEventLike {
  readonly eventId?: string | undefined
  readonly eventTimestamp?: Date | undefined
  readonly payload?: readonly unknown[] | undefined
  readonly metadata?: Record<string, { stringValue?: string | undefined } | undefined> | undefined
}

/** Conversational text limit of CreateEvent; a message this long or longer goes as a blob (as in Python). */
export const CONVERSATIONAL_TEXT_LIMIT = MEMORY_LIMITS.conversationalText
export { AGENT_ID_KEY, STATE_TYPE_KEY } from './metadata-keys.ts'

/** Python's `datetime.isoformat()` for UTC: microseconds and `+00:00`. */
export function pythonIsoTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00')
}

/** Options of {@link encodeMessagePayload}. */
export interface EncodeMessageOptions {
  /** `message_id` of the SessionMessage (Python writes 0 or the message's index). */
  readonly messageId?: number
  /** Time written as created_at/updated_at. */
  readonly now?: Date
}

/**
 * Encodes a Strands message as one CreateEvent payload item, Python style: the SessionMessage
 * JSON as USER/ASSISTANT conversational text, or a `[text, role]` blob from 100,000 characters on.
 * Returns undefined when nothing is left to store (only blank text blocks), as Python does.
 */
export function encodeMessagePayload(
  message: Message | MessageData,
  options: EncodeMessageOptions = {},
): EventPayloadItem | undefined {
  const data = message instanceof Message ? message.toJSON() : message
  const content = data.content.filter((block) => !isBlankText(block)).map((block) => toPythonBlock(block))
  if (content.length === 0) return undefined
  const iso = pythonIsoTimestamp(options.now ?? new Date())
  const text = JSON.stringify({
    message: { role: data.role, content },
    message_id: options.messageId ?? 0,
    redact_message: null,
    created_at: iso,
    updated_at: iso,
  })
  if (text.length + data.role.length >= CONVERSATIONAL_TEXT_LIMIT)
    return { blob: JSON.stringify([text, data.role]) }
  return { conversational: { content: { text }, role: data.role === 'assistant' ? 'ASSISTANT' : 'USER' } }
}

/** The state the Python manager keeps per session: written once, when the session starts. */
export function sessionStateEvent(sessionId: string, now: Date = new Date()) {
  const iso = pythonIsoTimestamp(now)
  return {
    payload: [
      {
        blob: JSON.stringify({
          session_id: sessionId,
          session_type: 'AGENT',
          created_at: iso,
          updated_at: iso,
        }),
      },
    ],
    metadata: { [STATE_TYPE_KEY]: { stringValue: 'SESSION' } },
  }
}

/** Input of {@link agentStateEvent}. */
export interface AgentStateInput {
  readonly agentId: string
  readonly state: Record<string, unknown>
  readonly createdAt?: Date
  readonly now?: Date
  /** Messages of the session before the agent's window (Python's sliding window restores from there). */
  readonly removedMessageCount?: number
  /**
   * What a stateful model keeps between calls (Strands' `agent.modelState`, e.g. the `responseId` a
   * server-side conversation continues from). Without it a rebuilt agent of a stateful model, which
   * restores no messages, would start with no context at all.
   */
  readonly modelState?: Record<string, unknown>
  /**
   * A pause the agent waits in (Strands' interrupt state, `agent.takeSnapshot` form): stored so a
   * new process can resume it with the caller's answers. Absent or not activated: none.
   */
  readonly interruptState?: InterruptStateData | undefined
}

/**
 * The agent state event, in the SessionAgent form a Python agent restores from. The conversation
 * manager part names Python's default manager, which refuses to restore a state of another name.
 */
export function agentStateEvent(input: AgentStateInput) {
  const now = input.now ?? new Date()
  const agent = {
    agent_id: input.agentId,
    state: input.state,
    conversation_manager_state: {
      __name__: 'SlidingWindowConversationManager',
      removed_message_count: input.removedMessageCount ?? 0,
      model_call_count: 0,
    },
    _internal_state: {
      interrupt_state: encodeInterruptState(input.interruptState),
      model_state: input.modelState ?? {},
    },
    created_at: pythonIsoTimestamp(input.createdAt ?? now),
    updated_at: pythonIsoTimestamp(now),
  }
  return {
    payload: [{ blob: JSON.stringify(agent) }],
    metadata: { [STATE_TYPE_KEY]: { stringValue: 'AGENT' }, [AGENT_ID_KEY]: { stringValue: input.agentId } },
  }
}

/** The model state kept in an agent state event read back (`{}` when it holds none). */
export function modelStateOf(agentState: Record<string, unknown>): Record<string, unknown> {
  const internal = agentState._internal_state
  const modelState = isRecord(internal) ? internal.model_state : undefined
  return isRecord(modelState) ? modelState : {}
}

/**
 * Strands TypeScript's interrupt state as `agent.takeSnapshot({ include: ['interrupts'] })` gives
 * it (`InterruptState.toJSON()`); the SDK does not export the type.
 */
export interface InterruptStateData {
  readonly interrupts: Record<string, InterruptData>
  readonly activated: boolean
  readonly pendingToolExecution?: {
    readonly assistantMessageData: MessageData
    readonly completedToolResults: Record<string, { toolResult: Record<string, unknown> }>
  }
  readonly resumeResponses?: unknown
}

/** One interrupt of {@link InterruptStateData}. */
export interface InterruptData {
  readonly id: string
  readonly name: string
  readonly reason?: unknown
  readonly response?: unknown
  readonly source?: string
}

/** Python's `_InterruptState.to_dict()` of an agent that is not paused. */
const IDLE_INTERRUPT_STATE = { interrupts: {}, context: {}, activated: false } as const

/**
 * A pause in Python's form (`_internal_state.interrupt_state`): each interrupt as Python's
 * `Interrupt` dataclass (`id`, `name`, `reason`, `response`, nothing more, or Python refuses it), and
 * in `context` what Python's event loop resumes from: the assistant message whose tools were paused
 * (`tool_use_message`) and the results of those that had finished (`tool_results`).
 */
function encodeInterruptState(state: InterruptStateData | undefined): Record<string, unknown> {
  if (state === undefined || !state.activated) return { ...IDLE_INTERRUPT_STATE }
  const interrupts = Object.fromEntries(
    Object.entries(state.interrupts).map(([id, interrupt]) => [
      id,
      {
        id: interrupt.id,
        name: interrupt.name,
        reason: interrupt.reason ?? null,
        response: interrupt.response ?? null,
      },
    ]),
  )
  const pending = state.pendingToolExecution
  const context = pending
    ? {
        tool_use_message: {
          role: pending.assistantMessageData.role,
          content: pending.assistantMessageData.content.map((block) => toPythonBlock(block)),
        },
        tool_results: Object.values(pending.completedToolResults).map(
          (result) => toPythonBlock(result as Record<string, unknown>).toolResult,
        ),
      }
    : {}
  return { interrupts, context, activated: true }
}

/**
 * The pause kept in an agent state event read back, in the form `agent.loadSnapshot` takes;
 * undefined when the agent was not paused (or the state is not one this reads).
 */
export function interruptStateOf(agentState: Record<string, unknown>): InterruptStateData | undefined {
  const internal = agentState._internal_state
  const stored = isRecord(internal) ? internal.interrupt_state : undefined
  if (!isRecord(stored) || stored.activated !== true || !isRecord(stored.interrupts)) return undefined
  const interrupts: Record<string, InterruptData> = {}
  for (const [id, value] of Object.entries(stored.interrupts)) {
    if (!isRecord(value) || typeof value.name !== 'string') continue
    interrupts[id] = {
      id,
      name: value.name,
      ...(value.reason !== null && value.reason !== undefined && { reason: value.reason }),
      ...(value.response !== null && value.response !== undefined && { response: value.response }),
      // Python's Interrupt has no source: a tool's pause keeps its id, which is what a resume matches.
      ...(typeof value.source === 'string' && { source: value.source }),
    }
  }
  const context = isRecord(stored.context) ? stored.context : {}
  const message = isRecord(context.tool_use_message) ? context.tool_use_message : undefined
  if (message === undefined || !Array.isArray(message.content)) return { interrupts, activated: true }
  const results = Array.isArray(context.tool_results) ? context.tool_results.filter(isRecord) : []
  return {
    interrupts,
    activated: true,
    pendingToolExecution: {
      assistantMessageData: {
        role: 'assistant',
        content: fromPythonValue(message.content) as ContentBlockData[],
      },
      completedToolResults: Object.fromEntries(
        results.map((result) => [
          String(result.toolUseId),
          { toolResult: fromPythonValue(result) as Record<string, unknown> },
        ]),
      ),
    },
  }
}

/** The toolUse ids a paused assistant message asked for, in order: how the stored message is recognised. */
export function pausedToolUseIds(state: InterruptStateData | undefined): string[] {
  const content = state?.pendingToolExecution?.assistantMessageData.content ?? []
  return content.flatMap((block) => {
    const toolUse = (block as { toolUse?: { toolUseId?: unknown } }).toolUse
    return typeof toolUse?.toolUseId === 'string' ? [toolUse.toolUseId] : []
  })
}

/** A SESSION or AGENT state event, read back. */
export interface DecodedState {
  readonly type: 'SESSION' | 'AGENT'
  readonly agentId?: string
  readonly value: Record<string, unknown>
}

/** What one event holds: messages in payload order and, in a state event, the state. */
export interface DecodedEvent {
  readonly messages: Message[]
  /**
   * The `message_id` of each message (its index in the writing agent's conversation), undefined
   * where the event gave none or a writer outside any agent gave 0.
   */
  readonly messageIds: (number | undefined)[]
  readonly state?: DecodedState
}

/** Called for each part of an event that could not be read; the rest of the event is still used. */
export type DecodeProblemHandler = (problem: { eventId: string; index?: number; reason: string }) => void

/**
 * Reads one event. Never throws: an unreadable payload item is reported through `onProblem` and
 * skipped, so one bad event cannot empty a restored history.
 */
export function decodeMemoryEvent(
  event: MemoryEventLike,
  onProblem: DecodeProblemHandler = () => {},
): DecodedEvent {
  const eventId = event.eventId ?? '(no eventId)'
  const stateType = event.metadata?.[STATE_TYPE_KEY]?.stringValue
  const payload = event.payload ?? []
  let state: DecodedState | undefined
  let firstMessage = 0
  if (stateType === 'SESSION' || stateType === 'AGENT') {
    // The state blob leads the event; messages may follow it in the same event.
    const value = payload.length > 0 ? parseStateBlob((payload[0] as { blob?: unknown }).blob) : undefined
    if (value) {
      const agentId = event.metadata?.[AGENT_ID_KEY]?.stringValue
      state = { type: stateType, ...(agentId !== undefined ? { agentId } : {}), value }
      firstMessage = 1
    }
  }
  const messages: Message[] = []
  const messageIds: (number | undefined)[] = []
  // A plain loop: a restore decodes thousands of items, and a closure per event adds up.
  for (let index = firstMessage; index < payload.length; index += 1) {
    try {
      const decoded = decodePayloadItem(payload[index])
      if (decoded === 'not-a-message') continue
      if (decoded) {
        messages.push(decoded.message)
        messageIds.push(decoded.messageId)
      } else onProblem({ eventId, index, reason: 'payload item holds no readable content' })
    } catch (error) {
      onProblem({ eventId, index, reason: error instanceof Error ? error.message : String(error) })
    }
  }
  return state ? { messages, messageIds, state } : { messages, messageIds }
}

/** A decoded message and the `message_id` it was written with (undefined when none, or 0). */
interface DecodedMessage {
  readonly message: Message
  readonly messageId: number | undefined
}

function decodePayloadItem(item: unknown): DecodedMessage | undefined | 'not-a-message' {
  if (!isRecord(item)) return undefined
  if (isRecord(item.conversational)) {
    const text = isRecord(item.conversational.content) ? item.conversational.content.text : undefined
    if (typeof text !== 'string') return undefined
    const role = item.conversational.role === 'ASSISTANT' ? 'assistant' : 'user'
    return messageFromText(text, role)
  }
  if ('blob' in item) {
    const blob = parseIfString(item.blob)
    if (blob === undefined) return undefined
    // Python's large-message form: [SessionMessage JSON, role]. A dict is a legacy state blob.
    if (Array.isArray(blob) && blob.length === 2 && typeof blob[0] === 'string') {
      return messageFromText(blob[0], blob[1] === 'assistant' ? 'assistant' : 'user')
    }
    if (isRecord(blob) && ('agent_id' in blob || 'session_id' in blob)) return 'not-a-message'
    if (!isRecord(blob)) return undefined
    const message = messageFromJson(blob, 'user')
    return message === 'unrecognised' || message === undefined
      ? undefined
      : { message, messageId: idOf(blob) }
  }
  return undefined
}

/** A conversational text: SessionMessage JSON, bare message JSON, or plain text of the event's role. */
function messageFromText(text: string, role: 'user' | 'assistant'): DecodedMessage | undefined {
  const plain = plainSessionMessage(text)
  if (plain !== undefined) return plain
  if (firstNonSpace(text) === '{') {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (isRecord(parsed)) {
      const message = messageFromJson(parsed, role, () => hasPythonForms(text))
      if (message === undefined) return undefined
      if (message !== 'unrecognised') return { message, messageId: idOf(parsed) }
    }
  }
  if (text.trim() === '') return undefined
  return { message: new Message({ role, content: [new TextBlock(text)] }), messageId: undefined }
}

/** How this manager writes a message of one text block (JSON.stringify's compact form). */
const PLAIN_HEAD = /^\{"message":\{"role":"(user|assistant)","content":\[\{"text":"/
const PLAIN_TAIL =
  /^"\}\]\},"message_id":(\d+),"redact_message":null,"created_at":"[^"\\]*","updated_at":"[^"\\]*"\}$/

/**
 * The one-text message this manager writes, read without parsing the whole SessionMessage: only its
 * text literal goes through JSON.parse. A restore reads thousands of these; anything that is not
 * exactly that form (Python's spacing, more blocks, a redaction) is left to the general path.
 */
function plainSessionMessage(text: string): DecodedMessage | undefined {
  const head = PLAIN_HEAD.exec(text)
  if (head === null) return undefined
  const open = head[0].length - 1
  let close = open
  for (;;) {
    close = text.indexOf('"', close + 1)
    if (close === -1) return undefined
    let backslashes = 0
    while (text.charCodeAt(close - 1 - backslashes) === 92) backslashes += 1
    if (backslashes % 2 === 0) break
  }
  const tail = PLAIN_TAIL.exec(text.slice(close))
  if (tail === null) return undefined
  let body: string
  try {
    body = JSON.parse(text.slice(open, close + 1)) as string
  } catch {
    // Not this manager's JSON after all: the general path decides what it is.
    return undefined
  }
  if (isBlank(body)) return undefined
  const id = Number(tail[1])
  return {
    message: new Message({ role: head[1] as 'user' | 'assistant', content: [new TextBlock(body)] }),
    messageId: id > 0 ? id : undefined,
  }
}

/** A SessionMessage's `message_id`; 0, what writers outside an agent give, counts as none. */
function idOf(value: Record<string, unknown>): number | undefined {
  const id = value.message_id
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : undefined
}

/** Python-only forms are rare (bytes, reasoning, cache points): convert only texts that hold one. */
function hasPythonForms(text: string): boolean {
  return (
    text.includes('__bytes_encoded__') || text.includes('reasoningContent') || text.includes('cachePoint')
  )
}

/**
 * `convert` says whether Python-only forms may be present; it is asked only for a block other than
 * plain text (most blocks are plain text, and a restore reads thousands of them).
 */
function messageFromJson(
  value: Record<string, unknown>,
  role: 'user' | 'assistant',
  convert: () => boolean = () => true,
): Message | undefined | 'unrecognised' {
  let source: Record<string, unknown>
  if (isRecord(value.message)) {
    // Python's SessionMessage.to_message(): a redacted message replaces the original.
    source = isRecord(value.redact_message) ? value.redact_message : value.message
  } else if ('role' in value && 'content' in value) {
    source = value
  } else {
    return 'unrecognised'
  }
  const messageRole = source.role === 'assistant' ? 'assistant' : source.role === 'user' ? 'user' : role
  const content: ContentBlock[] = []
  if (typeof source.content === 'string') {
    if (source.content.trim() !== '') content.push(new TextBlock(source.content))
  } else if (Array.isArray(source.content)) {
    let converting: boolean | undefined
    for (const block of source.content) {
      const text = plainText(block)
      if (text !== undefined) {
        if (!isBlank(text)) content.push(new TextBlock(text))
        continue
      }
      converting ??= convert()
      const decoded = blockFromData(block, converting)
      if (decoded) content.push(decoded)
    }
  } else {
    return 'unrecognised'
  }
  return content.length === 0 ? undefined : new Message({ role: messageRole, content })
}

/** One content block from TS or Python JSON; undefined when it is blank or of a kind Strands lacks. */
function blockFromData(block: unknown, convert: boolean): ContentBlock | undefined {
  if (!isRecord(block)) return undefined
  const data = (convert ? fromPythonValue(block) : block) as Record<string, unknown>
  if ('text' in data && (typeof data.text !== 'string' || data.text.trim() === '')) return undefined
  try {
    return contentBlockFromData(data as ContentBlockData)
  } catch {
    return undefined
  }
}

/** The text of a block that is only `{ text }`, the common case; undefined for any other block. */
function plainText(block: unknown): string | undefined {
  if (!isRecord(block) || typeof block.text !== 'string') return undefined
  for (const key in block) if (key !== 'text') return undefined
  return block.text
}

function isBlank(text: string): boolean {
  return !/\S/.test(text)
}

function parseStateBlob(blob: unknown): Record<string, unknown> | undefined {
  const value = parseIfString(blob)
  return isRecord(value) ? value : undefined
}

/** A blob as stored: JSON text is parsed (undefined when it is not JSON), anything else is kept. */
function parseIfString(value: unknown): unknown {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value) as unknown
  } catch {
    return undefined
  }
}

/**
 * TS Strands JSON -> Python JSON for one block: bytes become `{"__bytes_encoded__":true,"data":b64}`,
 * `reasoning` becomes `reasoningContent`, a cache point's `cacheType` becomes `type`. Tool inputs
 * and JSON results are the user's data and are left alone.
 */
function toPythonBlock(block: ContentBlockData | Record<string, unknown>): Record<string, unknown> {
  const data = block as Record<string, unknown>
  if (isRecord(data.reasoning)) {
    const { text, signature, redactedContent } = data.reasoning
    if (typeof redactedContent === 'string')
      return { reasoningContent: { redactedContent: encodedBytes(redactedContent) } }
    return {
      reasoningContent: { reasoningText: { text, ...(signature !== undefined ? { signature } : {}) } },
    }
  }
  if (isRecord(data.cachePoint)) {
    const { cacheType, ...rest } = data.cachePoint
    return { cachePoint: { ...rest, type: cacheType ?? 'default' } }
  }
  if (isRecord(data.toolUse)) return data
  if (isRecord(data.toolResult) && Array.isArray(data.toolResult.content)) {
    return {
      toolResult: {
        ...data.toolResult,
        content: data.toolResult.content.map((item) => (isRecord(item) ? toPythonBlock(item) : item)),
      },
    }
  }
  if ('json' in data) return data
  return wrapBytes(data) as Record<string, unknown>
}

function wrapBytes(value: unknown, key?: string): unknown {
  if (typeof value === 'string' && key === 'bytes') return encodedBytes(value)
  if (Array.isArray(value)) return value.map((item) => wrapBytes(item))
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrapBytes(v, k)]))
  return value
}

function encodedBytes(base64: string) {
  return { __bytes_encoded__: true, data: base64 }
}

/** Python JSON -> TS Strands JSON, recursively (the inverse of {@link toPythonBlock}). */
function fromPythonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromPythonValue)
  if (!isRecord(value)) return value
  if (value.__bytes_encoded__ === true && typeof value.data === 'string') return value.data
  if (isRecord(value.reasoningContent)) {
    const reasoning = value.reasoningContent
    if (isRecord(reasoning.reasoningText)) return { reasoning: fromPythonValue(reasoning.reasoningText) }
    if (reasoning.redactedContent !== undefined)
      return { reasoning: { redactedContent: fromPythonValue(reasoning.redactedContent) } }
  }
  if (
    isRecord(value.cachePoint) &&
    value.cachePoint.cacheType === undefined &&
    typeof value.cachePoint.type === 'string'
  ) {
    const { type, ...rest } = value.cachePoint
    return { cachePoint: { ...rest, cacheType: type } }
  }
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, fromPythonValue(entry)]))
}

function firstNonSpace(text: string): string | undefined {
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] as string
    if (char !== ' ' && char !== '\n' && char !== '\r' && char !== '\t') return char
  }
  return undefined
}

function isBlankText(block: ContentBlockData): boolean {
  const text = (block as { text?: unknown }).text
  return typeof text === 'string' && text.trim() === ''
}

export { isRecord }
