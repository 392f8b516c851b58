import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { AwsServiceError } from './errors.ts'

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

/** Matches `METHOD /a/{b}/c` templates segment by segment; placeholders take one decoded segment. */
export class Router {
  private readonly routes: { route: Route; segments: string[] }[] = []

  add(...routes: Route[]): void {
    for (const route of routes) this.routes.push({ route, segments: route.path.split('/') })
  }

  /** The names of the operations served (what a fault configuration may name). */
  operations(): Set<string> {
    return new Set(this.routes.map((entry) => entry.route.operation))
  }

  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | undefined {
    const segments = pathname.split('/')
    let pathMatched = false
    for (const candidate of this.routes) {
      const params = matchSegments(candidate.segments, segments)
      if (!params) continue
      pathMatched = true
      if (candidate.route.method === method) return { route: candidate.route, params }
    }
    if (pathMatched) {
      throw new AwsServiceError(
        'UnknownOperationException',
        `Method ${method} is not supported on ${pathname}`,
        {
          status: 405,
        },
      )
    }
    return undefined
  }
}

function matchSegments(template: string[], actual: string[]): Record<string, string> | undefined {
  if (template.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (let index = 0; index < template.length; index++) {
    const expected = template[index] as string
    const value = actual[index] as string
    if (expected.startsWith('{') && expected.endsWith('}')) {
      if (value.length === 0) return undefined
      let decoded: string
      try {
        decoded = decodeURIComponent(value)
      } catch {
        return undefined
      }
      params[expected.slice(1, -1)] = decoded
    } else if (expected !== value) return undefined
  }
  return params
}
