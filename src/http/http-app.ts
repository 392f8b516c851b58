/**
 * One Hono app per server. A path it has no route for, and a method a path does not take, are the
 * layer's own errors, which the server's error mapping words like any other. Hono's `tiny` preset
 * (its pattern router): each server has a handful of routes, and it loads fastest, which a cold
 * runtime pays before its first /ping.
 */
import { Hono } from 'hono/tiny'
import { type ErrorMapping, errorHook } from './error-hook.ts'
import type { HttpApp, HttpEnv } from './http-env.ts'
import { MethodNotAllowedError, RouteNotFoundError } from './http-errors.ts'

/** Builds a server's app: its error mapping answers every error, the layer's included. */
export function createHttpApp<V extends object = object>(errors: ErrorMapping<V>): HttpApp<V> {
  const app = new Hono<HttpEnv<V>>()
  app.notFound((c) => {
    throw new RouteNotFoundError(c.req.method, c.req.path)
  })
  app.onError(errorHook(errors))
  return app
}

/**
 * Refuses every method but `allowed` at `path` (405 with `Allow`); register it after the path's
 * routes, which answer first. A GET route answers HEAD too.
 */
export function allowOnly<V extends object>(app: HttpApp<V>, path: string, allowed: readonly string[]): void {
  app.all(path, (c) => {
    throw new MethodNotAllowedError(c.req.method, c.req.path, allowed)
  })
}
