import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { BrowserGuard } from '../shared/browser-guard.ts'
import { formatLogLine, type Logger } from '../shared/logger.ts'
import { ensurePrivateDirectory } from '../shared/private-files.ts'
import { bedrockModelRoutes } from './bedrock-model-endpoint.ts'
import { controlPlaneRoutes } from './control-plane.ts'
import { DualProtocolListener } from './dual-protocol-listener.ts'
import { AwsServiceError } from './errors.ts'
import { type FaultConfig, FaultInjector, parseFaultConfig } from './faults.ts'
import { parseJsonObject, readBody, sendError, sendJson } from './http-io.ts'
import { MAX_REQUEST_BODY_BYTES } from './limits.ts'
import { invokeGatewayRoute, type RuntimeTable, type RuntimeTarget, runtimeIdOf } from './invoke-gateway.ts'
import { memoryDataPlaneRoutes } from './memory-data-plane.ts'
import type { MemoryStore } from './memory-store.ts'
import { openAiModelRoutes } from './openai-model-endpoint.ts'
import { Router } from './router.ts'
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
  private readonly router = new Router()
  private readonly runtimes: RuntimeTable = new Map()
  private readonly config: LocalAgentCoreConfig
  private readonly ownsStore: boolean
  private readonly guard: BrowserGuard
  /** SHA-256 of the admin `Authorization` header: compared in constant time, whatever its length. */
  private readonly adminDigest: Buffer | undefined
  private purgeTimer: NodeJS.Timeout | undefined
  private address: AddressInfo | undefined

  private constructor(config: LocalAgentCoreConfig) {
    this.config = config
    this.ownsStore = config.store === undefined
    this.guard = new BrowserGuard({
      listenHost: config.host ?? '127.0.0.1',
      allowedHosts: config.allowedHosts,
    })
    this.adminDigest = config.adminToken ? sha256(`Bearer ${config.adminToken}`) : undefined
    const logger = config.log && lineLogger(config.log)
    if (config.store === undefined && config.dataDir) ensurePrivateDirectory(config.dataDir, logger)
    this.store =
      config.store ??
      new SqliteMemoryStore({
        path: config.dataDir ? join(config.dataDir, 'agentcore-local.sqlite') : ':memory:',
        ...(logger && { logger }),
      })
    this.faults = new FaultInjector({ ...(config.random ? { random: config.random } : {}) })
    for (const [key, target] of Object.entries(config.runtimes ?? {})) this.registerRuntime(key, target)
    const now = config.now ?? Date.now
    this.router.add(
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
    )
    // Checked against the operations served, as faults set through the admin endpoint are.
    if (config.faults) this.faults.set(parseFaultConfig(config.faults, this.router.operations()))
  }

  /** Starts the service and resolves once it listens. */
  static async start(config: LocalAgentCoreConfig = {}): Promise<LocalAgentCoreService> {
    const service = new LocalAgentCoreService(config)
    try {
      // HTTP/2 requests go through Node's compatibility API, which offers the same members used here.
      service.listener = await DualProtocolListener.listen(
        (request, response) => {
          const http1Response = response as ServerResponse
          service.handle(request as IncomingMessage, http1Response).catch(() => http1Response.destroy())
        },
        { port: config.port ?? 8090, host: config.host ?? '127.0.0.1', keepAliveTimeoutMs: 65_000 },
      )
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

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID()
    const started = performance.now()
    let operation = 'Unknown'
    try {
      // Before anything else, the admin endpoints included: nothing of a page's request is read.
      const refusal = this.guard.check(request)
      if (refusal) {
        this.config.log?.(
          formatLogLine('warn', 'request refused: a web page may not use this service', {
            reason: refusal.reason,
            host: request.headers.host ?? request.headers[':authority'],
            origin: request.headers.origin,
            status: 403,
          }),
        )
        // Its body is left unread: an HTTP/1.1 connection is closed rather than reused.
        if (request.httpVersionMajor === 1) response.setHeader('connection', 'close')
        throw new AwsServiceError('AccessDeniedException', refusal.message)
      }
      const url = new URL(request.url ?? '/', 'http://local')
      if (url.pathname.startsWith('/_local/')) {
        await this.handleAdmin(request, response, url, requestId)
        return
      }
      const matched = this.router.match(request.method ?? 'GET', url.pathname)
      if (!matched)
        throw new AwsServiceError(
          'UnknownOperationException',
          `No operation at ${request.method} ${url.pathname}`,
        )
      operation = matched.route.operation
      this.authenticate(request)
      await this.faults.before(operation)
      if (matched.route.kind === 'raw') {
        await matched.route.handle(request, response, matched.params, requestId)
        return
      }
      const body = parseJsonObject(
        await readBody(request, this.config.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES),
      )
      const result = await matched.route.handle({
        params: matched.params,
        query: url.searchParams,
        headers: request.headers,
        body,
      })
      if (matched.route.writes && this.faults.loseResponse(operation)) {
        throw new AwsServiceError(
          'InternalServerException',
          `${operation} succeeded but its response was lost (injected fault)`,
        )
      }
      sendJson(response, result.status, result.body, requestId)
      this.logLine(operation, result.status, started)
    } catch (error) {
      const serviceError =
        error instanceof AwsServiceError
          ? error
          : new AwsServiceError(
              'InternalServerException',
              'The local AgentCore service failed to handle the request',
            )
      if (!(error instanceof AwsServiceError))
        this.config.log?.(`operation=${operation} error=${String(error)} | unexpected failure`)
      sendError(response, serviceError, requestId)
      this.logLine(operation, serviceError.status, started)
    }
  }

  private logLine(operation: string, status: number, started: number): void {
    this.config.log?.(
      `operation=${operation} status=${status} ms=${(performance.now() - started).toFixed(1)} | request`,
    )
  }

  /** Accepts SigV4-shaped requests (not verified) and, for the invoke gateway, bearer tokens. */
  private authenticate(request: IncomingMessage): void {
    const header = request.headers.authorization
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

  /** `/_local/faults`, `/_local/stats` and `/_local/runtimes`, behind the admin token. */
  private async handleAdmin(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    requestId: string,
  ): Promise<void> {
    if (url.pathname === '/_local/health') {
      sendJson(response, 200, { status: 'ok' }, requestId)
      return
    }
    if (!this.adminDigest)
      throw new AwsServiceError('UnknownOperationException', 'Admin endpoints are off: set adminToken')
    if (!timingSafeEqual(sha256(request.headers.authorization ?? ''), this.adminDigest)) {
      throw new AwsServiceError('AccessDeniedException', 'Admin endpoints need the admin bearer token', {
        status: 401,
      })
    }
    const key = `${request.method} ${url.pathname}`
    if (key === 'GET /_local/faults') sendJson(response, 200, this.faults.get(), requestId)
    else if (key === 'PUT /_local/faults') {
      const faults = parseFaultConfig(
        parseJsonObject(await readBody(request, 64 * 1024)),
        this.router.operations(),
      )
      this.faults.set(faults)
      sendJson(response, 200, faults, requestId)
    } else if (key === 'GET /_local/stats') sendJson(response, 200, this.faults.counts(), requestId)
    else if (key === 'DELETE /_local/stats') {
      this.faults.resetCounts()
      sendJson(response, 200, {}, requestId)
    } else if (key === 'PUT /_local/runtimes') {
      const body = parseJsonObject(await readBody(request, 64 * 1024))
      for (const [runtime, target] of Object.entries(body)) {
        if (typeof target !== 'string')
          throw new AwsServiceError('ValidationException', `runtimes.${runtime} must be a URL`)
        try {
          this.registerRuntime(runtime, target)
        } catch {
          throw new AwsServiceError('ValidationException', `runtimes.${runtime} must be a URL`)
        }
      }
      sendJson(response, 200, Object.fromEntries(this.runtimes), requestId)
    } else throw new AwsServiceError('UnknownOperationException', `No admin operation at ${key}`)
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** The service's `log` as a {@link Logger}, for the parts that log through one. */
function lineLogger(log: (line: string) => void): Logger {
  return { log: (level, message, fields) => log(formatLogLine(level, message, fields)) }
}
