import type { FieldChecker } from './field-checker.ts'
import { MEMORY_LIMITS } from './limits.ts'
import { decodePageToken, isSortKey } from '../shared/page-token.ts'

/** maxResults and a key-based nextToken, for listings that page with {@link pageAfter}. */
export function keyPaging(checker: FieldChecker, body: Record<string, unknown>, scope: string) {
  const limit =
    checker.integer('maxResults', body.maxResults, { min: 1, max: MEMORY_LIMITS.maxResults }) ??
    MEMORY_LIMITS.defaultMaxResults
  const token = checker.string('nextToken', body.nextToken, { min: 1, max: 2048 })
  if (token === undefined) return { after: undefined, limit }
  const decoded = decodePageToken(token, scope)
  if (!isSortKey(decoded)) {
    checker.fail('nextToken', 'is not a token this listing issued')
    return { after: undefined, limit }
  }
  return { after: decoded, limit }
}

/** Offset paging, kept for RetrieveMemoryRecords: its ranking is recomputed per call anyway. */
export function offsetPaging(checker: FieldChecker, body: Record<string, unknown>, scope: string) {
  const limit =
    checker.integer('maxResults', body.maxResults, { min: 1, max: MEMORY_LIMITS.maxResults }) ??
    MEMORY_LIMITS.defaultMaxResults
  let offset = 0
  const token = checker.string('nextToken', body.nextToken, { min: 1, max: 2048 })
  if (token !== undefined) {
    const decoded = decodePageToken(token, scope)
    if (typeof decoded !== 'number' || !Number.isInteger(decoded) || decoded < 0) {
      checker.fail('nextToken', 'is not a token this listing issued')
    } else offset = decoded
  }
  return { offset, limit, scope }
}
