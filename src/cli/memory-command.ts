/**
 * `longrun memory events`: a session's AgentCore Memory events as a readable timeline, oldest
 * first, saying who wrote each: the user, the agent (its answers and tool calls), a tool's result
 * within a turn, a background task's result delivered by the MCP server, or the agent's state.
 */
import { Command } from 'commander'
import { loadEnvironment } from '../config.ts'
import { listSessionEvents, type TimelineEntry, timelineOf } from '../memory/index.ts'
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

export function formatEntry(entry: TimelineEntry, full: boolean): string {
  const flat = entry.text.replace(/\s+/g, ' ').trim()
  const text = full || flat.length <= SHORT_TEXT ? flat : `${flat.slice(0, SHORT_TEXT - 3)}...`
  const time = entry.time
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
  return `${time}  ${entry.author.padEnd(11)}  ${text}`
}
