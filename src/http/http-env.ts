/**
 * What every route of the four servers runs with: Hono's context on Node's request and response,
 * which @hono/node-server hands over as `c.env.incoming` / `c.env.outgoing` (the MCP SDK's
 * transport, the invoke gateway's streams and the body reader need them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Context, Hono } from 'hono'

/** Node's request and response (HTTP/2 requests through Node's compatibility API, which offers the same members). */
export interface NodeBindings {
  readonly incoming: IncomingMessage
  readonly outgoing: ServerResponse
}

/** A server's Hono environment: Node's bindings and the server's own per-request variables. */
export interface HttpEnv<V extends object = object> {
  Bindings: NodeBindings
  Variables: V
}

export type HttpApp<V extends object = object> = Hono<HttpEnv<V>>
export type HttpContext<V extends object = object> = Context<HttpEnv<V>>
