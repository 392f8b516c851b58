import type { StoredMemory } from '../memory-store.ts'

/** The wire form of a memory; `namespaces` (legacy) and `namespaceTemplates` carry the same list. */
export function memoryToWire(memory: StoredMemory): Record<string, unknown> {
  return {
    arn: memory.arn,
    id: memory.id,
    name: memory.name,
    eventExpiryDuration: memory.eventExpiryDays,
    status: memory.status,
    createdAt: memory.createdAtMs / 1000,
    updatedAt: memory.updatedAtMs / 1000,
    ...(memory.description !== undefined ? { description: memory.description } : {}),
    strategies: memory.strategies.map((strategy) => ({
      strategyId: strategy.strategyId,
      name: strategy.name,
      type: strategy.type,
      namespaces: strategy.namespaces,
      namespaceTemplates: strategy.namespaces,
      status: 'ACTIVE',
      ...(strategy.description !== undefined ? { description: strategy.description } : {}),
    })),
  }
}
