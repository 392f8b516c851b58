/**
 * HTTP in: `GET /ping` (the Runtime's health contract), the protected-resource metadata, and
 * `POST /mcp`, checked here before JSON-RPC (Host, method, authentication, body size, JSON, empty
 * batches, malformed params) and handed to the protocol server. Every refusal goes out through
 * `error-mapping.ts`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { drainRequest, readLimitedBody } from '../shared/read-body.ts'
import type { HealthStatus } from '../shared/health-status.ts'
import {
  type AuthConfig,
  type Authenticator,
  authChallenge,
  missingTokenHint,
  protectedResourceMetadata,
} from './auth.ts'
import { httpStatusOf, jsonRpcErrorBody } from './error-mapping.ts'
import { McpServerError } from './errors.ts'
import { isHostAllowed } from '../shared/host-check.ts'
import type { ProtocolServer } from './protocol-server.ts'
import { malformedRequest } from './request-params.ts'
import { type RequestScope, scopeOf } from './request-scope.ts'
import { TASK_TOOL_NAMES } from './task-tools.ts'

/** Configuration of {@link HttpRoutes}. */
export interface HttpRoutesConfig {
  readonly auth: AuthConfig
  readonly authenticate: Authenticator
  readonly allowedHosts: readonly string[] | undefined
  readonly maxBodyBytes: number
  readonly health: HealthStatus
  readonly protocol: ProtocolServer
}

const METADATA_PATH = '/.well-known/oauth-protected-resource'

/** Routes one HTTP request. */
export class HttpRoutes {
  readonly #config: HttpRoutesConfig

  constructor(config: HttpRoutesConfig) {
    this.#config = config
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.#route(req, res)
    } catch (error) {
      if (!(error instanceof McpServerError)) throw error
      const headers = this.#challengeHeaders(req, error)
      // A body left unread (too large even to drain) cannot be followed by another request.
      if (!(await drainRequest(req))) headers.connection = 'close'
      if (error.code === 'METHOD_NOT_ALLOWED' && error.field !== undefined) headers.allow = error.field
      sendJson(res, httpStatusOf(error), jsonRpcErrorBody(error), headers)
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/ping') {
      allowOnly(req, 'GET')
      return sendJson(res, 200, this.#config.health.report())
    }
    if (path === METADATA_PATH || path === `${METADATA_PATH}/mcp`) {
      allowOnly(req, 'GET')
      const metadata = protectedResourceMetadata(this.#config.auth, `${originOf(req)}/mcp`)
      if (metadata === undefined) {
        throw new McpServerError(
          'NOT_FOUND',
          `no authorization server: ${missingTokenHint(this.#config.auth)}`,
        )
      }
      return sendJson(res, 200, metadata)
    }
    if (path !== '/mcp') throw new McpServerError('NOT_FOUND', `not found: POST JSON-RPC messages to /mcp`)
    if (!isHostAllowed(req, this.#config.allowedHosts)) {
      throw new McpServerError('HOST_NOT_ALLOWED', 'Host or Origin not allowed')
    }
    // Stateless: no standalone SSE stream to GET and no session to DELETE.
    allowOnly(req, 'POST')
    const scope = await this.#scope(req)
    const body = await readLimitedBody(req, this.#config.maxBodyBytes)
    if (body === undefined) {
      throw new McpServerError('BODY_TOO_LARGE', `request body exceeds ${this.#config.maxBodyBytes} bytes`)
    }
    let message: unknown
    try {
      message = JSON.parse(body.toString('utf8'))
    } catch {
      throw new McpServerError('PARSE_ERROR', 'Parse error: the body is not valid JSON')
    }
    if (Array.isArray(message) && message.length === 0) {
      throw new McpServerError('INVALID_REQUEST', 'Invalid request: an empty batch holds no message')
    }
    // Structurally malformed params are answered here, naming the field, before the SDK's own
    // request schemas turn them into an internal error with a raw validation dump.
    const malformed = malformedRequest(message, TASK_TOOL_NAMES)
    if (malformed !== undefined) {
      const error = new McpServerError('INVALID_PARAMS', malformed.message, { field: malformed.field })
      return sendJson(res, 200, jsonRpcErrorBody(error, malformed.id))
    }
    await this.#config.protocol.handle(req, res, message, scope)
  }

  async #scope(req: IncomingMessage): Promise<RequestScope> {
    try {
      return await scopeOf(req, this.#config.authenticate)
    } catch (error) {
      if (error instanceof McpServerError && error.code === 'UNAUTHENTICATED') {
        const hint = missingTokenHint(this.#config.auth)
        throw new McpServerError('UNAUTHENTICATED', `${error.message}: ${hint}`, { cause: error })
      }
      throw error
    }
  }

  #challengeHeaders(req: IncomingMessage, error: McpServerError): Record<string, string> {
    if (error.code !== 'UNAUTHENTICATED') return {}
    const cause = error.cause instanceof Error ? error.cause.message : error.message
    const challenge = authChallenge(
      this.#config.auth,
      { tokenSent: req.headers.authorization !== undefined, reason: cause },
      `${originOf(req)}${METADATA_PATH}/mcp`,
    )
    return { 'www-authenticate': challenge }
  }
}

function allowOnly(req: IncomingMessage, method: 'GET' | 'POST'): void {
  if (req.method === method) return
  const what = method === 'POST' ? 'POST JSON-RPC messages to /mcp' : 'use GET'
  throw new McpServerError('METHOD_NOT_ALLOWED', `Method not allowed: ${what}`, { field: method })
}

/** The scheme and host the client used (behind a TLS-terminating proxy, as it forwarded them). */
function originOf(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-proto']
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
  return `${proto === 'https' ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
