import type { RequestCheck } from '../api-model/request-check.ts'
import type { StoredRecord } from '../memory-store.ts'

/** Which records a request selects: `namespace` is exact; `namespacePath` is a subtree (AgentCore's rules). */
export interface RecordSelector {
  readonly namespace?: string | undefined
  readonly namespacePath?: string | undefined
  readonly memoryStrategyId?: string | undefined
}

export function recordMatches(record: StoredRecord, selector: RecordSelector): boolean {
  const { namespace, namespacePath, memoryStrategyId } = selector
  if (memoryStrategyId !== undefined && record.memoryStrategyId !== memoryStrategyId) return false
  if (namespace !== undefined && !record.namespaces.includes(namespace)) return false
  if (namespacePath !== undefined) {
    const subtree = namespacePath.endsWith('/') ? namespacePath : `${namespacePath}/`
    return record.namespaces.some((candidate) => candidate === namespacePath || candidate.startsWith(subtree))
  }
  return true
}

/**
 * The selector rules both record listings share, beyond the model's. The model marks neither
 * namespace member required, but its documentation of both says "Either namespace or namespacePath
 * is required". Record metadata filters, valid by the model, are refused by name rather than
 * ignored: an ignored filter would return records the caller meant to exclude.
 */
export function checkRecordSelector(
  check: RequestCheck,
  selector: { readonly namespace?: unknown; readonly namespacePath?: unknown },
  metadataFilters: { readonly field: string; readonly value: unknown },
): void {
  if (selector.namespace == null && selector.namespacePath == null)
    check.fail('namespace', 'namespace or namespacePath is required')
  if (metadataFilters.value != null)
    check.fail(metadataFilters.field, 'is not supported by the local AgentCore service')
}
