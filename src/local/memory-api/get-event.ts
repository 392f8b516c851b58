import { notFound } from '../errors.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { requireMemory } from './memory-ref.ts'
import { eventToWire } from './wire.ts'

/** GetEvent: one event of an actor's session, with its payload. */
export function getEventRoute({ store }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('GetEvent', {
    writes: false,
    handle(request) {
      const input = validInput('GetEvent', request)
      const memoryId = requireMemory(store, input.memoryId)
      const event = store.findEvent(memoryId, input.actorId, input.sessionId, input.eventId)
      if (!event) throw notFound(`Event ${input.eventId}`)
      return { event: eventToWire(event, true) }
    },
  })
}
