/**
 * An actor's sessions in memory, and the one the console opens by default.
 *
 * The rule: the session that changed last, that is the one whose newest event is the newest
 * (ListSessions says which sessions exist; ListEvents answers newest first, so one event of each
 * says when it last changed). That is the session the CLI just used, or the one where a task's
 * result just landed, or the console's own last conversation. The session the CLI remembers for
 * this runtime (`longrun invoke` / `longrun chat`) counts when it is this actor's: it wins a tie,
 * it is opened when memory holds no session yet, and whenever its memory session is the pick, its
 * runtime session id is what the console opens (a runtime session id that is not a valid memory
 * session id is stored under a derived one, which cannot be turned back).
 */
import {
  ListEventsCommand,
  type ListEventsCommandOutput,
  ListSessionsCommand,
  type ListSessionsCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore'
import type { MemoryDataClient } from '../memory/index.ts'
import { DEFAULT_ACTOR_ID, memorySessionIdFor } from '../runtime/index.ts'

/** The session the CLI last used with the console's runtime; no actor means the runtime's default. */
export interface CliSession {
  readonly sessionId: string
  readonly actorId?: string | undefined
}

/** The session to open, and why it was picked. */
export interface DefaultSession {
  readonly sessionId: string
  /** `newest-event`: the actor's session that changed last; `cli`: the session the CLI used last. */
  readonly reason: 'newest-event' | 'cli'
}

/** Defaults of the default-session rule. */
export const ACTOR_SESSION_DEFAULTS = {
  /** Sessions looked at, the most recently created first: bounds the ListEvents calls of one pick. */
  maxSessionsScanned: 100,
  /** ListEvents calls under way at once while picking. */
  concurrency: 8,
} as const

/** The actor's sessions in memory, the most recently created first. */
export async function listActorSessions(
  client: MemoryDataClient,
  memoryId: string,
  actorId: string,
): Promise<string[]> {
  const sessions: { id: string; at: number }[] = []
  let nextToken: string | undefined
  do {
    const page = (await client.send(
      new ListSessionsCommand({
        memoryId,
        actorId,
        maxResults: 100,
        ...(nextToken !== undefined && { nextToken }),
      }),
    )) as ListSessionsCommandOutput
    for (const session of page.sessionSummaries ?? [])
      if (session.sessionId !== undefined)
        sessions.push({ id: session.sessionId, at: session.createdAt?.getTime() ?? 0 })
    nextToken = page.nextToken
  } while (nextToken !== undefined)
  return sessions.sort((a, b) => b.at - a.at).map((session) => session.id)
}

/** The session the console opens for `actorId` (see the rule above); undefined: start a new one. */
export async function pickDefaultSession(
  client: MemoryDataClient,
  memoryId: string,
  actorId: string,
  cliSession: CliSession | undefined,
): Promise<DefaultSession | undefined> {
  const cli = (cliSession?.actorId ?? DEFAULT_ACTOR_ID) === actorId ? cliSession?.sessionId : undefined
  const cliMemorySession = cli === undefined ? undefined : memorySessionIdFor(cli)
  const sessions = await listActorSessions(client, memoryId, actorId)
  const scanned = sessions.slice(0, ACTOR_SESSION_DEFAULTS.maxSessionsScanned)
  if (
    cliMemorySession !== undefined &&
    !scanned.includes(cliMemorySession) &&
    sessions.includes(cliMemorySession)
  )
    scanned.push(cliMemorySession)
  let best: { id: string; at: number } | undefined
  for (let start = 0; start < scanned.length; start += ACTOR_SESSION_DEFAULTS.concurrency) {
    const batch = scanned.slice(start, start + ACTOR_SESSION_DEFAULTS.concurrency)
    const changed = await Promise.all(
      batch.map(async (id) => ({ id, at: await newestEventMs(client, memoryId, actorId, id) })),
    )
    for (const session of changed)
      if (
        best === undefined ||
        session.at > best.at ||
        (session.at === best.at && session.id === cliMemorySession)
      )
        best = session
  }
  if (cli !== undefined && (best === undefined || best.id === cliMemorySession))
    return { sessionId: cli, reason: 'cli' }
  return best === undefined ? undefined : { sessionId: best.id, reason: 'newest-event' }
}

/** When the session last changed: its newest event's time (none: never). */
async function newestEventMs(
  client: MemoryDataClient,
  memoryId: string,
  actorId: string,
  sessionId: string,
): Promise<number> {
  const page = (await client.send(
    new ListEventsCommand({ memoryId, actorId, sessionId, maxResults: 1, includePayloads: false }),
  )) as ListEventsCommandOutput
  return page.events?.[0]?.eventTimestamp?.getTime() ?? Number.NEGATIVE_INFINITY
}
