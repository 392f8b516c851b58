import { notFound } from '../errors.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { requireMemory } from './memory-ref.ts'

/** DeleteMemoryRecord: removes one long-term record; one already gone is ResourceNotFound. */
export function deleteMemoryRecordRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('DeleteMemoryRecord', {
    writes: true,
    handle(request) {
      const input = validInput('DeleteMemoryRecord', request)
      if (!store.deleteRecord(requireMemory(store, input.memoryId), input.memoryRecordId))
        throw notFound(`Memory record ${input.memoryRecordId}`)
      return { memoryRecordId: input.memoryRecordId }
    },
  })
}
