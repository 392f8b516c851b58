/**
 * The AgentCore Runtime HTTP contract: `POST /invocations` (JSON, or `text/event-stream` when the
 * caller accepts it) and `GET /ping`. A thin server of our own rather than the official
 * `bedrock-agentcore` app (0.4.4), which cannot listen on port 0, report its address or be closed,
 * exits the process when listen fails, reports Healthy from an async ping handler, and ends an SSE
 * stream empty when the handler fails. This one checks every request before the agent is built,
 * reports HealthyBusy while turns run, finishes a turn whose caller went away, and drains on close.
 * Its routes (runtime-routes.ts, invocation-route.ts) run on the shared HTTP layer, src/http.
 */
import { HttpServer, nodeListener } from '../http/index.ts'
import { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { type CallerResolver, createCallerResolver } from './caller-identity.ts'
import { runtimeErrorMapping } from './error-answers.ts'
import type { InvocationHandler } from './invocation-handler.ts'
import { InvocationRoute } from './invocation-route.ts'
import { type DisconnectPolicy, RUNTIME_DEFAULTS } from './runtime-defaults.ts'
import { runtimeRoutes } from './runtime-routes.ts'
import { RunningTurns } from './running-turns.ts'

/** Configuration of {@link AgentRuntimeServer}. */
export interface AgentRuntimeServerConfig {
  /** Runs a checked invocation (the agent handler, or a stand-in in tests and benchmarks). */
  readonly handler: InvocationHandler
  /** Default 8080 (the AgentCore contract); 0 picks a free port. */
  readonly port?: number
  /** Default 0.0.0.0 (the container contract); `longrun dev` uses 127.0.0.1. */
  readonly host?: string
  /**
   * Host names a request may name (DNS-rebinding protection); default: the loopback names when
   * `host` is a loopback address, else any (behind AgentCore, Host is the platform's business).
   */
  readonly allowedHosts?: readonly string[]
  /**
   * Web origins besides the runtime's own (`https://app.example.com`) whose pages may call it;
   * default none. A request with any other Origin is refused, on every address.
   */
  readonly allowedOrigins?: readonly string[]
  /** The memory of invocations whose payload names none (MEMORY_ID). */
  readonly defaultMemoryId?: string | undefined
  /** Who is calling; default: the payload's actor_id, else `default`. */
  readonly callers?: CallerResolver
  readonly onDisconnect?: DisconnectPolicy
  readonly turnTimeoutMs?: number
  /** How long close() waits for running turns before aborting them. */
  readonly shutdownGraceMs?: number
  readonly maxPayloadBytes?: number
  readonly maxPromptChars?: number
  /** The `/ping` status; pass one to share it (the runtime's pending memory writes mark it busy too). */
  readonly health?: HealthStatus
  readonly logger?: Logger
}

/** A listening runtime; `close()` drains it. */
export class AgentRuntimeServer {
  readonly health: HealthStatus
  readonly #config: AgentRuntimeServerConfig
  readonly #logger: Logger
  readonly #turns: RunningTurns
  #http: HttpServer | undefined
  #closing = false

  private constructor(config: AgentRuntimeServerConfig) {
    this.#config = config
    this.health = config.health ?? new HealthStatus()
    this.#logger = config.logger ?? silentLogger
    this.#turns = new RunningTurns(this.health)
  }

  /** Listens and resolves once it does. A port in use rejects, and nothing else has changed. */
  static async start(config: AgentRuntimeServerConfig): Promise<AgentRuntimeServer> {
    const server = new AgentRuntimeServer(config)
    const defaults = RUNTIME_DEFAULTS
    const host = config.host ?? defaults.host
    const errors = runtimeErrorMapping(server.#logger)
    const app = runtimeRoutes({
      errors,
      guard: { listenHost: host, allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins },
      health: server.health,
      logger: server.#logger,
      invocations: new InvocationRoute({
        handler: config.handler,
        callers: config.callers ?? createCallerResolver(undefined),
        defaultMemoryId: config.defaultMemoryId,
        onDisconnect: config.onDisconnect ?? defaults.onDisconnect,
        turnTimeoutMs: config.turnTimeoutMs ?? defaults.turnTimeoutMs,
        maxPayloadBytes: config.maxPayloadBytes ?? defaults.maxPayloadBytes,
        maxPromptChars: config.maxPromptChars ?? defaults.maxPromptChars,
        turns: server.#turns,
        logger: server.#logger,
        isClosing: () => server.#closing,
      }),
    })
    server.#http = await HttpServer.listen({
      listener: nodeListener(app, errors),
      port: config.port ?? defaults.port,
      host,
    })
    return server
  }

  /** The port it listens on. */
  get port(): number {
    return this.#listening.port
  }

  /** Its base URL (a wildcard address is reported as loopback). */
  get url(): string {
    return this.#listening.url
  }

  /** Turns running now (a turn whose caller went away included). */
  get running(): number {
    return this.#turns.size
  }

  /**
   * Stops taking invocations (503 SHUTTING_DOWN), lets running turns finish within the grace
   * period, aborts the rest (each still writes what it said to memory), then closes every connection.
   */
  async close(): Promise<void> {
    this.#closing = true
    const graceMs = this.#config.shutdownGraceMs ?? RUNTIME_DEFAULTS.shutdownGraceMs
    await this.#listening.close(() => this.#turns.drain(graceMs, this.#logger))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  get #listening(): HttpServer {
    return this.#http as HttpServer
  }
}
