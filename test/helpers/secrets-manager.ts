/**
 * A stand-in for Secrets Manager's GetSecretValue on a port of the test's own: the real SDK client
 * (an endpoint override, dummy credentials) sends its signed request here and gets the answer
 * Secrets Manager's JSON protocol gives, a secret's value or an error such as AccessDeniedException.
 */
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SecretReader } from '../../src/shared/secret-value.ts'

/** An ARN of the shape Secrets Manager gives (REDIS_PASSWORD_SECRET_ARN checks it). */
export function testSecretArn(name: string): string {
  return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`
}

export interface FakeSecretsManager {
  /** The endpoint for the client (`endpoint`, or AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  readonly url: string
  /** Every request received: its headers and JSON body. */
  readonly requests: { readonly headers: IncomingHttpHeaders; readonly body: Record<string, unknown> }[]
  close(): Promise<void>
}

/**
 * Answers GetSecretValue for the secrets in `secrets` (id to SecretString); any other id gets
 * ResourceNotFoundException, and an id in `denied` AccessDeniedException.
 */
export async function startFakeSecretsManager(
  secrets: Record<string, string>,
  options: { denied?: readonly string[] } = {},
): Promise<FakeSecretsManager> {
  const requests: FakeSecretsManager['requests'] = []
  const server = createServer(async (request, response) => {
    let text = ''
    for await (const chunk of request) text += String(chunk)
    const body = JSON.parse(text || '{}') as Record<string, unknown>
    requests.push({ headers: request.headers, body })
    const answer = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
      response.end(JSON.stringify(payload))
    }
    const id = String(body.SecretId)
    if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
      return answer(400, { __type: 'UnknownOperationException', message: 'not faked' })
    if (options.denied?.includes(id))
      return answer(400, {
        __type: 'AccessDeniedException',
        Message: `User is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id}`,
      })
    const value = secrets[id]
    if (value === undefined)
      return answer(400, {
        __type: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      })
    return answer(200, {
      ARN: id,
      Name: id,
      SecretString: value,
      VersionId: 'v1',
      VersionStages: ['AWSCURRENT'],
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * A reader of our own interface over `values` (id to value), which records the ids it was asked
 * for; any other id fails as Secrets Manager would (AccessDeniedException).
 */
export function fakeSecretReader(
  values: Record<string, string>,
): SecretReader & { readonly reads: string[] } {
  const reads: string[] = []
  return {
    reads,
    read: async (secretId) => {
      reads.push(secretId)
      const value = values[secretId]
      if (value === undefined) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' })
      return value
    },
  }
}
