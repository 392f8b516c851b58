import type { IncomingMessage } from 'node:http'

/**
 * The caller hung up before its whole body arrived. A normal event for a server (a client timed out
 * or was stopped): worth an info line, never an error with a stack.
 */
export class RequestAbortedError extends Error {
  readonly code = 'REQUEST_ABORTED'
  constructor(options?: ErrorOptions) {
    super('the caller hung up before its request body arrived', options)
    this.name = 'RequestAbortedError'
  }
}

/** How much of an oversized body is read and thrown away by default, so its sender reads the refusal. */
export const DEFAULT_DRAIN_BYTES = 64 * 1024 * 1024

/**
 * Reads a whole request body, or answers undefined once it exceeds `limitBytes` (by its declared
 * length or by what arrives), so an oversized body is never buffered whole.
 *
 * An oversized body is then read to its end and discarded, up to `drainBytes` in all: a client
 * still sending when the refusal goes out (Node's fetch, the MCP SDK client) would otherwise see
 * a reset (EPIPE, "fetch failed") instead of the 413. Past that the rest is left unread; the
 * caller then closes the connection (`request.readableEnded` tells).
 */
export function readLimitedBody(
  request: IncomingMessage,
  limitBytes: number,
  drainBytes: number = DEFAULT_DRAIN_BYTES,
): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length'])
  const declaredTooLarge = Number.isFinite(declared) && declared > limitBytes
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = declaredTooLarge
    const finish = (error?: Error) => {
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onError)
      request.off('close', onClose)
      if (error !== undefined && !tooLarge) reject(error)
      else resolve(tooLarge ? undefined : Buffer.concat(chunks))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (!tooLarge && size > limitBytes) {
        tooLarge = true
        chunks.length = 0
      }
      if (tooLarge && size > drainBytes) {
        request.pause()
        finish()
      } else if (!tooLarge) chunks.push(chunk)
    }
    const onEnd = () => finish()
    const onError = (error: Error) => finish(new RequestAbortedError({ cause: error }))
    const onClose = () => finish(request.readableEnded ? undefined : new RequestAbortedError())
    if (declaredTooLarge && declared > drainBytes) {
      resolve(undefined)
      return
    }
    request.on('data', onData)
    request.once('end', onEnd)
    request.once('error', onError)
    request.once('close', onClose)
  })
}

/**
 * Reads and discards what is left of a request's body (at most `drainBytes`), so a refusal sent
 * before the body was read reaches a client that is still sending. True when the body was read to
 * its end (the connection can then be kept).
 */
export async function drainRequest(
  request: IncomingMessage,
  drainBytes: number = DEFAULT_DRAIN_BYTES,
): Promise<boolean> {
  if (request.readableEnded || request.destroyed) return request.readableEnded
  await readLimitedBody(request, 0, drainBytes)
  return request.readableEnded
}
