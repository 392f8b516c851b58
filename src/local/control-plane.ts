/**
 * The AgentCore control-plane operations for memories as REST-JSON routes: one handler per
 * operation under control-api/, each checking its input against a schema built from AgentCore's
 * published API model.
 */
import type { JsonRoute } from './router.ts'
import type { ControlApiDeps } from './control-api/control-plane-model.ts'
import { createMemoryRoute } from './control-api/create-memory.ts'
import { deleteMemoryRoute } from './control-api/delete-memory.ts'
import { getMemoryRoute } from './control-api/get-memory.ts'
import { listMemoriesRoute } from './control-api/list-memories.ts'

/** Every Memory control-plane operation the local service serves, for the router to register. */
export function controlPlaneRoutes(deps: ControlApiDeps): JsonRoute[] {
  return [createMemoryRoute(deps), getMemoryRoute(deps), listMemoriesRoute(deps), deleteMemoryRoute(deps)]
}
