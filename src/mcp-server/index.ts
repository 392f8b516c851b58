/**
 * `longrun/mcp-server`: the long-running MCP server, the helper to define a tool of your own, and
 * the task store interface with its backends.
 */
export { type AuthConfig, type Principal } from './auth.ts'
export { McpServerError, type McpServerErrorCode } from './errors.ts'
export { type Logger, type LogLevel, silentLogger, stderrLogger } from '../shared/logger.ts'
export {
  type CallMode,
  defineLongRunningTool,
  type LongRunningTool,
  type LongRunningToolDefinition,
  type OwnTask,
  type ToolCaller,
  type ToolContext,
  ToolError,
  type ToolMode,
} from './long-running-tool.ts'
export { LongRunningMcpServer, type LongRunningMcpServerConfig } from './mcp-server.ts'
export { RedisTaskBackend, type RedisTaskBackendConfig } from './redis-task-backend.ts'
export {
  CloudWatchQueueDepthSink,
  type CloudWatchQueueDepthSinkConfig,
  QueueDepthMetric,
  type QueueDepthMetricConfig,
  type QueueDepthMetricSettings,
  type QueueDepthSample,
  type QueueDepthSink,
  TASKS_OWED_METRIC,
} from './queue-depth-metric.ts'
export { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
export type { AfterEndKind, Attempted } from './after-end-jobs.ts'
export type { Attempt, OutboxDispatch, OutboxQueue } from './outbox-queue.ts'
export { SqliteTaskBackend, type SqliteTaskBackendConfig } from './sqlite-task-backend.ts'
export { SqliteTaskStore, type SqliteTaskStoreConfig } from './sqlite-task-store.ts'
export type { Recovery, TaskBackend, TaskExecutor } from './task-backend.ts'
export { TaskPolicy, type TaskPolicyConfig } from './task-policy.ts'
export {
  INTERRUPTED_MESSAGE,
  RERUN_MESSAGE,
  SHUT_DOWN_BEFORE_START_MESSAGE,
  TOOL_GONE_MESSAGE,
} from './task-restart.ts'
export type { Handled, QueuedTask, QueueFull, QueueTicket, TaskDispatch, TaskQueue } from './task-queue.ts'
export type { Claim, EndBy, Placed, TaskStore, WorkerLease } from './task-store.ts'
export {
  type AfterEndJob,
  type DeliveryState,
  isEnded,
  type JobKey,
  type NewTaskRecord,
  type OutboxEntry,
  type OwedJob,
  type PendingDelivery,
  type Placement,
  type Settlement,
  type TaskEnd,
  type TaskEndStatus,
  type TaskPage,
  type TaskProgress,
  type TaskRecord,
  type TaskStage,
  type TaskStatus,
} from './task-record.ts'
export { type StartTask, type TaskEvent, TaskRunner, type TaskRunnerConfig } from './task-runner.ts'
export { MemoryEventWriter, type MemoryEventWriterConfig } from './memory-event-writer.ts'
export { TASK_TOOL_NAMES } from './task-tools.ts'
export { TaskWorker, type TaskWorkerConfig } from './task-worker.ts'
export {
  type EvaluateModelConfig,
  evaluateModelTool,
  type ModelTrainingConfig,
  modelTrainingTool,
  textStatisticsTool,
} from './tools/index.ts'
