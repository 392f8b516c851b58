/**
 * The local service's operations and how they are served on the HTTP layer: each REST-JSON
 * operation (or raw stream) is one Hono route at its `METHOD /a/{b}/c` template, a placeholder
 * taking one decoded path segment; another method on a served path is a 405.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import {
  allowOnly,
  answeredDirectly,
  type HttpApp,
  type HttpContext,
  jsonAnswer,
  RouteNotFoundError,
} from '../http/index.ts'
import { AwsServiceError } from './errors.ts'
import { parseJsonObject, readBody } from './http-io.ts'

/** What a JSON operation handler receives. */
export interface OperationRequest {
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, unknown>
}

export interface OperationResult {
  readonly status: number
  readonly body: unknown
}

/** A REST-JSON operation: parsed JSON in, JSON out. */
export interface JsonRoute {
  readonly kind: 'json'
  readonly method: string
  readonly path: string
  readonly operation: string
  /** True when the operation writes: a lost response is only simulated for writes. */
  readonly writes: boolean
  handle(request: OperationRequest): OperationResult | Promise<OperationResult>
}

/** An operation that handles the raw request and response itself (streams). */
export interface RawRoute {
  readonly kind: 'raw'
  readonly method: string
  readonly path: string
  readonly operation: string
  handle(
    request: IncomingMessage,
    response: ServerResponse,
    params: Readonly<Record<string, string>>,
    requestId: string,
  ): Promise<void>
}

export type Route = JsonRoute | RawRoute

/** What the service keeps per request: its id (`x-amzn-requestid`) and the operation, for the log line. */
export interface LocalVariables {
  requestId: string
  operation: string
}

export type LocalApp = HttpApp<LocalVariables>
export type LocalContext = HttpContext<LocalVariables>

/** What runs around every operation. */
export interface OperationHooks {
  /** Before the operation does anything (authentication, injected faults); throws to refuse. */
  before(operation: string, c: LocalContext): Promise<void>
  /** After a write succeeded: true when its response is to be lost (an injected fault). */
  loseResponse(operation: string): boolean
  /** Largest JSON body read. */
  readonly maxBodyBytes: number
}

/** Serves `routes` on `app`; answers the names of the operations served (what a fault may name). */
export function registerOperations(
  app: LocalApp,
  routes: readonly Route[],
  hooks: OperationHooks,
): ReadonlySet<string> {
  const methods = new Map<string, string[]>()
  for (const route of routes) {
    const path = honoPath(route.path)
    methods.set(path, [...(methods.get(path) ?? []), route.method])
    app.on(route.method, path, (c) => serve(c, route, hooks))
  }
  for (const [path, allowed] of methods) allowOnly(app, path, allowed)
  return new Set(routes.map((route) => route.operation))
}

async function serve(c: LocalContext, route: Route, hooks: OperationHooks): Promise<Response> {
  const params = decodedParams(c)
  c.set('operation', route.operation)
  await hooks.before(route.operation, c)
  const requestId = c.get('requestId')
  if (route.kind === 'raw') {
    await route.handle(c.env.incoming, c.env.outgoing, params, requestId)
    return answeredDirectly()
  }
  const body = parseJsonObject(await readBody(c.env.incoming, hooks.maxBodyBytes))
  const result = await route.handle({
    params,
    query: new URL(c.req.url).searchParams,
    headers: c.env.incoming.headers,
    body,
  })
  if (route.writes && hooks.loseResponse(route.operation)) {
    throw new AwsServiceError(
      'InternalServerException',
      `${route.operation} succeeded but its response was lost (injected fault)`,
    )
  }
  return jsonAnswer(c, result.status, result.body, { 'x-amzn-requestid': requestId })
}

/** `/a/{b}/c` as Hono writes it, `/a/:b/c`. */
function honoPath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ':$1')
}

/**
 * The path's placeholders, each one decoded segment. A segment that is not valid percent-encoding
 * names no resource: no operation is there.
 */
function decodedParams(c: LocalContext): Record<string, string> {
  const raw = (c.env.incoming.url ?? '/').split('?')[0] as string
  for (const segment of raw.split('/')) {
    try {
      decodeURIComponent(segment)
    } catch {
      throw new RouteNotFoundError(c.req.method, raw)
    }
  }
  return c.req.param() as Record<string, string>
}
