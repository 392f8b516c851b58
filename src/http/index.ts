/**
 * The HTTP layer of the four servers (agent runtime, MCP server, local AgentCore service,
 * console), on Hono and @hono/node-server: a server on a port with its URL and a draining close,
 * bodies read within a limit and drained when refused, server-sent events, the Host and Origin
 * guards as middleware, and the one error hook each server configures with its own mapping.
 */
export { answeredDirectly, jsonAnswer } from './answers.ts'
export { onCallerGone } from './caller-gone.ts'
export { type ErrorAnswer, type ErrorMapping } from './error-hook.ts'
export { browserGuard, hostCheck } from './guards.ts'
export { allowOnly, createHttpApp } from './http-app.ts'
export { HTTP_DEFAULTS } from './http-defaults.ts'
export type { HttpApp, HttpContext } from './http-env.ts'
export {
  HttpLayerError,
  MalformedRequestError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
} from './http-errors.ts'
export { HttpServer } from './http-server.ts'
export { nodeListener, type NodeRequestListener } from './node-listener.ts'
export { type BodySource, readBody } from './read-body.ts'
export { SseWriter } from './sse-writer.ts'
