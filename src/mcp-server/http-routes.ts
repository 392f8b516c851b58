/**
 * HTTP in, on the shared HTTP layer: `GET /ping` (the Runtime's health contract), the
 * protected-resource metadata, and `POST /mcp`, checked here before JSON-RPC (Host, method,
 * authentication, body size, JSON, empty batches, malformed params) and handed to the protocol
 * server on Node's request and response. Every refusal, the layer's included, goes out through
 * `error-mapping.ts`, in {@link mcpErrorMapping}.
 */
import type { IncomingMessage } from 'node:http'
import {
  allowOnly,
  answeredDirectly,
  createHttpApp,
  type ErrorAnswer,
  type ErrorMapping,
  type HttpApp,
  type HttpContext,
  hostCheck,
  jsonAnswer,
  MalformedRequestError,
  MethodNotAllowedError,
  nodeListener,
  type NodeRequestListener,
  PayloadTooLargeError,
  readBody,
  RouteNotFoundError,
} from '../http/index.ts'
import type { HealthStatus } from '../shared/health-status.ts'
import type { Logger } from '../shared/logger.ts'
import {
  type AuthConfig,
  type Authenticator,
  authChallenge,
  missingTokenHint,
  protectedResourceMetadata,
} from './auth.ts'
import { httpStatusOf, jsonRpcErrorBody } from './error-mapping.ts'
import { McpServerError } from './errors.ts'
import type { ProtocolServer } from './protocol-server.ts'
import { malformedRequest } from './request-params.ts'
import { isModernMessage, type ModernProtocol } from './modern-protocol.ts'
import { type RequestScope, scopeOf } from './request-scope.ts'
import { TASK_TOOL_NAMES } from './task-tools.ts'

/** Configuration of {@link HttpRoutes}. */
export interface HttpRoutesConfig {
  readonly auth: AuthConfig
  readonly authenticate: Authenticator
  readonly allowedHosts: readonly string[] | undefined
  readonly maxBodyBytes: number
  readonly health: HealthStatus
  /** Spec 2025-11-25 and earlier (SDK 1.x). */
  readonly protocol: ProtocolServer
  /** Spec 2026-07-28 (SDK 2.x): requests with its envelope go here; none: every request is 2025's. */
  readonly modern?: ModernProtocol | undefined
  readonly logger: Logger
}

const METADATA_PATH = '/.well-known/oauth-protected-resource'

/** The MCP server's routes, and the Node request listener that runs them. */
export class HttpRoutes {
  readonly app: HttpApp
  readonly listener: NodeRequestListener
  readonly #config: HttpRoutesConfig

  constructor(config: HttpRoutesConfig) {
    this.#config = config
    const errors = mcpErrorMapping(config)
    const app = createHttpApp(errors)
    app.get('/ping', (c) => jsonAnswer(c, 200, config.health.report()))
    allowOnly(app, '/ping', ['GET'])
    for (const path of [METADATA_PATH, `${METADATA_PATH}/mcp`]) {
      app.get(path, (c) => this.#metadata(c))
      allowOnly(app, path, ['GET'])
    }
    app.use(
      '/mcp',
      hostCheck(
        config.allowedHosts,
        () => new McpServerError('HOST_NOT_ALLOWED', 'Host or Origin not allowed'),
      ),
    )
    // Stateless: no standalone SSE stream to GET and no session to DELETE.
    app.post('/mcp', (c) => this.#mcp(c))
    allowOnly(app, '/mcp', ['POST'])
    this.app = app
    this.listener = nodeListener(app, errors)
  }

  #metadata(c: HttpContext): Response {
    const metadata = protectedResourceMetadata(this.#config.auth, `${originOf(c.env.incoming)}/mcp`)
    if (metadata === undefined)
      throw new McpServerError('NOT_FOUND', `no authorization server: ${missingTokenHint(this.#config.auth)}`)
    return jsonAnswer(c, 200, metadata)
  }

  async #mcp(c: HttpContext): Promise<Response> {
    const { incoming, outgoing } = c.env
    const scope = await this.#scope(incoming)
    const body = await readBody(incoming, this.#config.maxBodyBytes)
    const message = parseMessage(body)
    // Structurally malformed params are answered here, naming the field, before the SDK's own
    // request schemas turn them into an internal error with a raw validation dump.
    const malformed = malformedRequest(message, TASK_TOOL_NAMES)
    if (malformed !== undefined) {
      const error = new McpServerError('INVALID_PARAMS', malformed.message, { field: malformed.field })
      return jsonAnswer(c, 200, jsonRpcErrorBody(error, malformed.id))
    }
    // Both eras on one endpoint: a request of spec 2026-07-28 (its `_meta` envelope, no
    // `initialize`, no session) goes to the SDK 2 side; everything else is answered as today.
    const modern = this.#config.modern
    if (modern !== undefined && isModernMessage(message))
      return modern.handle(webRequestOf(c.req.raw, body), message, scope)
    await this.#config.protocol.handle(incoming, outgoing, message, scope)
    return answeredDirectly()
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
}

/**
 * The request as a web `Request` (what the SDK 2 handler takes), with the body already read, and the
 * adapter's signal, which aborts when the caller hangs up (a listen stream or an inline call stops).
 */
function webRequestOf(raw: Request, body: Buffer): Request {
  return new Request(raw.url, {
    method: 'POST',
    headers: raw.headers,
    body: new Uint8Array(body),
    signal: raw.signal,
  })
}

/** The body as one JSON-RPC message or batch; not JSON, or an empty batch, is refused. */
function parseMessage(body: Buffer): unknown {
  let message: unknown
  try {
    message = JSON.parse(body.toString('utf8'))
  } catch {
    throw new McpServerError('PARSE_ERROR', 'Parse error: the body is not valid JSON')
  }
  if (Array.isArray(message) && message.length === 0)
    throw new McpServerError('INVALID_REQUEST', 'Invalid request: an empty batch holds no message')
  return message
}

/**
 * The MCP server's error mapping for the HTTP layer: its own errors and the layer's as JSON-RPC
 * error bodies with the status error-mapping.ts gives them, a 401 with its RFC 6750 challenge.
 */
function mcpErrorMapping(config: Pick<HttpRoutesConfig, 'auth' | 'logger'>): ErrorMapping {
  return {
    logger: config.logger,
    answer: (error, c) => {
      const known = mcpErrorOf(error)
      if (known === undefined) return undefined
      const headers: Record<string, string> = {}
      if (known.code === 'UNAUTHENTICATED' && c !== undefined)
        headers['www-authenticate'] = challengeOf(config.auth, c.env.incoming, known)
      if (known.code === 'METHOD_NOT_ALLOWED' && known.field !== undefined) headers.allow = known.field
      return { status: httpStatusOf(known), body: jsonRpcErrorBody(known), headers }
    },
    internal: (): ErrorAnswer => ({
      status: 500,
      body: { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } },
    }),
  }
}

/** `error` as an McpServerError, or undefined for an error the server does not know. */
function mcpErrorOf(error: unknown): McpServerError | undefined {
  if (error instanceof McpServerError) return error
  if (error instanceof PayloadTooLargeError)
    return new McpServerError('BODY_TOO_LARGE', `request body exceeds ${error.limitBytes} bytes`)
  if (error instanceof RouteNotFoundError)
    return new McpServerError('NOT_FOUND', 'not found: POST JSON-RPC messages to /mcp')
  if (error instanceof MethodNotAllowedError) {
    const what = error.allowed.includes('POST') ? 'POST JSON-RPC messages to /mcp' : 'use GET'
    return new McpServerError('METHOD_NOT_ALLOWED', `Method not allowed: ${what}`, {
      field: error.allowed.join(', '),
    })
  }
  if (error instanceof MalformedRequestError) return new McpServerError('INVALID_REQUEST', error.message)
  return undefined
}

/** The `WWW-Authenticate` challenge of a 401 (see auth.ts). */
function challengeOf(auth: AuthConfig, req: IncomingMessage, error: McpServerError): string {
  const cause = error.cause instanceof Error ? error.cause.message : error.message
  return authChallenge(
    auth,
    { tokenSent: req.headers.authorization !== undefined, reason: cause },
    `${originOf(req)}${METADATA_PATH}/mcp`,
  )
}

/** The scheme and host the client used (behind a TLS-terminating proxy, as it forwarded them). */
function originOf(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-proto']
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
  return `${proto === 'https' ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`
}
