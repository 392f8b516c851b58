/**
 * Every default of the long-running MCP server, defined once: the server's config, the task
 * runner, result delivery and the environment (`src/config.ts`) all read them from here.
 */
import { availableParallelism } from 'node:os'

export const MCP_SERVER_DEFAULTS = {
  /** The AgentCore Runtime MCP contract: port 8000, path /mcp. */
  port: 8000,
  host: '0.0.0.0',
  dataDir: '.longrun',
  serverInfo: { name: 'longrun-mcp-server', version: '0.1.0' },
  /** Heartbeat of inline calls: a log message, and a progress notification when the caller sent a token. */
  heartbeatIntervalMs: 10_000,
  /** How long close() (SIGTERM) waits for aborted tools to stop. */
  shutdownGraceMs: 10_000,
  /** How long ended tasks (and their results) are kept. */
  taskTtlMs: 7 * 24 * 3600 * 1000,
  /** The poll interval suggested to spec-task clients. */
  pollIntervalMs: 1000,
  /** Largest accepted request body. */
  maxBodyBytes: 4 * 1024 * 1024,
  /** An interrupted task is failed instead of re-run once it has started this many times. */
  maxAttempts: 3,
  /**
   * Tasks executing at once per process (for tools that declare no limit of their own): one per
   * core, at least two, so CPU-bound tools do not slow each other down and a burst cannot decide
   * how much work runs.
   */
  taskConcurrency: Math.max(2, availableParallelism()),
  /** Tasks waiting for a slot per process; a start beyond it is refused (QUEUE_FULL) and nothing is stored. */
  queueLimit: 10_000,
  /** A running task's lease: another process takes it over only once its owner stopped renewing for this long. */
  leaseMs: 30_000,
  /** How often a SQLite process looks for its running tasks cancelled by another (at most a third of the lease). */
  cancelPollMs: 1000,
  /** First retry delay of a memory write, doubled per attempt up to deliveryMaxDelayMs. */
  deliveryBaseDelayMs: 200,
  deliveryMaxDelayMs: 60_000,
  /** How long one webhook delivery of a continuation notice may take before it is retried. */
  webhookTimeoutMs: 10_000,
  /** Memory writes in flight at once. */
  deliveryConcurrency: 8,
  /** Region of AgentCore Memory when none is configured. */
  region: 'us-east-1',
  /** Key prefix of everything the Redis backend stores (BullMQ's keys under `<prefix>-bull`). */
  redisPrefix: 'longrun',
  /** How long a start waits for Redis before it gives up with a clear error. */
  redisConnectTimeoutMs: 5000,
  /**
   * The queue depth metric (Redis backend, MCP_QUEUE_METRIC_*): the Deployment dimension, how often
   * each process publishes, the shortest gap between the prompt publishes a start or a re-queue
   * asks for (a burst of starts is one publish, not one each), and how long one publish may take
   * (short: the last one is part of a stop, within the stop's own backstop).
   */
  queueMetricDeployment: 'longrun',
  queueMetricIntervalMs: 60_000,
  queueMetricCoalesceMs: 1000,
  queueMetricTimeoutMs: 3000,
  /** The largest part of a bad value an error message repeats (a tool name, a task id). */
  echoChars: 128,
} as const
