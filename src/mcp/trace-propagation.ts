/**
 * Sends the active trace context with every MCP request: as the W3C `traceparent` header, and in
 * each JSON-RPC request's `params._meta` (where MCP carries request metadata, and which a proxy in
 * between, such as AgentCore Runtime, forwards as it is even when it drops unknown headers). The
 * server continues the trace from either, so its tool-call span is a child of the agent's tool span.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js'
import { currentTraceCarrier } from '../telemetry/index.ts'

/** `fetch` with the active trace context added; unchanged when no span is recording. */
export function traceContextFetch(inner: FetchLike = fetch): FetchLike {
  return (url, init) => {
    const carrier = currentTraceCarrier()
    if (carrier === undefined || init === undefined) return inner(url, init)
    const headers = new Headers(init.headers)
    for (const [name, value] of Object.entries(carrier)) headers.set(name, value)
    return inner(url, { ...init, headers, body: withMeta(init.body, carrier) })
  }
}

/** The JSON-RPC body with `carrier` in each request's `params._meta`; other bodies as they are. */
function withMeta(body: RequestInit['body'], carrier: Readonly<Record<string, string>>): RequestInit['body'] {
  if (typeof body !== 'string') return body
  let message: unknown
  try {
    message = JSON.parse(body)
  } catch {
    return body
  }
  const add = (one: unknown) => {
    if (typeof one !== 'object' || one === null || !('method' in one) || !('id' in one)) return one
    const request = one as { params?: { _meta?: Record<string, unknown> } & Record<string, unknown> }
    const params = request.params ?? {}
    return { ...request, params: { ...params, _meta: { ...params._meta, ...carrier } } }
  }
  return JSON.stringify(Array.isArray(message) ? message.map(add) : add(message))
}
