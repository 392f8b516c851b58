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
