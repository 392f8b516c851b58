/**
 * What a session's memory holds of one task, read before a wake is acted on: the task's result
 * (written by the MCP server) and the continuation it caused, if one ran. Both carry the task's id
 * as event metadata, so one filtered ListEvents call answers (a continuation is a few events).
 */
import {
  type Event,
  ListEventsCommand,
  type ListEventsCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore'
import {
  CONTINUATION_METADATA_KEY,
  DEFAULT_RETRY_POLICY,
  MEMORY_LIMITS,
  type RetryPolicy,
  TASK_ID_METADATA_KEY,
  withRetry,
} from '../contract/index.ts'
import { decodeMemoryEvent, type MemoryDataClient } from '../memory/index.ts'
import { RuntimeError } from './errors.ts'

/** What memory holds of a task in one session. */
export interface TaskEvents {
  /** Its result is in the session (the MCP server delivered it). */
  readonly resultStored: boolean
  /** A continuation for it began (some of its events are stored). */
  readonly continuationStarted: boolean
  /** The continuation's last answer, when it ended with one: the continuation ran to its end. */
  readonly continuationAnswer: string | undefined
}

/** More pages than a continuation's events fill are not read (a bound, not a limit in practice). */
const MAX_PAGES = 10

/**
 * Reads the task's events of one actor's session. Each page is retried as the session manager
 * retries its reads (the runtime's client does not retry on its own); a read that still fails is
 * MEMORY_NOT_FOUND (no such memory) or MEMORY_UNAVAILABLE, and the MCP server wakes again later.
 */
export async function readTaskEvents(
  client: MemoryDataClient,
  session: { readonly memoryId: string; readonly actorId: string; readonly sessionId: string },
  taskId: string,
  retry: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<TaskEvents> {
  try {
    return summarize(await listTaskEvents(client, session, taskId, retry))
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name
    if (name === 'ResourceNotFoundException')
      throw new RuntimeError('MEMORY_NOT_FOUND', 'the memory does not exist (check memory_id or MEMORY_ID)', {
        cause: error,
      })
    throw new RuntimeError(
      'MEMORY_UNAVAILABLE',
      `AgentCore Memory could not be read (${typeof name === 'string' ? name : 'error'})`,
      { cause: error },
    )
  }
}

async function listTaskEvents(
  client: MemoryDataClient,
  session: { readonly memoryId: string; readonly actorId: string; readonly sessionId: string },
  taskId: string,
  retry: RetryPolicy,
): Promise<Event[]> {
  const events: Event[] = []
  let nextToken: string | undefined
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const command = new ListEventsCommand({
      ...session,
      includePayloads: true,
      maxResults: MEMORY_LIMITS.maxResults,
      filter: {
        eventMetadata: [
          {
            left: { metadataKey: TASK_ID_METADATA_KEY },
            operator: 'EQUALS_TO',
            right: { metadataValue: { stringValue: taskId } },
          },
        ],
      },
      ...(nextToken !== undefined && { nextToken }),
    })
    const answer = (await withRetry(retry, () => client.send(command))) as ListEventsCommandOutput
    events.push(...(answer.events ?? []))
    nextToken = answer.nextToken
    if (nextToken === undefined) break
  }
  return events
}

/** What the events say: a result stored, a continuation begun, and its answer if it ended. */
function summarize(events: readonly Event[]): TaskEvents {
  let resultStored = false
  let continuationStarted = false
  let continuationAnswer: string | undefined
  let answeredAt = -Infinity
  for (const event of events) {
    if (event.metadata?.[CONTINUATION_METADATA_KEY] === undefined) {
      resultStored = true
      continue
    }
    continuationStarted = true
    const at = event.eventTimestamp?.getTime() ?? 0
    for (const message of decodeMemoryEvent(event).messages) {
      if (message.role !== 'assistant' || message.content.some((block) => block.type === 'toolUseBlock'))
        continue
      const text = message.content
        .flatMap((block) => (block.type === 'textBlock' ? [block.text] : []))
        .join('\n')
      if (text !== '' && at >= answeredAt) {
        continuationAnswer = text
        answeredAt = at
      }
    }
  }
  return { resultStored, continuationStarted, continuationAnswer }
}
