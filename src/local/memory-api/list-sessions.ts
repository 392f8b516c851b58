import type { SortKey } from '../../shared/page-token.ts'
import { encodePageToken, pageOfRows } from '../../shared/page-token.ts'
import { keyPosition } from '../paging.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { memoryIdOf, requireMemory } from './memory-ref.ts'

/**
 * ListSessions: an actor's sessions, newest first. A session exists through its events, so every
 * session listed has events, which is what the model's one filter (`HAS_EVENTS`) asks for.
 */
export function listSessionsRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('ListSessions', {
    writes: false,
    handle(request) {
      let after: SortKey | undefined
      let scope = ''
      const input = validInput('ListSessions', request, (raw, check) => {
        scope = `sessions:${memoryIdOf(String(raw.memoryId))}:${String(raw.actorId)}`
        after = keyPosition(check, raw.nextToken, scope)
      })
      const memoryId = requireMemory(store, input.memoryId)
      const position = after && { createdAtMs: Number(after[0]), sessionId: String(after[1]) }
      const { page, next } = pageOfRows(
        store.listSessions(memoryId, input.actorId, position, input.maxResults + 1),
        input.maxResults,
        (row) => [row.createdAtMs, row.sessionId],
      )
      return {
        sessionSummaries: page.map((row) => ({
          sessionId: row.sessionId,
          actorId: row.actorId,
          createdAt: row.createdAtMs / 1000,
        })),
        ...(next ? { nextToken: encodePageToken(scope, next) } : {}),
      }
    },
  })
}
