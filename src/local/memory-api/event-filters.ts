import type { EventPredicate, MemoryStore, StoredEvent } from '../memory-store.ts'

/** A ListEvents branch filter, validated. */
export interface BranchFilter {
  readonly name: string
  readonly includeParentBranches: boolean
}

/** A ListEvents metadata filter, validated: EQUALS_TO carries its value. */
export interface MetadataFilter {
  readonly left: { readonly metadataKey?: string | undefined }
  readonly operator: 'EQUALS_TO' | 'EXISTS' | 'NOT_EXISTS'
  readonly right?: { readonly metadataValue?: { readonly stringValue?: string | undefined } | undefined }
}

/** An event passes when it passes every filter. */
export function metadataPredicate(filters: readonly MetadataFilter[]): EventPredicate {
  const tests = filters.map((filter): EventPredicate => {
    const key = filter.left.metadataKey as string
    if (filter.operator === 'EXISTS') return (event) => hasMetadata(event, key)
    if (filter.operator === 'NOT_EXISTS') return (event) => !hasMetadata(event, key)
    const expected = filter.right?.metadataValue?.stringValue
    return (event) => hasMetadata(event, key) && event.metadata?.[key]?.stringValue === expected
  })
  return (event) => tests.every((test) => test(event))
}

/** Own keys only: a metadata key named like an Object.prototype member must not match by accident. */
function hasMetadata(event: StoredEvent, key: string): boolean {
  return event.metadata !== undefined && Object.hasOwn(event.metadata, key)
}

/**
 * Branch membership. Events written without a branch belong to `main`. With parent branches, a
 * branch also sees its parent's events up to the event it forked from, recursively.
 */
export function branchPredicate(
  store: MemoryStore,
  ids: { memoryId: string; actorId: string; sessionId: string },
  filter: BranchFilter,
): EventPredicate {
  const onBranch = (event: StoredEvent, name: string) => (event.branch?.name ?? 'main') === name
  if (!filter.includeParentBranches) return (event) => onBranch(event, filter.name)
  const lineage: { name: string; untilTimestamp: number }[] = []
  let name = filter.name
  let untilTimestamp = Number.POSITIVE_INFINITY
  const seen = new Set<string>()
  while (!seen.has(name)) {
    seen.add(name)
    lineage.push({ name, untilTimestamp })
    if (name === 'main') break
    const first = store.firstEventOfBranch(ids.memoryId, ids.actorId, ids.sessionId, name)
    const rootId = first?.branch?.rootEventId
    if (!rootId) break
    const root = store.findEvent(ids.memoryId, ids.actorId, ids.sessionId, rootId)
    if (!root) break
    name = root.branch?.name ?? 'main'
    untilTimestamp = root.eventTimestamp
  }
  return (event) =>
    lineage.some((entry) => onBranch(event, entry.name) && event.eventTimestamp <= entry.untilTimestamp)
}
