/**
 * A worker of the Redis backend, with no HTTP of its own (`longrun worker`): it takes background
 * tasks from the queues, runs them and delivers their results into memory, beside replicas that
 * accept the calls. Run as many as the work needs, on any machine that reaches Redis.
 */
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import { type ContinuationSettings, continuationKinds } from './continuation-jobs.ts'
import { MemoryEventWriter } from './memory-event-writer.ts'
import type { QueueDepthMetricSettings } from './queue-depth-metric.ts'
import { RedisTaskBackend } from './redis-task-backend.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { TaskRunner } from './task-runner.ts'

/** Configuration of {@link TaskWorker}. */
export interface TaskWorkerConfig {
  readonly tools: readonly LongRunningTool[]
  readonly redis: {
    readonly url: string
    /** Redis AUTH's password (ElastiCache's AUTH token). */
    readonly password?: string
    readonly prefix?: string
    readonly connectTimeoutMs?: number
    /** Publish the work owed for a worker service to scale on (MCP_QUEUE_METRIC_*; the region defaults to `region`). */
    readonly queueDepthMetric?: QueueDepthMetricSettings
  }
  /** The AgentCore data-plane client for result events; built from `region`/`agentCoreEndpoint` when absent. */
  readonly memoryClient?: BedrockAgentCoreClient
  readonly region?: string
  readonly agentCoreEndpoint?: string
  readonly taskConcurrency?: number
  readonly leaseMs?: number
  readonly maxAttempts?: number
  readonly heartbeatIntervalMs?: number
  readonly shutdownGraceMs?: number
  readonly deliveryBaseDelayMs?: number
  readonly deliveryMaxDelayMs?: number
  /** The agent runtime a task's end may wake, and the webhook told of it (see the server's). */
  readonly wake?: ContinuationSettings['wake']
  readonly webhook?: ContinuationSettings['webhook']
  readonly logger?: Logger
}

/** A running worker; `close()` stops it (its running tasks go back to the queue). */
export class TaskWorker {
  readonly runner: TaskRunner
  readonly backend: RedisTaskBackend
  readonly #ownsClient: BedrockAgentCoreClient | undefined
  readonly #shutdownGraceMs: number

  private constructor(
    runner: TaskRunner,
    backend: RedisTaskBackend,
    ownsClient: BedrockAgentCoreClient | undefined,
    shutdownGraceMs: number,
  ) {
    this.runner = runner
    this.backend = backend
    this.#ownsClient = ownsClient
    this.#shutdownGraceMs = shutdownGraceMs
  }

  /** Connects to Redis (a clear error naming REDIS_URL when it cannot) and starts taking work. */
  static async start(config: TaskWorkerConfig): Promise<TaskWorker> {
    const logger = config.logger ?? silentLogger
    const ownsClient =
      config.memoryClient === undefined
        ? new BedrockAgentCoreClient({
            region: config.region ?? MCP_SERVER_DEFAULTS.region,
            ...(config.agentCoreEndpoint !== undefined && { endpoint: config.agentCoreEndpoint }),
          })
        : undefined
    const client = config.memoryClient ?? (ownsClient as BedrockAgentCoreClient)
    const writer = new MemoryEventWriter({
      client,
      logger,
      ...(config.deliveryBaseDelayMs !== undefined && { baseDelayMs: config.deliveryBaseDelayMs }),
      ...(config.deliveryMaxDelayMs !== undefined && { maxDelayMs: config.deliveryMaxDelayMs }),
    })
    const health = new HealthStatus()
    let backend: RedisTaskBackend
    try {
      backend = await RedisTaskBackend.connect({
        url: config.redis.url,
        ...(config.redis.password !== undefined && { password: config.redis.password }),
        tools: config.tools,
        writer,
        followUps: continuationKinds(config, { client, clock: Date.now, logger }),
        health,
        logger,
        ...(config.redis.prefix !== undefined && { prefix: config.redis.prefix }),
        ...(config.redis.connectTimeoutMs !== undefined && {
          connectTimeoutMs: config.redis.connectTimeoutMs,
        }),
        ...(config.redis.queueDepthMetric !== undefined && {
          queueDepthMetric: { region: config.region, ...config.redis.queueDepthMetric },
        }),
        ...(config.taskConcurrency !== undefined && { concurrency: config.taskConcurrency }),
        ...(config.leaseMs !== undefined && { leaseMs: config.leaseMs }),
        ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
      })
    } catch (error) {
      ownsClient?.destroy()
      throw error
    }
    const runner = new TaskRunner({
      backend,
      tools: config.tools,
      health,
      logger,
      ...(config.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: config.heartbeatIntervalMs }),
    })
    void writer.checkCredentials()
    await runner.begin()
    logger.log('info', 'task worker running', {
      workerId: backend.workerId,
      tools: config.tools.map((tool) => tool.name).join(','),
    })
    return new TaskWorker(
      runner,
      backend,
      ownsClient,
      config.shutdownGraceMs ?? MCP_SERVER_DEFAULTS.shutdownGraceMs,
    )
  }

  /** Stops taking work, gives running tools the grace period, then returns what is left to the queue. */
  async close(): Promise<void> {
    await this.runner.close(this.#shutdownGraceMs)
    this.#ownsClient?.destroy()
  }
}
