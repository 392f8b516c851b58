/**
 * Request bodies read straight from Node's request, within a limit: an oversized body is never
 * buffered whole, and is read to its end (up to HTTP_DEFAULTS.drainBytes) and thrown away, so a
 * client still sending when the refusal goes out (Node's fetch, the MCP SDK client) reads the 413
 * instead of a reset (EPIPE, "fetch failed"). Past that the rest is left unread and the error hook
 * closes the connection.
 */
import type { IncomingMessage } from 'node:http'
import { HTTP_DEFAULTS } from './http-defaults.ts'
import { PayloadTooLargeError, RequestAbortedError } from './http-errors.ts'
import { closeWithoutReading } from './unread-bodies.ts'

/** What is read: Node's request, over HTTP/1.1 or (through Node's compatibility API) HTTP/2. */
export type BodySource = Pick<
  IncomingMessage,
  'headers' | 'on' | 'once' | 'off' | 'pause' | 'readableEnded' | 'destroyed'
>

/**
 * The whole body, or {@link PayloadTooLargeError} once it exceeds `limitBytes` (the body drained,
 * and the request marked so its refusal reads no more of it), or {@link RequestAbortedError} when
 * the caller hangs up first.
 */
export async function readBody(
  request: BodySource,
  limitBytes: number,
  drainBytes: number = HTTP_DEFAULTS.drainBytes,
): Promise<Buffer> {
  const body = await readLimitedBody(request, limitBytes, drainBytes)
  if (body !== undefined) return body
  closeWithoutReading(request)
  throw new PayloadTooLargeError(limitBytes, request.readableEnded)
}

/**
 * Reads a whole request body, or answers undefined once it exceeds `limitBytes` (by its declared
 * length or by what arrives); an oversized body is then drained up to `drainBytes` in all
 * (`request.readableEnded` tells whether it got to the end).
 */
export function readLimitedBody(
  request: BodySource,
  limitBytes: number,
  drainBytes: number = HTTP_DEFAULTS.drainBytes,
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
  request: BodySource,
  drainBytes: number = HTTP_DEFAULTS.drainBytes,
): Promise<boolean> {
  if (request.readableEnded || request.destroyed) return request.readableEnded
  await readLimitedBody(request, 0, drainBytes)
  return request.readableEnded
}
