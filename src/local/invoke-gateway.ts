import { newRuntimeSessionId } from '../shared/runtime-session-id.ts'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { parseRuntimeErrorBody, runtimeErrorHeaders } from '../contract/runtime-error.ts'
import { AwsServiceError } from './errors.ts'
import type { RawRoute } from './router.ts'

/** Where an agent runtime listens; `MCP` runtimes are reached at `/mcp`, `HTTP` ones at `/invocations`. */
export interface RuntimeTarget {
  readonly url: string
  readonly protocol?: 'HTTP' | 'MCP'
}

/** Runtimes by full ARN, by the runtime id after `runtime/`, or `*` for any runtime. */
export type RuntimeTable = Map<string, RuntimeTarget>

const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id'
const REQUEST_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-request-id'
const USER_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-user-id'
const CUSTOM_HEADER_PREFIX = 'x-amzn-bedrock-agentcore-runtime-custom-'
const PASSED_HEADERS = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', USER_ID_HEADER]
const RETURNED_HEADERS = ['content-type', 'mcp-session-id', 'mcp-protocol-version']
const RUNTIME_ID_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/
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

/** The runtime id inside a runtime ARN, or undefined for anything else. */
export function runtimeIdOf(arn: string): string | undefined {
  return ARN_PATTERN.exec(arn)?.[1]
}

/** Looks a runtime up by ARN, by its id (registering an ARN also registers its id), then by `*`. */
function resolveRuntime(runtimes: RuntimeTable, identifier: string): RuntimeTarget | undefined {
  return runtimes.get(identifier) ?? runtimes.get(runtimeIdOf(identifier) ?? identifier) ?? runtimes.get('*')
}

/**
 * InvokeAgentRuntime: forwards the payload to the runtime with AgentCore's headers and streams the
 * answer back unchanged (JSON or SSE), so `InvokeAgentRuntimeCommand` reaches a local runtime.
 * The forwarded request is the gateway's own (no Origin is passed on), so the service refuses a
 * web page's request before it reaches this route, or a page could go through it.
 */
export function invokeGatewayRoute(config: InvokeGatewayConfig): RawRoute {
  return {
    kind: 'raw',
    method: 'POST',
    path: '/runtimes/{agentRuntimeArn}/invocations',
    operation: 'InvokeAgentRuntime',
    async handle(request, response, params, requestId) {
      const arn = params.agentRuntimeArn ?? ''
      const query = new URL(request.url ?? '/', 'http://local').searchParams
      const accountId = query.get('accountId')
      // AgentCore takes a full ARN, or a runtime id together with the accountId query parameter.
      const validIdentifier =
        ARN_PATTERN.test(arn) || (RUNTIME_ID_PATTERN.test(arn) && /^[0-9]{12}$/.test(accountId ?? ''))
      if (!validIdentifier) {
        const [name, problem] = RUNTIME_ID_PATTERN.test(arn)
          ? ['accountId', 'a 12-digit account id is required with a runtime id']
          : [
              'agentRuntimeArn',
              'must be a runtime ARN (arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>) or a runtime id',
            ]
        throw new AwsServiceError('ValidationException', `${name}: ${problem}`, {
          fieldList: [{ name, message: problem }],
        })
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
      const qualifier = query.get('qualifier')
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

/**
 * A runtime's error answer, handed on as data: its code, field and status in longrun's headers and
 * its message as the error's. A session with a turn in progress is AgentCore's 409
 * RetryableConflictException, which the AWS SDK retries with backoff; every other refusal is a
 * RuntimeClientError. A body that is not the runtime's error shape is quoted in the message.
 */
function refusalOf(status: number, body: string): AwsServiceError {
  const type = status === 409 ? 'RetryableConflictException' : 'RuntimeClientError'
  const error = parseRuntimeErrorBody(status, body)
  // The status is the type's: 409 for the retryable conflict, 424 for the rest.
  if (error === undefined)
    return new AwsServiceError(type, `Runtime answered ${status}: ${body.slice(0, 1024)}`)
  return new AwsServiceError(type, error.message || `Runtime answered ${status}`, {
    headers: runtimeErrorHeaders(error),
  })
}

/** Every runtime-side failure is a 424 RuntimeClientError, as AgentCore models it: not retried by the SDK. */
function runtimeError(message: string): AwsServiceError {
  return new AwsServiceError('RuntimeClientError', message, { status: 424 })
}

/**
 * Streams the request to the runtime and its answer back. The promise always settles: on the
 * answer's end, on any error of either side, on the caller going away (the runtime request is then
 * aborted, so an agent does not keep working for nobody), or on the total time limit.
 */
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
    let settled = false
    let deadline: NodeJS.Timeout | undefined
    const outgoing = send(url, { method: 'POST', headers })
    /** Ends the exchange; an error before the answer started becomes an AWS error reply. */
    const finish = (error?: AwsServiceError, callerLeft = false) => {
      if (settled) return
      settled = true
      if (deadline) clearTimeout(deadline)
      if (error || callerLeft) outgoing.destroy()
      if (error && !response.headersSent) reject(error)
      else {
        if (error) response.destroy()
        resolve()
      }
    }
    const limit = (ms: number, message: string) => {
      if (deadline) clearTimeout(deadline)
      deadline = setTimeout(() => finish(runtimeError(message)), ms)
    }
    limit(config.requestTimeoutMs, 'Runtime did not answer in time')
    response.on('close', () => {
      if (!response.writableFinished) finish(undefined, true)
    })
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      finish(runtimeError(`Runtime at ${url.origin} is unreachable (${error.code ?? error.message})`)),
    )
    outgoing.on('response', (upstream) => {
      const status = upstream.statusCode ?? 500
      upstream.on('error', () => finish(runtimeError('Runtime connection failed')))
      if (status >= 400) {
        const chunks: Buffer[] = []
        let size = 0
        upstream.on('data', (chunk: Buffer) => {
          if (size < 4096) chunks.push(chunk)
          size += chunk.length
        })
        const report = () => finish(refusalOf(status, Buffer.concat(chunks).toString('utf8')))
        upstream.on('end', report)
        upstream.on('close', report)
        return
      }
      const contentType = String(upstream.headers['content-type'] ?? 'application/octet-stream')
      const streaming = contentType.includes('text/event-stream')
      limit(
        streaming ? config.streamTimeoutMs : config.requestTimeoutMs,
        streaming ? 'Runtime stream exceeded its time limit' : 'Runtime did not answer in time',
      )
      const answer: Record<string, string> = { [SESSION_HEADER]: sessionId, 'content-type': contentType }
      for (const name of RETURNED_HEADERS) {
        const value = upstream.headers[name]
        if (typeof value === 'string') answer[name] = value
      }
      response.writeHead(status, answer)
      response.flushHeaders()
      upstream.pipe(response)
      upstream.on('end', () => finish())
      upstream.on('close', () => {
        if (!upstream.complete) finish(runtimeError('Runtime closed the stream early'))
      })
    })
    let received = 0
    incoming.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received > config.maxPayloadBytes) {
        finish(
          new AwsServiceError(
            'ValidationException',
            `payload: must be at most ${config.maxPayloadBytes} bytes`,
            {
              status: 413,
            },
          ),
        )
      }
    })
    incoming.on('close', () => {
      if (!incoming.complete) finish(undefined, true)
    })
    incoming.pipe(outgoing)
  })
}
