import { notFound } from '../errors.ts'
import type { JsonRoute } from '../router.ts'
import { type ControlApiDeps, controlPlaneRoute, validControlInput } from './control-plane-model.ts'
import { memoryToWire } from './memory-wire.ts'

/** GetMemory: one memory with its strategies. */
export function getMemoryRoute({ store }: ControlApiDeps): JsonRoute {
  return controlPlaneRoute('GetMemory', {
    writes: false,
    handle(request) {
      const { memoryId } = validControlInput('GetMemory', request)
      const memory = store.findMemory(memoryId)
      if (!memory) throw notFound(`Memory ${memoryId}`)
      return { memory: memoryToWire(memory) }
    },
  })
}
