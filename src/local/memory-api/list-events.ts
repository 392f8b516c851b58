import type { EventCursor, EventPredicate } from '../memory-store.ts'
import { eventPosition } from '../paging.ts'
import type { JsonRoute } from '../router.ts'
import { encodePageToken } from '../../shared/page-token.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { branchPredicate, metadataPredicate } from './event-filters.ts'
import { memoryIdOf, requireMemory } from './memory-ref.ts'
import { eventToWire } from './wire.ts'

/** ListEvents: a session's events, newest first, filtered by branch and metadata, page by page. */
export function listEventsRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('ListEvents', {
    writes: false,
    handle(request) {
      let cursor: EventCursor | undefined
      let scope = ''
      const input = validInput('ListEvents', request, (raw, check) => {
        scope = `events:${memoryIdOf(String(raw.memoryId))}:${String(raw.actorId)}:${String(raw.sessionId)}`
        cursor = eventPosition(check, raw.nextToken, scope)
      })
      const ids = {
        memoryId: requireMemory(store, input.memoryId),
        actorId: input.actorId,
        sessionId: input.sessionId,
      }
      const predicates: EventPredicate[] = []
      const { branch, eventMetadata } = input.filter ?? {}
      if (branch) predicates.push(branchPredicate(store, ids, branch))
      if (eventMetadata) predicates.push(metadataPredicate(eventMetadata))
      const predicate: EventPredicate | undefined =
        predicates.length === 0 ? undefined : (event) => predicates.every((test) => test(event))
      const page = store.listEvents(
        ids.memoryId,
        ids.actorId,
        ids.sessionId,
        cursor,
        input.maxResults,
        predicate,
        input.includePayloads,
      )
      return {
        events: page.events.map((event) => eventToWire(event, input.includePayloads)),
        ...(page.next ? { nextToken: encodePageToken(scope, page.next) } : {}),
      }
    },
  })
}
