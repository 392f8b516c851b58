import { MEMORY_DATA_PLANE_MODEL } from '../api-model/api-model-rules.ts'
import type { OperationInput } from '../api-model/api-model.ts'
import { DATA_PLANE_LOCAL_RULES } from '../api-model/local-rules.ts'
import { modelRoute, operationInput, type ModelRouteHandler } from '../api-model/model-route.ts'
import { ModelSchemas } from '../api-model/model-schema.ts'
import type { MemoryStore } from '../memory-store.ts'
import type { JsonRoute, OperationRequest } from '../router.ts'
import { RequestCheck } from '../api-model/request-check.ts'

/** What every Memory data-plane handler is built with. */
export interface MemoryApiDeps {
  readonly store: MemoryStore
  readonly now: () => number
}

type Model = typeof MEMORY_DATA_PLANE_MODEL
export type DataPlaneOperation = keyof Model['operations'] & string
export type DataPlaneInput<O extends DataPlaneOperation> = OperationInput<Model, O>

/** The data plane's schemas: the model's rules and the local ones, built once for all handlers. */
const SCHEMAS = new ModelSchemas({ model: MEMORY_DATA_PLANE_MODEL, local: DATA_PLANE_LOCAL_RULES })

/** A data-plane operation's route, bound as the model binds it. */
export function dataPlaneRoute(operation: DataPlaneOperation, handler: ModelRouteHandler): JsonRoute {
  // Built now, so a rule the builder cannot express fails at start-up, not on a request.
  SCHEMAS.input(operation)
  return modelRoute(MEMORY_DATA_PLANE_MODEL, operation, handler)
}

/**
 * A request's input, checked against its operation's schema. `more` adds the handler's own checks
 * on the raw input (which a bad field may leave of any type), so one ValidationException names
 * every bad field.
 */
export function validInput<O extends DataPlaneOperation>(
  operation: O,
  request: OperationRequest,
  more?: (raw: Readonly<Record<string, unknown>>, check: RequestCheck) => void,
): DataPlaneInput<O> {
  const check = new RequestCheck()
  const raw = operationInput(MEMORY_DATA_PLANE_MODEL, operation, request)
  const input = check.parse(SCHEMAS.input(operation), raw)
  more?.(raw, check)
  return check.valid(input)
}
