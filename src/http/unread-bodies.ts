/**
 * Requests whose error answer must read no more of their body: a web page's (nothing of it is
 * read) and a body past its limit (already drained as far as it will be). Their connection is
 * closed unless the body happened to be read to its end.
 */
import type { BodySource } from './read-body.ts'

const unread = new WeakSet<BodySource>()

/** Marks `request`: its error answer reads no more of its body. */
export function closeWithoutReading(request: BodySource): void {
  unread.add(request)
}

/** True when `request` was marked by {@link closeWithoutReading}. */
export function isClosedWithoutReading(request: BodySource): boolean {
  return unread.has(request)
}
