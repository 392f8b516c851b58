import type { HttpContext } from './http-env.ts'

/**
 * Calls `listener` once the caller goes away before its answer was sent in full (it hung up, or its
 * connection broke), at any point of the request: while its body is read, while the answer is
 * worked on, or mid-stream.
 */
export function onCallerGone<V extends object>(c: HttpContext<V>, listener: () => void): void {
  const outgoing = c.env.outgoing
  outgoing.on('close', () => {
    if (!outgoing.writableFinished) listener()
  })
}
