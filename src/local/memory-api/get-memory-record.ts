import { notFound } from '../errors.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { requireMemory } from './memory-ref.ts'
import { recordToWire } from './wire.ts'

/** GetMemoryRecord: one long-term record by id. */
export function getMemoryRecordRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('GetMemoryRecord', {
    writes: false,
    handle(request) {
      const input = validInput('GetMemoryRecord', request)
      const record = store.findRecord(requireMemory(store, input.memoryId), input.memoryRecordId)
      if (!record) throw notFound(`Memory record ${input.memoryRecordId}`)
      return { memoryRecord: recordToWire(record) }
    },
  })
}
