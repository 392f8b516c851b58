import type { IncomingMessage, ServerResponse } from 'node:http'
import { readLimitedBody } from '../shared/read-body.ts'
import { AwsServiceError } from './errors.ts'
import { isRecord } from '../shared/is-record.ts'

/** Reads the whole body, refusing more than `limitBytes` before buffering it. */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const body = await readLimitedBody(request, limitBytes)
  if (body === undefined) throw tooLarge(limitBytes)
  return body
}

function tooLarge(limitBytes: number): AwsServiceError {
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

export function sendJson(response: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  })
  response.end(text)
}

export function sendError(response: ServerResponse, error: AwsServiceError, requestId: string): void {
  if (response.headersSent) {
    response.destroy(error)
    return
  }
  const text = JSON.stringify(error.toBody())
  response.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': error.code,
    'x-amzn-requestid': requestId,
  })
  response.end(text)
}
