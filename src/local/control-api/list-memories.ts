import { encodePageToken, pageOfRows, type SortKey } from '../../shared/page-token.ts'
import { keyPosition } from '../paging.ts'
import type { JsonRoute } from '../router.ts'
import { type ControlApiDeps, controlPlaneRoute, validControlInput } from './control-plane-model.ts'

const SCOPE = 'memories'

/** ListMemories: every memory, oldest first, page by page. */
export function listMemoriesRoute({ store }: ControlApiDeps): JsonRoute {
  return controlPlaneRoute('ListMemories', {
    writes: false,
    handle(request) {
      let after: SortKey | undefined
      const { maxResults } = validControlInput('ListMemories', request, (raw, check) => {
        after = keyPosition(check, raw.nextToken, SCOPE)
      })
      const position = after && { createdAtMs: Number(after[0]), id: String(after[1]) }
      const { page, next } = pageOfRows(
        store.listMemories(position, maxResults + 1),
        maxResults,
        (memory) => [memory.createdAtMs, memory.id],
      )
      return {
        memories: page.map((memory) => ({
          arn: memory.arn,
          id: memory.id,
          status: memory.status,
          createdAt: memory.createdAtMs / 1000,
          updatedAt: memory.updatedAtMs / 1000,
        })),
        ...(next ? { nextToken: encodePageToken(SCOPE, next) } : {}),
      }
    },
  })
}
