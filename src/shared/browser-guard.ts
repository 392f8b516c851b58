/**
 * What a web page may do to a server that no page should drive (the agent runtime, the local
 * AgentCore service): nothing. Two checks run before a request's body is read:
 *
 * - Host (on a loopback address): a page on a rebound name (`rebind.test` resolving to 127.0.0.1)
 *   is same-origin with the server, so it may send any header and read any answer; only the Host
 *   it sends gives it away.
 * - Origin (everywhere): a browser sends one on every cross-origin POST, a blind `no-cors` one
 *   included, and such a request runs without any CORS answer. SDK clients and server-side callers
 *   send none. A request whose Origin is neither the server's own nor allowed is refused, as is a
 *   browser request that says it comes from another site but names no Origin.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { defaultAllowedHosts, isHostHeaderAllowed, LOOPBACK_HOSTS, WILDCARD_HOSTS } from './host-check.ts'

/** Configuration of {@link BrowserGuard}. */
export interface BrowserGuardConfig {
  /** The address the server listens on. */
  readonly listenHost: string
  /** Host names a request may name; default: the loopback names on a loopback address, else any. */
  readonly allowedHosts?: readonly string[] | undefined
  /** Origins besides the server's own that may call it (`https://app.example.com`); default none. */
  readonly allowedOrigins?: readonly string[] | undefined
}

/** Why a request was refused: a foreign Host (DNS rebinding) or a foreign Origin (a page elsewhere). */
export interface BrowserRefusal {
  readonly reason: 'host' | 'origin'
  readonly message: string
}

/** What the guard reads of a request: its headers and the port it arrived on. */
export interface GuardedRequest {
  readonly headers: IncomingHttpHeaders
  readonly socket: { readonly localPort?: number | undefined }
}

/** An `allowedOrigins` entry that is not an origin: the server does not start. */
export class AllowedOriginError extends TypeError {
  readonly code = 'INVALID_ALLOWED_ORIGIN'
  constructor(value: string) {
    super(
      `allowedOrigins: ${JSON.stringify(value)} is not an origin (scheme://host[:port], nothing after it)`,
    )
    this.name = 'AllowedOriginError'
  }
}

/** Sec-Fetch-Site values of a request a page on another site made. */
const OTHER_SITE = new Set(['cross-site', 'same-site'])

/** Refuses requests a web page made, unless the page is the server's own or explicitly allowed. */
export class BrowserGuard {
  readonly #allowedHosts: readonly string[] | undefined
  readonly #allowedOrigins: ReadonlySet<string>
  /** Host names of the server's own origins (with the port the request arrived on). */
  readonly #ownNames: readonly string[]

  constructor(config: BrowserGuardConfig) {
    this.#allowedHosts = config.allowedHosts ?? defaultAllowedHosts(config.listenHost)
    this.#allowedOrigins = new Set((config.allowedOrigins ?? []).map(parseAllowedOrigin))
    const loopbackReachable =
      LOOPBACK_HOSTS.includes(config.listenHost) || WILDCARD_HOSTS.includes(config.listenHost)
    const names = loopbackReachable ? ['localhost', '127.0.0.1', '[::1]'] : []
    if (!WILDCARD_HOSTS.includes(config.listenHost) && !LOOPBACK_HOSTS.includes(config.listenHost))
      names.push(config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost)
    this.#ownNames = names
  }

  /** Why `request` must be refused, or undefined when it may go on. */
  check(request: GuardedRequest): BrowserRefusal | undefined {
    if (!isHostHeaderAllowed(request, this.#allowedHosts)) {
      return {
        reason: 'host',
        message: `Host ${JSON.stringify(request.headers.host ?? request.headers[':authority'] ?? '')} is not an address of this server: it answers only ${this.#allowedHosts?.join(', ')}`,
      }
    }
    const origin = request.headers.origin
    if (origin === undefined) {
      const site = request.headers['sec-fetch-site']
      if (typeof site === 'string' && OTHER_SITE.has(site))
        return { reason: 'origin', message: 'a request from a page on another site is refused' }
      return undefined
    }
    if (this.#isOwnOrAllowed(origin, request.socket.localPort)) return undefined
    return {
      reason: 'origin',
      message: `Origin ${JSON.stringify(origin)} may not call this server: web pages are refused unless their origin is allowed`,
    }
  }

  #isOwnOrAllowed(origin: string, port: number | undefined): boolean {
    const normalized = originOf(origin)
    if (normalized === undefined) return false
    if (this.#allowedOrigins.has(normalized)) return true
    if (port === undefined) return false
    return this.#ownNames.some((name) => originOf(`http://${name}:${port}`) === normalized)
  }
}

/** `scheme://host[:port]` as browsers serialize it, or undefined for anything else (`null` included). */
function originOf(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === ''
  return bare && url.origin !== 'null' ? url.origin : undefined
}

function parseAllowedOrigin(value: string): string {
  const origin = originOf(value)
  if (origin === undefined) throw new AllowedOriginError(value)
  return origin
}
