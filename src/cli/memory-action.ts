/**
 * What `longrun memory events` does: a session's AgentCore Memory events as a readable timeline,
 * oldest first, saying who wrote each: the user, the agent (its answers and tool calls), a tool's
 * result within a turn, a background task's result delivered by the MCP server, the runtime (the
 * message that opens a continuation), or the agent's state. Each entry of a continuation turn is
 * tagged `[while you were away]` (`[while you were away, stopped]` when a limit stopped the agent
 * acting on its own), as its event's metadata says.
 */
import { loadEnvironment } from '../config.ts'
import { listSessionEvents } from '../memory/session-events.ts'
import { type TimelineEntry, timelineOf } from '../memory/session-timeline.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/caller-identity.ts'
import { memorySessionIdFor } from '../runtime/session-ids.ts'
import { clientFor } from './agentcore-client.ts'
import { continuationTag } from './invocation-display.ts'
import { requireMemoryId, resolveTarget } from './cli-target.ts'
import type { EventsOptions } from './memory-command.ts'

const SHORT_TEXT = 160

export async function runMemoryEvents(options: EventsOptions): Promise<void> {
  const env = loadEnvironment()
  const target = await resolveTarget(env, options)
  const memoryId = requireMemoryId(target)
  const actorId = options.actor ?? DEFAULT_ACTOR_ID
  const sessionId = memorySessionIdFor(options.session)
  const client = clientFor(target)
  try {
    const events = await listSessionEvents(client, { memoryId, actorId, sessionId })
    if (options.json) {
      console.log(JSON.stringify(events, null, 2))
      return
    }
    const entries = events.flatMap(timelineOf)
    if (entries.length === 0) console.log(`no events in session ${sessionId} of actor ${actorId}`)
    for (const entry of entries) console.log(formatEntry(entry, options.full === true))
  } finally {
    client.destroy()
  }
}

export function formatEntry(entry: TimelineEntry, full: boolean): string {
  const flat = entry.text.replace(/\s+/g, ' ').trim()
  const text = full || flat.length <= SHORT_TEXT ? flat : `${flat.slice(0, SHORT_TEXT - 3)}...`
  const time = entry.time
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
  const tag = entry.continuation === undefined ? '' : `${continuationTag(entry.continuation)} `
  return `${time}  ${entry.author.padEnd(11)}  ${tag}${text}`
}
