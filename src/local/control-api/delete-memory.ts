import { idempotencyMismatch, notFound } from '../errors.ts'
import { hashRequest } from '../request-hash.ts'
import type { JsonRoute } from '../router.ts'
import { type ControlApiDeps, controlPlaneRoute, validControlInput } from './control-plane-model.ts'

/**
 * DeleteMemory: removes a memory with its events and records. With a client token (a query
 * parameter), a retry after a lost response gets the same answer instead of a 404.
 */
export function deleteMemoryRoute({ store, now }: ControlApiDeps): JsonRoute {
  return controlPlaneRoute('DeleteMemory', {
    writes: true,
    handle(request) {
      const { memoryId, clientToken } = validControlInput('DeleteMemory', request)
      const guarded = {
        scope: 'DeleteMemory',
        token: clientToken,
        requestHash: hashRequest({ memoryId }),
        nowMs: now(),
      }
      const outcome = store.idempotent(guarded, () => {
        if (!store.hasMemory(memoryId)) throw notFound(`Memory ${memoryId}`)
        store.deleteMemory(memoryId)
        // The answer is the request's own: nothing to keep.
        return { value: undefined, kept: {} }
      })
      if (outcome.kind === 'token-mismatch') throw idempotencyMismatch('DeleteMemory')
      return { memoryId, status: 'DELETING' }
    },
  })
}
