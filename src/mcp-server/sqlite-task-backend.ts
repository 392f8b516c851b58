/**
 * The embedded backend: the task policy over SQLite in the data directory and this process's own
 * queue. Several processes may work on one data directory side by side: each registers with a
 * lease it renews, runs only the tasks it holds, and takes over a task or an owed memory event only
 * once the process holding it has stopped (its lease ran out, or it closed). A cancel sent to any
 * of them reaches the process running the task within a poll interval.
 */
import type { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { LocalOutboxQueue } from './local-outbox-queue.ts'
import { LocalTaskQueue, localLimits } from './local-task-queue.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import type { AfterEndKind } from './after-end-jobs.ts'
import type { MemoryEventWriter } from './memory-event-writer.ts'
import { memoryDelivery } from './result-delivery.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { SqliteTaskStore } from './sqlite-task-store.ts'
import { newWorkerId, TaskPolicy } from './task-policy.ts'

/** Configuration of {@link SqliteTaskBackend}. */
export interface SqliteTaskBackendConfig {
  /** Directory of `mcp-tasks.sqlite`; ':memory:' for a throwaway one. */
  readonly dataDir: string
  readonly tools: readonly LongRunningTool[]
  /** Tasks running at once in this process for tools that declare no limit. */
  readonly concurrency?: number
  /** Tasks waiting at once in this process; a start beyond it is refused with QUEUE_FULL. */
  readonly queueLimit?: number
  /** A running task interrupted after this many runs is failed instead of run again. */
  readonly maxAttempts?: number
  /** This process's lease: renewed every third of it; others take over its tasks once it runs out. */
  readonly leaseMs?: number
  /** How often this process looks for its running tasks cancelled by another one (default 1 s). */
  readonly cancelPollMs?: number
  /** Writes results into memory; without it nothing is delivered. */
  readonly writer?: MemoryEventWriter
  /** Jobs an end owes beyond the memory event (a wake, a notice), each attempted after it. */
  readonly followUps?: readonly AfterEndKind[]
  readonly health?: HealthStatus
  readonly clock?: () => number
  readonly logger?: Logger
  /** This process's name in the lease table (default host:pid:random). */
  readonly workerId?: string
}

/** Tasks on SQLite, run in this process. */
export class SqliteTaskBackend extends TaskPolicy {
  constructor(config: SqliteTaskBackendConfig) {
    const workerId = config.workerId ?? newWorkerId()
    const leaseMs = config.leaseMs ?? MCP_SERVER_DEFAULTS.leaseMs
    const clock = config.clock ?? Date.now
    const logger = config.logger ?? silentLogger
    const store = new SqliteTaskStore({
      dataDir: config.dataDir,
      logger: config.logger,
      clock,
      endsPollMs: config.cancelPollMs ?? Math.min(MCP_SERVER_DEFAULTS.cancelPollMs, leaseMs / 3),
    })
    super({
      store,
      queue: new LocalTaskQueue({ ...localLimits(config), workerId }),
      outbox: new LocalOutboxQueue({
        schedule: store.schedule(workerId),
        clock,
        logger,
        ...(config.health !== undefined && { health: config.health }),
        ...(config.writer !== undefined && { retryAfterErrorMs: config.writer.maxDelayMs }),
      }),
      tools: config.tools,
      afterEnd:
        config.writer === undefined ? [] : [memoryDelivery(config.writer), ...(config.followUps ?? [])],
      workerId,
      maxAttempts: config.maxAttempts,
      leaseMs,
      clock,
      logger,
    })
  }
}
