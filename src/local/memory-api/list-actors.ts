import { encodePageToken, pageOfRows, type SortKey } from '../../shared/page-token.ts'
import { keyPosition } from '../paging.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { memoryIdOf, requireMemory } from './memory-ref.ts'

/** ListActors: the actors with events in a memory, in id order. */
export function listActorsRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('ListActors', {
    writes: false,
    handle(request) {
      let after: SortKey | undefined
      let scope = ''
      const input = validInput('ListActors', request, (raw, check) => {
        scope = `actors:${memoryIdOf(String(raw.memoryId))}`
        after = keyPosition(check, raw.nextToken, scope)
      })
      const memoryId = requireMemory(store, input.memoryId)
      const { page, next } = pageOfRows(
        store.listActors(memoryId, after && String(after[0]), input.maxResults + 1),
        input.maxResults,
        (actorId) => [actorId],
      )
      return {
        actorSummaries: page.map((actorId) => ({ actorId })),
        ...(next ? { nextToken: encodePageToken(scope, next) } : {}),
      }
    },
  })
}
