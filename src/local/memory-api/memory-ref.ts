import { notFound } from '../errors.ts'
import type { MemoryStore } from '../memory-store.ts'

/**
 * The memory id a valid `memoryId` names. The data plane takes a memory's id or its ARN
 * (`arn:aws:bedrock-agentcore:<region>:<account>:memory/<id>`); an id has no `/`, so the id is what
 * follows the last one.
 */
export function memoryIdOf(memoryId: string): string {
  return memoryId.slice(memoryId.lastIndexOf('/') + 1)
}

/** The id of the stored memory `memoryId` names (an ARN must be the memory's own), or ResourceNotFound. */
export function requireMemory(store: MemoryStore, memoryId: string): string {
  const id = memoryIdOf(memoryId)
  const found = id === memoryId ? store.hasMemory(id) : store.findMemory(id)?.arn === memoryId
  if (!found) throw notFound(`Memory ${memoryId}`)
  return id
}
