import { isRecord } from '../../shared/is-record.ts'
import { encodePageToken } from '../../shared/page-token.ts'
import { offsetPosition } from '../paging.ts'
import { scoreDocuments } from '../relevance.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { memoryIdOf, requireMemory } from './memory-ref.ts'
import { checkRecordSelector, recordMatches } from './record-selection.ts'
import { recordToWire } from './wire.ts'

/**
 * RetrieveMemoryRecords: the records of a namespace most relevant to a query (TF-IDF cosine, a
 * score in [0, 1]), best first, at most `topK`, paged by offset: the ranking is recomputed per call.
 */
export function retrieveMemoryRecordsRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('RetrieveMemoryRecords', {
    writes: false,
    handle(request) {
      let offset = 0
      let scope = ''
      const input = validInput('RetrieveMemoryRecords', request, (raw, check) => {
        const criteria = isRecord(raw.searchCriteria) ? raw.searchCriteria : {}
        checkRecordSelector(check, raw, {
          field: 'searchCriteria.metadataFilters',
          value: criteria.metadataFilters,
        })
        scope = `retrieve:${memoryIdOf(String(raw.memoryId))}`
        offset = offsetPosition(check, raw.nextToken, scope)
      })
      const memoryId = requireMemory(store, input.memoryId)
      const { searchQuery, topK, memoryStrategyId } = input.searchCriteria
      const selector = { namespace: input.namespace, namespacePath: input.namespacePath, memoryStrategyId }
      const candidates = store.listRecords(memoryId).filter((record) => recordMatches(record, selector))
      const scores = scoreDocuments(
        searchQuery,
        candidates.map((record) => record.text),
      )
      const ranked = candidates
        .map((record, index) => ({ record, score: scores[index] ?? 0 }))
        .filter((entry) => entry.score > 0)
        .sort((a, b) => b.score - a.score || b.record.createdAtMs - a.record.createdAtMs)
        .slice(0, topK)
      const end = offset + input.maxResults
      return {
        memoryRecordSummaries: ranked
          .slice(offset, end)
          .map((entry) => recordToWire(entry.record, entry.score)),
        ...(ranked.length > end ? { nextToken: encodePageToken(scope, end) } : {}),
      }
    },
  })
}
