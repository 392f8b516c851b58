/**
 * The runtime's routes on the HTTP layer: the Host/Origin guard before anything is read, `GET
 * /ping`, `POST /invocations`, and every other path or method refused with the runtime's own codes.
 */
import {
  allowOnly,
  browserGuard,
  createHttpApp,
  type ErrorMapping,
  type HttpApp,
  jsonAnswer,
} from '../http/index.ts'
import type { BrowserGuardConfig } from '../shared/browser-guard.ts'
import type { HealthStatus } from '../shared/health-status.ts'
import type { Logger } from '../shared/logger.ts'
import { RuntimeError } from './errors.ts'
import type { InvocationRoute } from './invocation-route.ts'

/** What the routes answer with. */
export interface RuntimeRoutesConfig {
  readonly guard: BrowserGuardConfig
  readonly health: HealthStatus
  readonly invocations: InvocationRoute
  readonly errors: ErrorMapping
  readonly logger: Logger
}

/** The runtime's app. */
export function runtimeRoutes(config: RuntimeRoutesConfig): HttpApp {
  const { logger } = config
  const app = createHttpApp(config.errors)
  // A web page's request is refused before its body is read or anything is built.
  app.use(
    browserGuard(config.guard, (refusal, c) => {
      const error =
        refusal.reason === 'host'
          ? new RuntimeError('HOST_NOT_ALLOWED', refusal.message, { field: 'host' })
          : new RuntimeError('ORIGIN_NOT_ALLOWED', refusal.message, { field: 'origin' })
      logger.log('warn', 'request refused: a web page may not call the runtime', {
        code: error.code,
        host: c.env.incoming.headers.host,
        origin: c.env.incoming.headers.origin,
      })
      return error
    }),
  )
  app.get('/ping', (c) => jsonAnswer(c, 200, config.health.report()))
  allowOnly(app, '/ping', ['GET'])
  app.post('/invocations', (c) => config.invocations.handle(c))
  allowOnly(app, '/invocations', ['POST'])
  return app
}
