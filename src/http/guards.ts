/**
 * The Host and Origin checks as middleware, run before a route reads anything of the request.
 * Each server words the refusal in its own errors.
 */
import type { MiddlewareHandler } from 'hono'
import { BrowserGuard, type BrowserGuardConfig, type BrowserRefusal } from '../shared/browser-guard.ts'
import { isHostAllowed } from '../shared/host-check.ts'
import { closeWithoutReading } from './unread-bodies.ts'
import type { HttpContext, HttpEnv } from './http-env.ts'

/**
 * Refuses a web page's request (a foreign Host on loopback, a foreign Origin anywhere; see
 * browser-guard.ts) with the server's error, and closes the connection rather than read its body.
 * Building it checks `allowedOrigins` (AllowedOriginError), so a server with a bad one never starts.
 */
export function browserGuard<V extends object = object>(
  config: BrowserGuardConfig,
  refuse: (refusal: BrowserRefusal, c: HttpContext<V>) => Error,
): MiddlewareHandler<HttpEnv<V>> {
  const guard = new BrowserGuard(config)
  return async (c, next) => {
    const refusal = guard.check(c.env.incoming)
    if (refusal !== undefined) {
      closeWithoutReading(c.env.incoming)
      throw refuse(refusal, c)
    }
    await next()
  }
}

/**
 * Refuses a request whose Host, or Origin when sent, is not one of `allowedHosts` (DNS-rebinding
 * protection; no check without a list).
 */
export function hostCheck<V extends object = object>(
  allowedHosts: readonly string[] | undefined,
  refuse: (c: HttpContext<V>) => Error,
): MiddlewareHandler<HttpEnv<V>> {
  return async (c, next) => {
    if (!isHostAllowed(c.env.incoming, allowedHosts)) throw refuse(c)
    await next()
  }
}
