/**
 * Every event of one actor's session, oldest first: the whole listing, page after page, for the
 * programs that show or check a session (the CLI's timeline, tests) rather than restore it.
 */
import {
  type Event,
  ListEventsCommand,
  type ListEventsCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore'
import type { MemoryDataClient } from './event-writer.ts'
import { MEMORY_LIMITS } from '../contract/index.ts'

/** Lists the session newest first, as the service answers, and returns it oldest first. */
export async function listSessionEvents(
  client: MemoryDataClient,
  session: { readonly memoryId: string; readonly actorId: string; readonly sessionId: string },
): Promise<Event[]> {
  const events: Event[] = []
  let nextToken: string | undefined
  do {
    const page = (await client.send(
      new ListEventsCommand({
        ...session,
        includePayloads: true,
        maxResults: MEMORY_LIMITS.maxResults,
        ...(nextToken ? { nextToken } : {}),
      }),
    )) as ListEventsCommandOutput
    events.push(...(page.events ?? []))
    nextToken = page.nextToken
  } while (nextToken)
  return events.reverse()
}
