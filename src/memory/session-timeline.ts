/**
 * A session's events as a readable timeline, oldest first, saying who wrote each: the user, the
 * agent (its answers and tool calls), a tool's result within a turn, a background task's result
 * delivered by the MCP server, or the agent's state. `longrun memory events` prints it; the
 * developer console shows it.
 */
import type { Event } from '@aws-sdk/client-bedrock-agentcore'
import type { Message } from '@strands-agents/sdk'
import { decodeMemoryEvent } from './event-codec.ts'

/** Who wrote a timeline entry. */
export type TimelineAuthor = 'user' | 'agent' | 'tool' | 'task result' | 'state'

/** One line of the timeline. */
export interface TimelineEntry {
  readonly eventId: string
  readonly time: Date
  readonly author: TimelineAuthor
  readonly text: string
}

/** The first line of a result the long-running MCP server writes into a session. */
export const DELIVERED_RESULT = /^Long-running task \S+ \(tool \S+\) (completed|failed|cancelled)\./
/** The timeline entries of one event: its state, then each message it holds. */
export function timelineOf(event: Event): TimelineEntry[] {
  const decoded = decodeMemoryEvent(event)
  const base = { eventId: event.eventId ?? '', time: event.eventTimestamp ?? new Date(0) }
  const entries: TimelineEntry[] = []
  if (decoded.state !== undefined) {
    const what =
      decoded.state.type === 'SESSION'
        ? 'session created'
        : `agent ${decoded.state.agentId ?? ''} state saved`
    entries.push({ ...base, author: 'state', text: what })
  }
  for (const message of decoded.messages) entries.push({ ...base, ...describeMessage(message) })
  return entries
}

function describeMessage(message: Message): { author: TimelineAuthor; text: string } {
  const parts: string[] = []
  let author: TimelineAuthor = message.role === 'assistant' ? 'agent' : 'user'
  for (const block of message.content) {
    if (block.type === 'textBlock') {
      parts.push(block.text)
      if (message.role === 'user' && DELIVERED_RESULT.test(block.text)) author = 'task result'
    } else if (block.type === 'toolUseBlock') {
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
  return { author, text: parts.join(' | ') }
}
