import { MEMORY_CONTROL_PLANE_MODEL } from '../api-model/api-model-rules.ts'
import type { OperationInput } from '../api-model/api-model.ts'
import { CONTROL_PLANE_LOCAL_RULES } from '../api-model/local-rules.ts'
import { modelApi } from '../api-model/model-route.ts'
import type { MemoryStore } from '../memory-store.ts'

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

/** The control plane's routes and request checks, from the model and the local rules. */
export const { route: controlPlaneRoute, validInput: validControlInput } = modelApi(
  MEMORY_CONTROL_PLANE_MODEL,
  CONTROL_PLANE_LOCAL_RULES,
)
