import { randomUUID } from 'node:crypto'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { AwsServiceError } from './errors.ts'
import type { RawRoute } from './router.ts'

/** Where an agent runtime listens; `MCP` runtimes are reached at `/mcp`, `HTTP` ones at `/invocations`. */
export interface RuntimeTarget {
  readonly url: string
  readonly protocol?: 'HTTP' | 'MCP'
}

/** Runtimes by full ARN, by the runtime id after `runtime/`, or `*` for any runtime. */
export type RuntimeTable = Map<string, RuntimeTarget>

export const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id'
export const REQUEST_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-request-id'
const USER_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-user-id'
const CUSTOM_HEADER_PREFIX = 'x-amzn-bedrock-agentcore-runtime-custom-'
const PASSED_HEADERS = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', USER_ID_HEADER]
const RETURNED_HEADERS = ['content-type', 'mcp-session-id', 'mcp-protocol-version']
const ARN_PATTERN =
  /^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:[0-9]{12}:runtime\/([a-zA-Z][a-zA-Z0-9_]{0,99}(?:-[a-zA-Z0-9]{10})?)$/

export interface InvokeGatewayConfig {
  readonly runtimes: RuntimeTable
  /** Largest payload accepted (AgentCore: 100 MB). */
  readonly maxPayloadBytes: number
  /** How long a JSON answer may take (AgentCore: 15 min) and a stream may last (60 min). */
  readonly requestTimeoutMs: number
  readonly streamTimeoutMs: number
}

/** A fresh runtime session id: 33 to 256 characters, as AgentCore requires. */
export function newRuntimeSessionId(): string {
  return `${randomUUID()}-${Date.now().toString(36)}`
}

/** Looks a runtime up by ARN, by its id, then by `*`. */
export function resolveRuntime(runtimes: RuntimeTable, arn: string): RuntimeTarget | undefined {
  const id = ARN_PATTERN.exec(arn)?.[1]
  return runtimes.get(arn) ?? (id !== undefined ? runtimes.get(id) : undefined) ?? runtimes.get('*')
}

/**
 * InvokeAgentRuntime: forwards the payload to the runtime with AgentCore's headers and streams the
 * answer back unchanged (JSON or SSE), so `InvokeAgentRuntimeCommand` reaches a local runtime.
 */
export function invokeGatewayRoute(config: InvokeGatewayConfig): RawRoute {
  return {
    kind: 'raw',
    method: 'POST',
    path: '/runtimes/{agentRuntimeArn}/invocations',
    operation: 'InvokeAgentRuntime',
    async handle(request, response, params, requestId) {
      const arn = params.agentRuntimeArn ?? ''
      if (!ARN_PATTERN.test(arn)) {
        throw new AwsServiceError(
          'ValidationException',
          'agentRuntimeArn: must be an AgentCore runtime ARN',
          {
            fieldList: [
              {
                name: 'agentRuntimeArn',
                message: 'must be arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>',
              },
            ],
          },
        )
      }
      const declared = Number(request.headers['content-length'] ?? '0')
      if (declared > config.maxPayloadBytes) {
        throw new AwsServiceError(
          'ValidationException',
          `payload: must be at most ${config.maxPayloadBytes} bytes`,
          {
            fieldList: [{ name: 'payload', message: `must be at most ${config.maxPayloadBytes} bytes` }],
            status: 413,
          },
        )
      }
      const givenSession = request.headers[SESSION_HEADER]
      if (typeof givenSession === 'string' && (givenSession.length < 33 || givenSession.length > 256)) {
        throw new AwsServiceError(
          'ValidationException',
          'runtimeSessionId: must be 33 to 256 characters long',
          {
            fieldList: [{ name: 'runtimeSessionId', message: 'must be 33 to 256 characters long' }],
          },
        )
      }
      const target = resolveRuntime(config.runtimes, arn)
      if (!target) throw new AwsServiceError('ResourceNotFoundException', `Runtime ${arn} not found`)
      const sessionId = typeof givenSession === 'string' ? givenSession : newRuntimeSessionId()
      const url = new URL(target.protocol === 'MCP' ? '/mcp' : '/invocations', target.url)
      const qualifier = new URL(request.url ?? '/', 'http://local').searchParams.get('qualifier')
      if (qualifier) url.searchParams.set('qualifier', qualifier)
      const headers: Record<string, string> = {
        [SESSION_HEADER]: sessionId,
        [REQUEST_ID_HEADER]: requestId,
      }
      for (const name of PASSED_HEADERS) {
        const value = request.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      for (const [name, value] of Object.entries(request.headers)) {
        if (name.startsWith(CUSTOM_HEADER_PREFIX) && typeof value === 'string') headers[name] = value
      }
      const authorization = request.headers.authorization
      if (typeof authorization === 'string' && authorization.startsWith('Bearer '))
        headers.authorization = authorization
      await forward(request, response, url, headers, sessionId, config)
    },
  }
}

function forward(
  incoming: IncomingMessage,
  response: ServerResponse,
  url: URL,
  headers: Record<string, string>,
  sessionId: string,
  config: InvokeGatewayConfig,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    let received = 0
    let settled = false
    const fail = (error: AwsServiceError) => {
      if (settled) return
      settled = true
      outgoing.destroy()
      reject(error)
    }
    const outgoing = send(url, { method: 'POST', headers }, (upstream) => {
      const status = upstream.statusCode ?? 502
      if (status >= 400) {
        const chunks: Buffer[] = []
        upstream.on('data', (chunk: Buffer) => {
          if (chunks.length < 64) chunks.push(chunk)
        })
        upstream.on('end', () => {
          const detail = Buffer.concat(chunks).toString('utf8').slice(0, 1024)
          fail(
            new AwsServiceError('RuntimeClientError', `Runtime answered ${status}: ${detail}`, {
              status: status >= 500 ? 502 : 424,
            }),
          )
        })
        return
      }
      const streaming = String(upstream.headers['content-type'] ?? '').includes('text/event-stream')
      outgoing.setTimeout(streaming ? config.streamTimeoutMs : config.requestTimeoutMs)
      const answer: Record<string, string> = { [SESSION_HEADER]: sessionId }
      for (const name of RETURNED_HEADERS) {
        const value = upstream.headers[name]
        if (typeof value === 'string') answer[name] = value
      }
      response.writeHead(status, answer)
      response.flushHeaders()
      upstream.pipe(response)
      upstream.on('end', () => {
        settled = true
        resolve()
      })
      upstream.on('error', () => {
        settled = true
        response.destroy()
        resolve()
      })
    })
    outgoing.setTimeout(config.requestTimeoutMs, () => {
      if (response.headersSent) {
        settled = true
        response.destroy()
        outgoing.destroy()
        resolve()
        return
      }
      fail(new AwsServiceError('RuntimeClientError', 'Runtime did not answer in time', { status: 504 }))
    })
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (response.headersSent) {
        settled = true
        response.destroy()
        resolve()
        return
      }
      fail(
        new AwsServiceError(
          'RuntimeClientError',
          `Runtime at ${url.origin} is unreachable (${error.code ?? error.message})`,
          { status: 502 },
        ),
      )
    })
    incoming.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received > config.maxPayloadBytes) {
        fail(
          new AwsServiceError(
            'ValidationException',
            `payload: must be at most ${config.maxPayloadBytes} bytes`,
            { status: 413 },
          ),
        )
      }
    })
    incoming.pipe(outgoing)
  })
}
