/**
 * DNS-rebinding protection: a browser tricked into calling a server on the user's machine sends a
 * foreign Host (or Origin); a server on a loopback address answers only its own names.
 */
import type { IncomingMessage } from 'node:http'

const LOOPBACK: readonly string[] = ['localhost', '127.0.0.1', '::1', '[::1]']

/**
 * The host names checked by default: the loopback names when the server listens on a loopback
 * address, else none (a container behind a proxy, where Host is the proxy's business).
 */
export function defaultAllowedHosts(listenHost: string): readonly string[] | undefined {
  return LOOPBACK.includes(listenHost) ? LOOPBACK : undefined
}

/** True when Host, and Origin when sent, name one of `allowed` (always true without a list). */
export function isHostAllowed(req: IncomingMessage, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true
  const host = hostnameOf(req.headers.host ?? '')
  if (host === undefined || !allowed.includes(host)) return false
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
