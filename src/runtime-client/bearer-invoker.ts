/**
 * InvokeAgentRuntime with a bearer token, for a runtime behind a JWT authorizer (which refuses
 * SigV4): `POST <endpoint>/runtimes/<URL-encoded ARN>/invocations?qualifier=DEFAULT` with
 * `Authorization: Bearer <token>`, as AgentCore's own CLI sends it. The token goes over HTTPS only,
 * or over plain HTTP to this machine (the local gateway of `longrun dev`).
 */
import { type IncomingMessage, request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isLoopbackUrl } from '../shared/loopback-url.ts'
import { InsecureEndpointError } from './errors.ts'
import { invokeFailureOf } from './invoke-failure.ts'
import {
  invocationPayload,
  type InvokeFailure,
  type OpenedInvocation,
  type RuntimeInvocation,
  type RuntimeInvoker,
} from './runtime-invoker.ts'

const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id'
/** The most of a refusal's body that is read (its message is short). */
const MAX_ERROR_BYTES = 64 * 1024

/** AgentCore's data-plane endpoint of a region. */
export function agentCoreEndpointOf(region: string): string {
  return `https://bedrock-agentcore.${region}.amazonaws.com`
}

/** A refusal answered over HTTP: AgentCore's error type (`x-amzn-errortype`), its status and message. */
export class InvocationRefusedError extends Error {
  readonly status: number
  /** The refusal's headers (where the local gateway puts the runtime's own error). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  constructor(
    type: string,
    status: number,
    message: string,
    headers: Readonly<Record<string, string | string[] | undefined>> = {},
  ) {
    super(message)
    this.name = type
    this.status = status
    this.headers = headers
  }
}

/** A bearer token, and where it came from (a flag, a variable), for a refusal to name. */
export interface BearerToken {
  readonly value: string
  readonly source: string
}

/** Configuration of {@link BearerInvoker}. */
export interface BearerInvokerConfig {
  /** The data plane: AgentCore's for the region, or another (`AGENTCORE_ENDPOINT`, the local gateway). */
  readonly endpoint: string
  readonly token: BearerToken
}

/** Invocations signed with a bearer token. */
export class BearerInvoker implements RuntimeInvoker {
  readonly #endpoint: URL
  readonly #token: BearerToken

  constructor(config: BearerInvokerConfig) {
    this.#endpoint = new URL(config.endpoint)
    if (this.#endpoint.protocol !== 'https:' && !isLoopbackUrl(config.endpoint))
      throw new InsecureEndpointError(
        `a bearer token goes over HTTPS only (or plain HTTP to this machine), not to ${this.#endpoint.origin}`,
      )
    this.#token = config.token
  }

  open(invocation: RuntimeInvocation, signal?: AbortSignal): Promise<OpenedInvocation> {
    const url = new URL(this.#endpoint)
    url.pathname = `${url.pathname.replace(/\/$/, '')}/runtimes/${encodeURIComponent(invocation.runtimeArn)}/invocations`
    url.search = new URLSearchParams({ qualifier: 'DEFAULT' }).toString()
    const payload = Buffer.from(invocationPayload(invocation))
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const outgoing = send(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.#token.value}`,
          'content-type': 'application/json',
          accept: invocation.json ? 'application/json' : 'text/event-stream',
          'content-length': payload.length,
          [SESSION_HEADER]: invocation.sessionId,
        },
        ...(signal !== undefined && { signal }),
      })
      outgoing.on('error', reject)
      outgoing.on('response', (response: IncomingMessage) => {
        const status = response.statusCode ?? 500
        if (status < 400) {
          resolve({ contentType: String(response.headers['content-type'] ?? ''), body: response })
          return
        }
        refusalOf(response, status).then(reject, reject)
      })
      outgoing.end(payload)
    })
  }

  failureOf(error: unknown): InvokeFailure {
    return invokeFailureOf(error, { bearer: this.#token.source })
  }
}

/** Reads a refusal's body into an {@link InvocationRefusedError} (AWS's `{"message"}`, or the text). */
async function refusalOf(response: IncomingMessage, status: number): Promise<InvocationRefusedError> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < MAX_ERROR_BYTES) chunks.push(chunk)
    size += chunk.length
  }
  const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BYTES)
  const type = String(response.headers['x-amzn-errortype'] ?? '').split(':')[0] || `HTTP${status}`
  let message = text
  try {
    const body = JSON.parse(text) as { message?: unknown; Message?: unknown }
    const said = body.message ?? body.Message
    if (typeof said === 'string') message = said
  } catch {
    // Not JSON: the text is the message.
  }
  return new InvocationRefusedError(type, status, message || `HTTP ${status}`, response.headers)
}
