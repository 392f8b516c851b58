/**
 * DNS-rebinding protection: a browser tricked into calling a server on the user's machine sends a
 * foreign Host (or Origin); a server on a loopback address answers only its own names.
 */
import type { IncomingHttpHeaders } from 'node:http'

/** The names of the loopback interface, as a Host header or URL spells them. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1', '[::1]']

/** The wildcard addresses: every interface, so no one name is the server's own. */
export const WILDCARD_HOSTS: readonly string[] = ['0.0.0.0', '::', '[::]']

/**
 * The host names checked by default: the loopback names when the server listens on a loopback
 * address, else none (a container behind a proxy, where Host is the proxy's business).
 */
export function defaultAllowedHosts(listenHost: string): readonly string[] | undefined {
  return LOOPBACK_HOSTS.includes(listenHost) ? LOOPBACK_HOSTS : undefined
}

/** A request's headers: HTTP/1.1 (`host`) or HTTP/2 (`:authority`, through Node's compatibility API). */
export interface RequestHeaders {
  readonly headers: IncomingHttpHeaders
}

/**
 * True when the request's Host (and HTTP/2 `:authority`) name one of `allowed` (always true
 * without a list). A request that names no host at all is refused when there is a list.
 */
export function isHostHeaderAllowed(req: RequestHeaders, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true
  const named = [req.headers.host, req.headers[':authority']].filter((value) => value !== undefined)
  if (named.length === 0) return false
  return named.every((value) => {
    const host = typeof value === 'string' ? hostnameOf(value) : undefined
    return host !== undefined && allowed.includes(host)
  })
}

/** True when Host, and Origin when sent, name one of `allowed` (always true without a list). */
export function isHostAllowed(req: RequestHeaders, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true
  if (!isHostHeaderAllowed(req, allowed)) return false
  const origin = req.headers.origin
  if (origin === undefined) return true
  const originHost = hostnameOf(origin)
  return originHost !== undefined && allowed.includes(originHost)
}

function hostnameOf(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname
  } catch {
    return undefined
  }
}
