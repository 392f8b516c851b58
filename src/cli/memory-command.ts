/**
 * `longrun memory events`: a session's AgentCore Memory events as a readable timeline, oldest
 * first, saying who wrote each: the user, the agent (its answers and tool calls), a tool's result
 * within a turn, a background task's result delivered by the MCP server, or the agent's state.
 */
import type { Event } from '@aws-sdk/client-bedrock-agentcore'
import type { Message } from '@strands-agents/sdk'
import { Command } from 'commander'
import { loadEnvironment } from '../config.ts'
import { decodeMemoryEvent, listSessionEvents } from '../memory/index.ts'
import { DEFAULT_ACTOR_ID, memorySessionIdFor } from '../runtime/index.ts'
import { clientFor, requireMemoryId, resolveTarget } from './cli-target.ts'

interface EventsOptions {
  session: string
  actor: string
  memory?: string
  endpoint?: string
  region?: string
  full?: boolean
  json?: boolean
}

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
const DELIVERED_RESULT = /^Long-running task \S+ \(tool \S+\) (completed|failed|cancelled)\./
const SHORT_TEXT = 160

export function memoryCommand(): Command {
  const memory = new Command('memory').description('read AgentCore Memory')
  memory
    .command('events')
    .description(
      "print a session's events as a timeline (who wrote each: user, agent, tool, task result, state)",
    )
    .requiredOption('--session <id>', 'session id (a runtime session id is mapped as the runtime maps it)')
    .option('--actor <id>', 'actor id', DEFAULT_ACTOR_ID)
    .option('--memory <id>', "memory id (default MEMORY_ID, else the local stack's)")
    .option(
      '--endpoint <url>',
      'AgentCore endpoint (default AGENTCORE_ENDPOINT, else the local stack, else AWS)',
    )
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option('--full', 'print whole texts instead of their first 160 characters')
    .option('--json', 'print the raw events as JSON')
    .action(async (options: EventsOptions) => {
      const env = loadEnvironment()
      const target = resolveTarget(env, options)
      const memoryId = requireMemoryId(target)
      const sessionId = memorySessionIdFor(options.session)
      const client = clientFor(target)
      try {
        const events = await listSessionEvents(client, { memoryId, actorId: options.actor, sessionId })
        if (options.json) {
          console.log(JSON.stringify(events, null, 2))
          return
        }
        const entries = events.flatMap(timelineOf)
        if (entries.length === 0) console.log(`no events in session ${sessionId} of actor ${options.actor}`)
        for (const entry of entries) console.log(formatEntry(entry, options.full === true))
      } finally {
        client.destroy()
      }
    })
  return memory
}

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

export function formatEntry(entry: TimelineEntry, full: boolean): string {
  const flat = entry.text.replace(/\s+/g, ' ').trim()
  const text = full || flat.length <= SHORT_TEXT ? flat : `${flat.slice(0, SHORT_TEXT - 3)}...`
  const time = entry.time
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
  return `${time}  ${entry.author.padEnd(11)}  ${text}`
}
