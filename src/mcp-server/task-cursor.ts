/** The opaque cursor of an owner's task list (newest first), the same on every backend. */
import { decodePageToken, encodePageToken, isSortKey } from '../shared/page-token.ts'
import { McpServerError } from './errors.ts'

/** The paging scope of an owner's task list: a cursor pages only the listing that issued it. */
function cursorScope(owner: string): string {
  return `tasks:${owner}`
}

/** The position after the last task of a page of `owner`'s listing. */
export function encodeCursor(owner: string, createdAt: number, taskId: string): string {
  return encodePageToken(cursorScope(owner), [createdAt, taskId])
}

/** Reads a cursor made by {@link encodeCursor} for `owner`; throws INVALID_CURSOR for anything else. */
export function decodeCursor(cursor: string, owner: string): { createdAt: number; taskId: string } {
  const position = decodePageToken(cursor, cursorScope(owner))
  if (isSortKey(position) && position.length === 2) {
    const [createdAt, taskId] = position
    if (typeof createdAt === 'number' && typeof taskId === 'string') return { createdAt, taskId }
  }
  throw new McpServerError('INVALID_CURSOR', 'cursor is not one this server issued', { field: 'cursor' })
}
