import { MEMORY_DATA_PLANE_MODEL } from '../api-model/api-model-rules.ts'
import type { OperationInput } from '../api-model/api-model.ts'
import { DATA_PLANE_LOCAL_RULES } from '../api-model/local-rules.ts'
import { modelApi } from '../api-model/model-route.ts'
import type { MemoryStore } from '../memory-store.ts'

/** What every Memory data-plane handler is built with. */
export interface MemoryApiDeps {
  readonly store: MemoryStore
  readonly now: () => number
}

type Model = typeof MEMORY_DATA_PLANE_MODEL
export type DataPlaneOperation = keyof Model['operations'] & string
export type DataPlaneInput<O extends DataPlaneOperation> = OperationInput<Model, O>

/** The data plane's routes and request checks, from the model and the local rules. */
export const { route: dataPlaneRoute, validInput } = modelApi(MEMORY_DATA_PLANE_MODEL, DATA_PLANE_LOCAL_RULES)
