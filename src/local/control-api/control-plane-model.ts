import { MEMORY_CONTROL_PLANE_MODEL } from '../api-model/api-model-rules.ts'
import type { OperationInput } from '../api-model/api-model.ts'
import { CONTROL_PLANE_LOCAL_RULES } from '../api-model/local-rules.ts'
import { modelRoute, operationInput, type ModelRouteHandler } from '../api-model/model-route.ts'
import { ModelSchemas } from '../api-model/model-schema.ts'
import { RequestCheck } from '../api-model/request-check.ts'
import type { MemoryStore } from '../memory-store.ts'
import type { JsonRoute, OperationRequest } from '../router.ts'

/** What every Memory control-plane handler is built with. */
export interface ControlApiDeps {
  readonly store: MemoryStore
  readonly now: () => number
  readonly region: string
  readonly accountId: string
}

type Model = typeof MEMORY_CONTROL_PLANE_MODEL
export type ControlPlaneOperation = keyof Model['operations'] & string
export type ControlPlaneInput<O extends ControlPlaneOperation> = OperationInput<Model, O>

/** The control plane's schemas: the model's rules and the local ones, built once for all handlers. */
const SCHEMAS = new ModelSchemas({ model: MEMORY_CONTROL_PLANE_MODEL, local: CONTROL_PLANE_LOCAL_RULES })

/** A control-plane operation's route, bound as the model binds it. */
export function controlPlaneRoute(operation: ControlPlaneOperation, handler: ModelRouteHandler): JsonRoute {
  // Built now, so a rule the builder cannot express fails at start-up, not on a request.
  SCHEMAS.input(operation)
  return modelRoute(MEMORY_CONTROL_PLANE_MODEL, operation, handler)
}

/** A request's input, checked against its operation's schema; `more` adds the handler's own checks. */
export function validControlInput<O extends ControlPlaneOperation>(
  operation: O,
  request: OperationRequest,
  more?: (raw: Readonly<Record<string, unknown>>, check: RequestCheck) => void,
): ControlPlaneInput<O> {
  const check = new RequestCheck()
  const raw = operationInput(MEMORY_CONTROL_PLANE_MODEL, operation, request)
  const input = check.parse(SCHEMAS.input(operation), raw)
  more?.(raw, check)
  return check.valid(input)
}
