/**
 * A session's events as a readable timeline, oldest first, saying who wrote each: the user, the
 * agent (its answers and tool calls), a tool's result within a turn, a background task's result
 * delivered by the MCP server, the runtime (the message that opens a continuation), or the agent's
 * state. Entries of a continuation turn (the agent acting on a finished task while the user was
 * away) say so, from their event's metadata. `longrun memory events` prints it; `longrun chat` and
 * the developer console show it.
 */
import type { Event } from '@aws-sdk/client-bedrock-agentcore'
import type { Message } from '@strands-agents/sdk'
import {
  CONTINUATION_METADATA_KEY,
  CONTINUATION_STOPPED,
  MAX_CONTINUATION_DEPTH,
  TASK_ID_METADATA_KEY,
} from '../contract/index.ts'
import { decodeMemoryEvent } from './event-codec.ts'

/** Who wrote a timeline entry. */
export type TimelineAuthor = 'user' | 'agent' | 'tool' | 'task result' | 'runtime' | 'state'

/**
 * The mark of an entry of a continuation turn: "while you were away". Read from its event's
 * metadata (`longrunContinuation`), never from its text.
 */
export interface ContinuationMark {
  /** Its place in a chain of continuations (1: woken by a task the user started); absent when stopped. */
  readonly depth?: number
  /** A limit stopped the agent acting on its own: the turn only tells the user the result. */
  readonly stopped: boolean
}

/** One line of the timeline. */
export interface TimelineEntry {
  readonly eventId: string
  readonly time: Date
  readonly author: TimelineAuthor
  readonly text: string
  /**
   * The task its event belongs to (metadata `longrunTaskId`): a delivered result's task, or the
   * task whose end woke the continuation the entry is part of.
   */
  readonly taskId?: string
  /** Set on every entry of a continuation turn. */
  readonly continuation?: ContinuationMark
  /** The tools an agent's message calls, by name, in order (its text says `calls <name> <input>`). */
  readonly calls?: readonly string[]
}

/** The first line of a result the long-running MCP server writes into a session. */
export const DELIVERED_RESULT = /^Long-running task \S+ \(tool \S+\) (completed|failed|cancelled)\./

/** The timeline entries of one event: its state, then each message it holds. */
export function timelineOf(event: Event): TimelineEntry[] {
  const decoded = decodeMemoryEvent(event)
  const taskId = metadataText(event, TASK_ID_METADATA_KEY)
  const continuation = continuationMarkOf(event)
  const base = {
    eventId: event.eventId ?? '',
    time: event.eventTimestamp ?? new Date(0),
    ...(taskId !== undefined && { taskId }),
    ...(continuation !== undefined && { continuation }),
  }
  const entries: TimelineEntry[] = []
  if (decoded.state !== undefined) {
    const what =
      decoded.state.type === 'SESSION'
        ? 'session created'
        : `agent ${decoded.state.agentId ?? ''} state saved`
    entries.push({ ...base, author: 'state', text: what })
  }
  for (const message of decoded.messages) {
    const described = describeMessage(message)
    // A prompt in a continuation's event is the runtime's (the user was away); a result of a task
    // its event names (without a continuation mark) is the MCP server's delivery.
    let author = described.author
    if (author === 'user' && continuation !== undefined) author = 'runtime'
    else if (author === 'user' && taskId !== undefined) author = 'task result'
    entries.push({ ...base, ...described, author })
  }
  return entries
}

/**
 * The continuation mark of an event: none without `longrunContinuation`; `stopped`, or its depth
 * (a value that is neither is still a continuation's, of no known depth).
 */
export function continuationMarkOf(event: Pick<Event, 'metadata'>): ContinuationMark | undefined {
  const value = metadataText(event, CONTINUATION_METADATA_KEY)
  if (value === undefined) return undefined
  if (value === CONTINUATION_STOPPED) return { stopped: true }
  const depth = /^[1-9]\d{0,3}$/.test(value) ? Number(value) : undefined
  return depth !== undefined && depth <= MAX_CONTINUATION_DEPTH
    ? { depth, stopped: false }
    : { stopped: false }
}

function metadataText(event: Pick<Event, 'metadata'>, key: string): string | undefined {
  const value = event.metadata?.[key]?.stringValue
  return typeof value === 'string' && value !== '' ? value : undefined
}

function describeMessage(message: Message): {
  author: TimelineAuthor
  text: string
  calls?: readonly string[]
} {
  const parts: string[] = []
  const calls: string[] = []
  let author: TimelineAuthor = message.role === 'assistant' ? 'agent' : 'user'
  for (const block of message.content) {
    if (block.type === 'textBlock') {
      parts.push(block.text)
      if (message.role === 'user' && DELIVERED_RESULT.test(block.text)) author = 'task result'
    } else if (block.type === 'toolUseBlock') {
      calls.push(block.name)
      parts.push(`calls ${block.name} ${JSON.stringify(block.input)}`)
    } else if (block.type === 'toolResultBlock') {
      author = 'tool'
      const text = block.content
        .map((item) => ('text' in item ? String(item.text) : JSON.stringify(item)))
        .join(' ')
      parts.push(`${block.status === 'error' ? 'failed: ' : ''}${text}`)
    } else {
      parts.push(`[${block.type}]`)
    }
  }
  return { author, text: parts.join(' | '), ...(calls.length > 0 && { calls }) }
}
