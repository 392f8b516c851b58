/** Request bodies of the local service: read within a limit, and parsed as REST-JSON objects. */
import { type BodySource, PayloadTooLargeError, readBody as readLimited } from '../http/index.ts'
import { isRecord } from '../shared/is-record.ts'
import { AwsServiceError } from './errors.ts'

/**
 * Reads the whole body, refusing more than `limitBytes` before buffering it (a 413
 * ValidationException; the HTTP layer closes the connection when the body could not be drained).
 */
export async function readBody(request: BodySource, limitBytes: number): Promise<Buffer> {
  try {
    return await readLimited(request, limitBytes)
  } catch (error) {
    if (!(error instanceof PayloadTooLargeError)) throw error
    throw tooLarge(limitBytes)
  }
}

/** The refusal of a body over `limitBytes`. */
export function tooLarge(limitBytes: number): AwsServiceError {
  return new AwsServiceError('ValidationException', `Request body is larger than ${limitBytes} bytes`, {
    status: 413,
  })
}

/** Parses a JSON object body; an empty body is an empty object. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new AwsServiceError('SerializationException', 'Request body is not valid JSON')
  }
  if (!isRecord(parsed)) {
    throw new AwsServiceError('SerializationException', 'Request body must be a JSON object')
  }
  return parsed
}
