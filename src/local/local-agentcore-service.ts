import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { browserGuard, createHttpApp, type ErrorMapping, nodeListener } from '../http/index.ts'
import { formatLogLine, type Logger, silentLogger } from '../shared/logger.ts'
import { ensurePrivateDirectory } from '../shared/private-files.ts'
import { registerAdminRoutes } from './admin-routes.ts'
import { bedrockModelRoutes } from './bedrock-model-endpoint.ts'
import { controlPlaneRoutes } from './control-plane.ts'
import { DualProtocolListener } from './dual-protocol-listener.ts'
import { localErrorMapping } from './error-answers.ts'
import { AwsServiceError } from './errors.ts'
import { type FaultConfig, FaultInjector, parseFaultConfig } from './faults.ts'
import { MAX_REQUEST_BODY_BYTES } from './limits.ts'
import { invokeGatewayRoute, type RuntimeTable, type RuntimeTarget, runtimeIdOf } from './invoke-gateway.ts'
import { memoryDataPlaneRoutes } from './memory-data-plane.ts'
import type { MemoryStore } from './memory-store.ts'
import { openAiModelRoutes } from './openai-model-endpoint.ts'
import { type LocalApp, type LocalContext, type LocalVariables, registerOperations } from './router.ts'
import { SqliteMemoryStore } from './sqlite-memory-store.ts'

/** Configuration of {@link LocalAgentCoreService}. Every field has a default. */
export interface LocalAgentCoreConfig {
  /** Interface to bind; default 127.0.0.1. */
  readonly host?: string
  /**
   * Host names a request may name (DNS-rebinding protection); default: the loopback names when
   * `host` is a loopback address, else any.
   */
  readonly allowedHosts?: readonly string[]
  /** Port; default 8090, 0 picks a free one. */
  readonly port?: number
  /** Directory of the SQLite file, kept owner-only; without it (and without `store`) data lives in memory. */
  readonly dataDir?: string
  /** A store of your own; takes precedence over `dataDir`. */
  readonly store?: MemoryStore
  readonly region?: string
  readonly accountId?: string
  /** Runtimes that InvokeAgentRuntime reaches: key is an ARN, a runtime id, or `*`. */
  readonly runtimes?: Readonly<Record<string, string | RuntimeTarget>>
  readonly faults?: FaultConfig
  readonly random?: () => number
  /** Enables the `/_local/*` admin endpoints for callers presenting this bearer token. */
  readonly adminToken?: string
  /** Access key ids accepted in SigV4 headers; when unset any signed request is accepted. */
  readonly accessKeyIds?: readonly string[]
  /** Largest JSON request body; default 32 MiB (100 payloads of 100,000 characters fit). */
  readonly maxBodyBytes?: number
  /** InvokeAgentRuntime limits; defaults are AgentCore's (100 MB, 15 min, 60 min). */
  readonly maxPayloadBytes?: number
  readonly requestTimeoutMs?: number
  readonly streamTimeoutMs?: number
  readonly now?: () => number
  /** Receives one `key=value | message` line per request; default: nothing. */
  readonly log?: (line: string) => void
}

const SIGV4_PREFIX = 'AWS4-HMAC-SHA256 Credential='

/**
 * The local AgentCore service: Memory data plane, control plane and the runtime invoke gateway on
 * one port, speaking the REST-JSON protocol of the AWS SDK v3 clients; beside them, a Bedrock
 * Converse / ConverseStream endpoint (HTTP/2, as the Bedrock Runtime client speaks it) and an
 * OpenAI-compatible `/v1/chat/completions`, both answering with the offline demo model.
 *
 * Signatures are checked for presence and access key id, not verified: this is a development and
 * test service, bound to loopback by default. No web page may use it: on loopback a request must
 * name a loopback Host (a rebound DNS name is refused), and a request carrying a browser's Origin
 * is refused everywhere (its clients, the AWS SDK and the console's backend, send none).
 */
export class LocalAgentCoreService {
  /** Injected faults and per-operation call counts. */
  readonly faults: FaultInjector
  readonly store: MemoryStore
  private listener: DualProtocolListener | undefined
  private readonly app: LocalApp
  private readonly runtimes: RuntimeTable = new Map()
  private readonly config: LocalAgentCoreConfig
  private readonly ownsStore: boolean
  private readonly errors: ErrorMapping<LocalVariables>
  /** The operations served (what a fault configuration may name). */
  private readonly operations: ReadonlySet<string>
  private purgeTimer: NodeJS.Timeout | undefined
  private address: AddressInfo | undefined

  private constructor(config: LocalAgentCoreConfig) {
    this.config = config
    this.ownsStore = config.store === undefined
    const logger = config.log && lineLogger(config.log)
    this.errors = localErrorMapping(logger ?? silentLogger)
    if (config.store === undefined && config.dataDir) ensurePrivateDirectory(config.dataDir, logger)
    this.store =
      config.store ??
      new SqliteMemoryStore({
        path: config.dataDir ? join(config.dataDir, 'agentcore-local.sqlite') : ':memory:',
        ...(logger && { logger }),
      })
    this.faults = new FaultInjector({ ...(config.random ? { random: config.random } : {}) })
    for (const [key, target] of Object.entries(config.runtimes ?? {})) this.registerRuntime(key, target)
    this.app = createHttpApp(this.errors)
    this.app.use((c, next) => this.logRequest(c, next))
    // Before anything else, the admin endpoints included: nothing of a page's request is read.
    this.app.use(
      browserGuard(
        { listenHost: config.host ?? '127.0.0.1', allowedHosts: config.allowedHosts },
        (refusal, c) => {
          config.log?.(
            formatLogLine('warn', 'request refused: a web page may not use this service', {
              reason: refusal.reason,
              host: c.env.incoming.headers.host ?? c.env.incoming.headers[':authority'],
              origin: c.env.incoming.headers.origin,
              status: 403,
            }),
          )
          return new AwsServiceError('AccessDeniedException', refusal.message)
        },
      ),
    )
    registerAdminRoutes(this.app, {
      adminToken: config.adminToken,
      faults: this.faults,
      operations: () => this.operations,
      registerRuntime: (key, url) => this.registerRuntime(key, url),
      runtimes: () => Object.fromEntries(this.runtimes),
    })
    const now = config.now ?? Date.now
    this.operations = registerOperations(
      this.app,
      [
        ...memoryDataPlaneRoutes({ store: this.store, now }),
        ...controlPlaneRoutes({
          store: this.store,
          now,
          region: config.region ?? 'us-east-1',
          accountId: config.accountId ?? '123456789012',
        }),
        invokeGatewayRoute({
          runtimes: this.runtimes,
          maxPayloadBytes: config.maxPayloadBytes ?? 100 * 1024 * 1024,
          requestTimeoutMs: config.requestTimeoutMs ?? 15 * 60_000,
          streamTimeoutMs: config.streamTimeoutMs ?? 60 * 60_000,
        }),
        ...bedrockModelRoutes(),
        ...openAiModelRoutes(),
      ],
      {
        maxBodyBytes: config.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES,
        before: async (operation, c) => {
          this.authenticate(c)
          await this.faults.before(operation)
        },
        loseResponse: (operation) => this.faults.loseResponse(operation),
      },
    )
    // Checked against the operations served, as faults set through the admin endpoint are.
    if (config.faults) this.faults.set(parseFaultConfig(config.faults, this.operations))
  }

  /** Starts the service and resolves once it listens. */
  static async start(config: LocalAgentCoreConfig = {}): Promise<LocalAgentCoreService> {
    const service = new LocalAgentCoreService(config)
    try {
      service.listener = await DualProtocolListener.listen(nodeListener(service.app, service.errors), {
        port: config.port ?? 8090,
        host: config.host ?? '127.0.0.1',
      })
    } catch (error) {
      if (service.ownsStore) service.store.close()
      throw error
    }
    service.address = service.listener.address()
    service.store.purgeExpiredEvents((config.now ?? Date.now)())
    service.purgeTimer = setInterval(
      () => service.store.purgeExpiredEvents((config.now ?? Date.now)()),
      3_600_000,
    )
    service.purgeTimer.unref()
    return service
  }

  /** The base URL to give the AWS SDK clients as `endpoint`. */
  get url(): string {
    if (!this.address) throw new Error('the service is not listening')
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address
    return `http://${host}:${this.address.port}`
  }

  get port(): number {
    if (!this.address) throw new Error('the service is not listening')
    return this.address.port
  }

  /** Routes InvokeAgentRuntime for an ARN, a runtime id, or `*`, to a runtime's base URL. */
  registerRuntime(key: string, target: string | RuntimeTarget): void {
    const resolved = typeof target === 'string' ? { url: target } : target
    new URL(resolved.url)
    this.runtimes.set(key, resolved)
    // Callers may name a runtime by its id (with accountId): index the id too, unless taken.
    const id = runtimeIdOf(key)
    if (id !== undefined && !this.runtimes.has(id)) this.runtimes.set(id, resolved)
  }

  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer)
    await this.listener?.close()
    if (this.ownsStore) this.store.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** Gives the request its id, and logs one `operation=... status=... ms=... | request` line once it is answered. */
  private async logRequest(c: LocalContext, next: () => Promise<void>): Promise<void> {
    const started = performance.now()
    c.set('requestId', randomUUID())
    c.set('operation', 'Unknown')
    await next()
    const { outgoing } = c.env
    const status = outgoing.headersSent ? outgoing.statusCode : c.res.status
    this.config.log?.(
      `operation=${c.get('operation')} status=${status} ms=${(performance.now() - started).toFixed(1)} | request`,
    )
  }

  /** Accepts SigV4-shaped requests (not verified) and, for the invoke gateway, bearer tokens. */
  private authenticate(c: LocalContext): void {
    const header = c.env.incoming.headers.authorization
    if (typeof header !== 'string' || header.length === 0) {
      throw new AwsServiceError(
        'AccessDeniedException',
        'Missing Authentication Token: sign the request with SigV4',
      )
    }
    if (header.startsWith('Bearer ')) return
    if (!header.startsWith(SIGV4_PREFIX)) {
      throw new AwsServiceError(
        'AccessDeniedException',
        'Authorization must be an AWS Signature Version 4 header',
      )
    }
    const accessKeyId = header.slice(SIGV4_PREFIX.length).split('/')[0] ?? ''
    const allowed = this.config.accessKeyIds
    if (allowed && !allowed.includes(accessKeyId)) {
      throw new AwsServiceError('AccessDeniedException', `The access key id ${accessKeyId} is not allowed`)
    }
  }
}

/** The service's `log` as a {@link Logger}, for the parts that log through one. */
function lineLogger(log: (line: string) => void): Logger {
  return { log: (level, message, fields) => log(formatLogLine(level, message, fields)) }
}
