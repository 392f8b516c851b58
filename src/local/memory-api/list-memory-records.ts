import { encodePageToken, pageAfter, type SortKey } from '../../shared/page-token.ts'
import { keyPosition } from '../paging.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { memoryIdOf, requireMemory } from './memory-ref.ts'
import { checkRecordSelector, recordMatches } from './record-selection.ts'
import { recordToWire } from './wire.ts'

/** ListMemoryRecords: the records of a namespace (or a subtree, or a strategy's), newest first. */
export function listMemoryRecordsRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('ListMemoryRecords', {
    writes: false,
    handle(request) {
      let after: SortKey | undefined
      let scope = ''
      const input = validInput('ListMemoryRecords', request, (raw, check) => {
        checkRecordSelector(check, raw, { field: 'metadataFilters', value: raw.metadataFilters })
        scope = `records:${memoryIdOf(String(raw.memoryId))}`
        after = keyPosition(check, raw.nextToken, scope)
      })
      const memoryId = requireMemory(store, input.memoryId)
      const matching = store.listRecords(memoryId).filter((record) => recordMatches(record, input))
      const { page, next } = pageAfter(
        matching,
        (record) => [-record.createdAtMs, record.memoryRecordId],
        after,
        input.maxResults,
      )
      return {
        memoryRecordSummaries: page.map((record) => recordToWire(record)),
        ...(next ? { nextToken: encodePageToken(scope, next) } : {}),
      }
    },
  })
}
