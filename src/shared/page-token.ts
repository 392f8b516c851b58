/**
 * Opaque paging tokens bound to the listing that issued them, so a token from one session's
 * listing is refused by another's instead of silently paging the wrong data.
 */
export function encodePageToken(scope: string, position: unknown): string {
  return Buffer.from(JSON.stringify({ s: scope, p: position }), 'utf8').toString('base64url')
}

/** The position inside a token, or undefined when the token is malformed or from another listing. */
export function decodePageToken(token: string, scope: string): unknown {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      s?: unknown
      p?: unknown
    }
    return decoded.s === scope ? decoded.p : undefined
  } catch {
    return undefined
  }
}

/** A listing's sort key for one item; items are listed in ascending key order. */
export type SortKey = readonly (string | number)[]

function compareKeys(a: SortKey, b: SortKey): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const left = a[index]
    const right = b[index]
    if (left === right) continue
    if (left === undefined) return -1
    if (right === undefined) return 1
    return left < right ? -1 : 1
  }
  return 0
}

/** True when a decoded token position is a sort key (and not something a caller made up). */
export function isSortKey(value: unknown): value is SortKey {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((part) => typeof part === 'string' || (typeof part === 'number' && Number.isFinite(part)))
  )
}

/**
 * One page of `items` (already in ascending key order) after the key `after`. Pages continue from
 * the last item's key, not from an offset, so items added or removed between two calls never make
 * a page repeat or skip another.
 */
export function pageAfter<T>(
  items: readonly T[],
  keyOf: (item: T) => SortKey,
  after: SortKey | undefined,
  limit: number,
): { page: T[]; next?: SortKey } {
  const ordered = items
    .map((item) => ({ item, key: keyOf(item) }))
    .filter((entry) => after === undefined || compareKeys(entry.key, after) > 0)
  const page = ordered.slice(0, limit)
  const last = page.at(-1)
  return {
    page: page.map((entry) => entry.item),
    ...(ordered.length > limit && last ? { next: last.key } : {}),
  }
}

/**
 * A page from rows a store read with `limit + 1`: the extra row only tells that more exist, and the
 * next page continues after the last row kept.
 */
export function pageOfRows<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => SortKey,
): { page: T[]; next?: SortKey } {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return { page, ...(rows.length > limit && last !== undefined ? { next: keyOf(last) } : {}) }
}
