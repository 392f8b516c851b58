/**
 * Positions inside the paging tokens the listings issue. A token is checked against the listing
 * asking (its scope), so one from another listing, or made up, is a bad `nextToken`, noted on
 * `check` with the request's other bad fields. A token that is not a string is left to the schema.
 */
import type { RequestCheck } from './api-model/request-check.ts'
import type { EventCursor } from './memory-store.ts'
import { decodePageToken, isSortKey, type SortKey } from '../shared/page-token.ts'

const NOT_OURS = 'is not a token this listing issued'

/** The sort key after which a key-paged listing continues (see `pageAfter`). */
export function keyPosition(check: RequestCheck, token: unknown, scope: string): SortKey | undefined {
  if (typeof token !== 'string') return undefined
  const position = decodePageToken(token, scope)
  if (isSortKey(position)) return position
  check.fail('nextToken', NOT_OURS)
  return undefined
}

/** The offset at which an offset-paged listing (RetrieveMemoryRecords' ranking) continues. */
export function offsetPosition(check: RequestCheck, token: unknown, scope: string): number {
  if (typeof token !== 'string') return 0
  const position = decodePageToken(token, scope)
  if (typeof position === 'number' && Number.isInteger(position) && position >= 0) return position
  check.fail('nextToken', NOT_OURS)
  return 0
}

/** Where a newest-first events listing continues. */
export function eventPosition(check: RequestCheck, token: unknown, scope: string): EventCursor | undefined {
  if (typeof token !== 'string') return undefined
  const position = decodePageToken(token, scope) as Partial<EventCursor> | null | undefined
  if (
    position !== null &&
    typeof position === 'object' &&
    typeof position.eventTimestamp === 'number' &&
    typeof position.sequence === 'number'
  )
    return position as EventCursor
  check.fail('nextToken', NOT_OURS)
  return undefined
}
