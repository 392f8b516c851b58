/**
 * The AgentCore Memory data plane as REST-JSON routes: one handler per operation under
 * memory-api/, each checking its input against a schema built from AgentCore's published API model.
 */
import type { JsonRoute } from './router.ts'
import { batchCreateMemoryRecordsRoute } from './memory-api/batch-create-memory-records.ts'
import { createEventRoute } from './memory-api/create-event.ts'
import type { MemoryApiDeps } from './memory-api/data-plane-model.ts'
import { deleteEventRoute } from './memory-api/delete-event.ts'
import { deleteMemoryRecordRoute } from './memory-api/delete-memory-record.ts'
import { getEventRoute } from './memory-api/get-event.ts'
import { getMemoryRecordRoute } from './memory-api/get-memory-record.ts'
import { listActorsRoute } from './memory-api/list-actors.ts'
import { listEventsRoute } from './memory-api/list-events.ts'
import { listMemoryRecordsRoute } from './memory-api/list-memory-records.ts'
import { listSessionsRoute } from './memory-api/list-sessions.ts'
import { retrieveMemoryRecordsRoute } from './memory-api/retrieve-memory-records.ts'

/** Every Memory data-plane operation the local service serves, for the router to register. */
export function memoryDataPlaneRoutes(deps: MemoryApiDeps): JsonRoute[] {
  return [
    createEventRoute(deps),
    getEventRoute(deps),
    deleteEventRoute(deps),
    listEventsRoute(deps),
    listSessionsRoute(deps),
    listActorsRoute(deps),
    retrieveMemoryRecordsRoute(deps),
    listMemoryRecordsRoute(deps),
    batchCreateMemoryRecordsRoute(deps),
    getMemoryRecordRoute(deps),
    deleteMemoryRecordRoute(deps),
  ]
}
