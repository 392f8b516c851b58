/**
 * The long-running MCP server, wired: the task store and runner, result delivery into memory, the
 * HTTP routes and the protocol server. `start()` listens before it recovers anything, so a process
 * that cannot start (a port in use, bad config) changes nothing.
 *
 * Where a request goes: http-routes.ts (HTTP checks) -> protocol-server.ts (JSON-RPC) ->
 * tool-calls.ts (tools/call) -> inline-calls.ts | task-tools.ts | spec-tasks.ts -> task-runner.ts.
 */
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { HttpServer } from '../http/index.ts'
import { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { type AuthConfig, createAuthenticator } from './auth.ts'
import { defaultAllowedHosts } from '../shared/host-check.ts'
import { HttpRoutes } from './http-routes.ts'
import { InlineCalls } from './inline-calls.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import { ModernProtocol } from './modern-protocol.ts'
import { ProtocolServer } from './protocol-server.ts'
import type { QueueDepthMetricSettings } from './queue-depth-metric.ts'
import { MemoryEventWriter } from './memory-event-writer.ts'
import type { AfterEndKind } from './after-end-jobs.ts'
import { type ContinuationSettings, continuationKinds } from './continuation-jobs.ts'
import type { WebhookConfig } from './webhook-notice.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { SpecTasks } from './spec-tasks.ts'
import { RedisTaskBackend } from './redis-task-backend.ts'
import { SqliteTaskBackend } from './sqlite-task-backend.ts'
import type { TaskBackend } from './task-backend.ts'
import { TaskRunner } from './task-runner.ts'
import { TaskTools } from './task-tools.ts'
import { ToolCalls } from './tool-calls.ts'
import { ToolCatalog } from './tool-catalog.ts'

/** Configuration of {@link LongRunningMcpServer}. */
export interface LongRunningMcpServerConfig {
  readonly tools: readonly LongRunningTool[]
  readonly auth: AuthConfig
  /** Default 8000 (the AgentCore Runtime MCP contract); 0 picks a free port. Defaults: MCP_SERVER_DEFAULTS. */
  readonly port?: number
  /** Default 0.0.0.0. */
  readonly host?: string
  /**
   * Host names accepted in `Host` and `Origin` (DNS-rebinding protection). Default: loopback names
   * when `host` is a loopback address, else no check (a container behind the Runtime's proxy).
   */
  readonly allowedHosts?: readonly string[]
  /** Where the task database lives (default `.longrun`). */
  readonly dataDir?: string
  /**
   * Another task backend (Redis, or the benchmark's in-memory baseline) instead of SQLite in
   * `dataDir`; it then delivers results itself, with the writer it was built with.
   */
  readonly backend?: TaskBackend
  /**
   * Tasks on Redis (BullMQ) instead of SQLite: replicas behind a load balancer and workers on any
   * machine share them. `runWorker: false` makes this process a stateless replica that accepts
   * calls and answers for tasks while `longrun worker` processes run them.
   */
  readonly redis?: {
    readonly url: string
    /** Redis AUTH's password (ElastiCache's AUTH token). */
    readonly password?: string
    readonly runWorker?: boolean
    readonly prefix?: string
    readonly connectTimeoutMs?: number
    /** Publish the work owed for a worker service to scale on (MCP_QUEUE_METRIC_*; the region defaults to `region`). */
    readonly queueDepthMetric?: QueueDepthMetricSettings
  }
  /** Tasks running at once per process for tools that declare no limit (MCP_TASK_CONCURRENCY). */
  readonly taskConcurrency?: number
  /** Tasks waiting at once per process; a start beyond it is refused (MCP_TASK_QUEUE_LIMIT). */
  readonly queueLimit?: number
  /** A running task's lease (MCP_TASK_LEASE_MS): others take it over only once it runs out. */
  readonly leaseMs?: number
  /** Runs of an interrupted task before it is failed instead of run again. */
  readonly maxAttempts?: number
  /** The AgentCore data-plane client for result events; built from `region`/`agentCoreEndpoint` when absent. */
  readonly memoryClient?: BedrockAgentCoreClient
  readonly region?: string
  /** AGENTCORE_ENDPOINT: the local service in development and tests. */
  readonly agentCoreEndpoint?: string
  /**
   * Heartbeat interval of inline calls, default 10 s: a `notifications/message`, and, when the caller
   * sent a progressToken, a `notifications/progress` too (so clients that reset their timeout on
   * progress keep waiting while a tool is silent).
   */
  readonly heartbeatIntervalMs?: number
  /** How long close() (SIGTERM) waits for aborted tools to stop, default 10 s. */
  readonly shutdownGraceMs?: number
  /** How long ended tasks are kept, default 7 days. */
  readonly taskTtlMs?: number
  readonly pollIntervalMs?: number
  /** Largest accepted request body, default 4 MiB. */
  readonly maxBodyBytes?: number
  /**
   * Continuations: the agent runtime (its ARN) this server wakes when a task of a tool with
   * `onEnd: 'wake'` ends and its result is in memory. Without it no task wakes anyone. Wakes are
   * sent with the AgentCore client results are written with (SigV4, the server's own role).
   */
  readonly wake?: ContinuationSettings['wake']
  /** Where each continuation's notice is sent (Standard Webhooks), when one is wanted. */
  readonly webhook?: WebhookConfig
  /** Retry delays of memory delivery (and of wakes and notices). */
  readonly deliveryBaseDelayMs?: number
  readonly deliveryMaxDelayMs?: number
  readonly clock?: () => number
  readonly newTaskId?: () => string
  readonly logger?: Logger
  readonly serverInfo?: { name: string; version: string }
}

/** A running server; `close()` stops it (running tasks are left to be recovered, as after a crash). */
export class LongRunningMcpServer {
  readonly url: string
  readonly port: number
  readonly runner: TaskRunner
  readonly backend: TaskBackend
  readonly health: HealthStatus
  readonly #http: HttpServer
  readonly #ownsClient: BedrockAgentCoreClient | undefined
  readonly #shutdownGraceMs: number
  readonly #modern: ModernProtocol

  private constructor(parts: {
    url: string
    port: number
    runner: TaskRunner
    backend: TaskBackend
    health: HealthStatus
    http: HttpServer
    ownsClient: BedrockAgentCoreClient | undefined
    shutdownGraceMs: number
    modern: ModernProtocol
  }) {
    this.url = parts.url
    this.port = parts.port
    this.runner = parts.runner
    this.backend = parts.backend
    this.health = parts.health
    this.#http = parts.http
    this.#ownsClient = parts.ownsClient
    this.#shutdownGraceMs = parts.shutdownGraceMs
    this.#modern = parts.modern
  }

  /**
   * Opens the backend and listens; only then recovers interrupted tasks, takes queued work and
   * resumes owed deliveries, so a start that fails (a port in use) re-runs nothing and claims no
   * delivery.
   */
  static async start(config: LongRunningMcpServerConfig): Promise<LongRunningMcpServer> {
    const defaults = MCP_SERVER_DEFAULTS
    const logger = config.logger ?? silentLogger
    const clock = config.clock ?? Date.now
    const authenticate = createAuthenticator(config.auth)
    const catalog = new ToolCatalog(config.tools)
    const health = new HealthStatus(clock)
    // Results are written by our own backend; a backend of the caller's brings its own writer.
    const ownsClient =
      config.backend === undefined && config.memoryClient === undefined
        ? new BedrockAgentCoreClient({
            region: config.region ?? MCP_SERVER_DEFAULTS.region,
            ...(config.agentCoreEndpoint !== undefined && { endpoint: config.agentCoreEndpoint }),
          })
        : undefined
    const memoryClient = config.memoryClient ?? ownsClient
    const writer =
      config.backend === undefined && memoryClient !== undefined
        ? new MemoryEventWriter({
            client: memoryClient,
            logger,
            ...(config.deliveryBaseDelayMs !== undefined && { baseDelayMs: config.deliveryBaseDelayMs }),
            ...(config.deliveryMaxDelayMs !== undefined && { maxDelayMs: config.deliveryMaxDelayMs }),
          })
        : undefined
    let followUps: AfterEndKind[]
    try {
      followUps =
        memoryClient === undefined ? [] : continuationKinds(config, { client: memoryClient, clock, logger })
    } catch (error) {
      // A wake or webhook setting refused at start: nothing was opened but this client.
      ownsClient?.destroy()
      throw error
    }
    const backend = config.backend ?? (await backendOf(config, { writer, followUps, health, clock, logger }))
    const runner = new TaskRunner({
      backend,
      tools: config.tools,
      health,
      clock,
      logger,
      ...(config.taskTtlMs !== undefined && { ttlMs: config.taskTtlMs }),
      ...(config.pollIntervalMs !== undefined && { pollIntervalMs: config.pollIntervalMs }),
      ...(config.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: config.heartbeatIntervalMs }),
      ...(config.newTaskId !== undefined && { newTaskId: config.newTaskId }),
    })
    const deliversResults = backend.deliversResults
    const inlineCalls = new InlineCalls(runner)
    const toolCalls = new ToolCalls({
      catalog,
      runner,
      taskTools: new TaskTools(runner, deliversResults),
      inlineCalls,
      deliversResults,
    })
    const protocol = new ProtocolServer({
      serverInfo: config.serverInfo ?? defaults.serverInfo,
      catalog,
      toolCalls,
      specTasks: new SpecTasks(runner),
      inlineCalls,
    })
    const modern = new ModernProtocol({
      serverInfo: config.serverInfo ?? defaults.serverInfo,
      catalog,
      toolCalls,
      runner,
    })
    const host = config.host ?? defaults.host
    const routes = new HttpRoutes({
      modern,
      auth: config.auth,
      authenticate,
      allowedHosts: config.allowedHosts ?? defaultAllowedHosts(host),
      maxBodyBytes: config.maxBodyBytes ?? defaults.maxBodyBytes,
      health,
      protocol,
      logger,
    })
    let http: HttpServer
    try {
      http = await HttpServer.listen({ listener: routes.listener, port: config.port ?? defaults.port, host })
    } catch (error) {
      await backend.close()
      ownsClient?.destroy()
      throw error
    }
    // Listening: from here on this process takes work, and takes over what stopped processes left.
    // Said at start when delivery has no credentials (in the background: the chain may ask IMDS).
    void writer?.checkCredentials()
    const recovered = await runner.begin()
    if (recovered.rerun + recovered.failed > 0)
      logger.log('info', 'recovered interrupted tasks', { ...recovered })
    const port = http.port
    logger.log('info', 'MCP server listening', {
      port,
      tools: config.tools.map((tool) => tool.name).join(','),
    })
    return new LongRunningMcpServer({
      url: `${http.url}/mcp`,
      port,
      runner,
      backend,
      health,
      http,
      ownsClient,
      shutdownGraceMs: config.shutdownGraceMs ?? defaults.shutdownGraceMs,
      modern,
    })
  }

  /**
   * Stops accepting requests, aborts running tools and waits for them at most `shutdownGraceMs`
   * (results of tools that still return are kept and answered), then closes every connection. Tasks
   * left running are recovered at the next start, as after a crash.
   */
  async close(): Promise<void> {
    await this.#http.close(async () => {
      await this.runner.close(this.#shutdownGraceMs)
    })
    await this.#modern.close()
    this.#ownsClient?.destroy()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** The backend the config names: Redis when `redis` is set, else SQLite in the data directory. */
async function backendOf(
  config: LongRunningMcpServerConfig,
  parts: {
    writer: MemoryEventWriter | undefined
    followUps: readonly AfterEndKind[]
    health: HealthStatus
    clock: () => number
    logger: Logger
  },
): Promise<TaskBackend> {
  const shared = {
    tools: config.tools,
    health: parts.health,
    logger: parts.logger,
    followUps: parts.followUps,
    ...(parts.writer !== undefined && { writer: parts.writer }),
    ...(config.taskConcurrency !== undefined && { concurrency: config.taskConcurrency }),
    ...(config.queueLimit !== undefined && { queueLimit: config.queueLimit }),
    ...(config.leaseMs !== undefined && { leaseMs: config.leaseMs }),
    ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
  }
  if (config.redis !== undefined) {
    return RedisTaskBackend.connect({
      ...shared,
      url: config.redis.url,
      ...(config.redis.password !== undefined && { password: config.redis.password }),
      ...(config.redis.runWorker !== undefined && { runWorker: config.redis.runWorker }),
      ...(config.redis.prefix !== undefined && { prefix: config.redis.prefix }),
      ...(config.redis.connectTimeoutMs !== undefined && { connectTimeoutMs: config.redis.connectTimeoutMs }),
      ...(config.redis.queueDepthMetric !== undefined && {
        queueDepthMetric: { region: config.region, ...config.redis.queueDepthMetric },
      }),
    })
  }
  return new SqliteTaskBackend({
    ...shared,
    dataDir: config.dataDir ?? MCP_SERVER_DEFAULTS.dataDir,
    clock: parts.clock,
  })
}
