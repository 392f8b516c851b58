/**
 * The MCP server's machine identity, for waking an agent runtime behind a JWT authorizer (which
 * takes bearer tokens only): an OAuth 2.0 client-credentials client of the runtime's issuer
 * (RFC 6749 section 4.4). Its access token is fetched when a wake needs one and kept until shortly
 * before it expires; a token the runtime refuses is dropped, and the next attempt fetches another.
 */
import { isRecord } from '../shared/is-record.ts'
import { McpServerError } from './errors.ts'

/** The client the server wakes runtimes as. */
export interface WakeClientCredentials {
  /** The issuer's token endpoint (Cognito: `https://<domain>/oauth2/token`). */
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: string
  /** The scope to ask for, when the issuer wants one (Cognito: `<resource server>/<scope>`). */
  readonly scope?: string | undefined
}

/** Access tokens of one client. */
export interface WakeTokens {
  /** A token valid for a while yet. */
  get(): Promise<string>
  /** The runtime refused `token`: the next `get` fetches a new one. */
  refused(token: string): void
}

/** A token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 60_000
/** Used when the issuer names no lifetime. */
const DEFAULT_LIFETIME_MS = 5 * 60_000

/** Tokens fetched with `credentials`, through `fetchImpl` (the global fetch by default). */
export function clientCredentialsTokens(
  credentials: WakeClientCredentials,
  options: { readonly clock?: () => number; readonly fetch?: typeof fetch } = {},
): WakeTokens {
  const clock = options.clock ?? Date.now
  const send = options.fetch ?? fetch
  const url = new URL(credentials.tokenUrl)
  if (url.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    throw new McpServerError(
      'INVALID_CONFIG',
      'MCP_WAKE_TOKEN_URL must be an https URL (a client secret goes to it)',
      {
        field: 'MCP_WAKE_TOKEN_URL',
      },
    )
  let current: { readonly token: string; readonly renewAt: number } | undefined
  let fetching: Promise<string> | undefined
  const fetchToken = async (): Promise<string> => {
    const basic = Buffer.from(
      `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
    ).toString('base64')
    const response = await send(url, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        ...(credentials.scope !== undefined && { scope: credentials.scope }),
      }).toString(),
      signal: AbortSignal.timeout(10_000),
    })
    const body: unknown = await response.json().catch(() => undefined)
    if (!response.ok || !isRecord(body) || typeof body.access_token !== 'string')
      throw Object.assign(new Error(`the token endpoint refused the wake client (HTTP ${response.status})`), {
        code: 'WAKE_TOKEN_REFUSED',
      })
    const lifetimeMs = typeof body.expires_in === 'number' ? body.expires_in * 1000 : DEFAULT_LIFETIME_MS
    current = { token: body.access_token, renewAt: clock() + Math.max(0, lifetimeMs - RENEW_BEFORE_MS) }
    return body.access_token
  }
  return {
    get: () => {
      if (current !== undefined && clock() < current.renewAt) return Promise.resolve(current.token)
      fetching ??= fetchToken().finally(() => {
        fetching = undefined
      })
      return fetching
    },
    refused: (token) => {
      if (current?.token === token) current = undefined
    },
  }
}
