import type { IncomingMessage } from 'node:http'

/**
 * Reads a whole request body, or answers undefined as soon as it exceeds `limitBytes` (by its
 * declared length or by what arrives), so an oversized body is never buffered whole.
 */
export async function readLimitedBody(
  request: IncomingMessage,
  limitBytes: number,
): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > limitBytes) return undefined
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > limitBytes) return undefined
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}
