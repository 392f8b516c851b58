import { notFound } from '../errors.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { requireMemory } from './memory-ref.ts'

/** DeleteEvent: removes one event; an event already gone is ResourceNotFound. */
export function deleteEventRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('DeleteEvent', {
    writes: true,
    handle(request) {
      const input = validInput('DeleteEvent', request)
      const memoryId = requireMemory(store, input.memoryId)
      if (!store.deleteEvent(memoryId, input.actorId, input.sessionId, input.eventId))
        throw notFound(`Event ${input.eventId}`)
      return { eventId: input.eventId }
    },
  })
}
