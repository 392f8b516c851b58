/**
 * The local service's admin endpoints: `/_local/health` for anyone, and behind the admin bearer
 * token (compared in constant time, whatever its length) `/_local/faults`, `/_local/stats` and
 * `/_local/runtimes`.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { jsonAnswer } from '../http/index.ts'
import { AwsServiceError } from './errors.ts'
import { type FaultInjector, parseFaultConfig } from './faults.ts'
import { parseJsonObject, readBody } from './http-io.ts'
import type { LocalApp, LocalContext } from './router.ts'

/** Largest admin request body. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024

/** What the admin endpoints read and change. */
export interface AdminRoutesConfig {
  /** Without it the endpoints behind the token are off. */
  readonly adminToken: string | undefined
  readonly faults: FaultInjector
  /** The operations a fault configuration may name. */
  readonly operations: () => ReadonlySet<string>
  /** Registers a runtime target (throws on a URL that is not one); answers every target. */
  readonly registerRuntime: (key: string, url: string) => void
  readonly runtimes: () => Record<string, unknown>
}

/** Serves the admin endpoints on `app`. */
export function registerAdminRoutes(app: LocalApp, config: AdminRoutesConfig): void {
  const answer = (c: LocalContext, body: unknown) =>
    jsonAnswer(c, 200, body, { 'x-amzn-requestid': c.get('requestId') })
  app.all('/_local/health', (c) => answer(c, { status: 'ok' }))
  /** SHA-256 of the admin `Authorization` header: compared in constant time, whatever its length. */
  const adminDigest = config.adminToken ? sha256(`Bearer ${config.adminToken}`) : undefined
  app.use('/_local/*', async (c, next) => {
    if (!adminDigest)
      throw new AwsServiceError('UnknownOperationException', 'Admin endpoints are off: set adminToken')
    if (!timingSafeEqual(sha256(c.env.incoming.headers.authorization ?? ''), adminDigest)) {
      throw new AwsServiceError('AccessDeniedException', 'Admin endpoints need the admin bearer token', {
        status: 401,
      })
    }
    await next()
  })
  app.get('/_local/faults', (c) => answer(c, config.faults.get()))
  app.put('/_local/faults', async (c) => {
    const body = parseJsonObject(await readBody(c.env.incoming, MAX_ADMIN_BODY_BYTES))
    const faults = parseFaultConfig(body, config.operations())
    config.faults.set(faults)
    return answer(c, faults)
  })
  app.get('/_local/stats', (c) => answer(c, config.faults.counts()))
  app.delete('/_local/stats', (c) => {
    config.faults.resetCounts()
    return answer(c, {})
  })
  app.put('/_local/runtimes', async (c) => {
    const body = parseJsonObject(await readBody(c.env.incoming, MAX_ADMIN_BODY_BYTES))
    for (const [runtime, target] of Object.entries(body)) {
      if (typeof target !== 'string')
        throw new AwsServiceError('ValidationException', `runtimes.${runtime} must be a URL`)
      try {
        config.registerRuntime(runtime, target)
      } catch {
        throw new AwsServiceError('ValidationException', `runtimes.${runtime} must be a URL`)
      }
    }
    return answer(c, config.runtimes())
  })
  app.all('/_local/*', (c) => {
    throw new AwsServiceError(
      'UnknownOperationException',
      `No admin operation at ${c.req.method} ${c.req.path}`,
    )
  })
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
