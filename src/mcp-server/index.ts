export { type AuthConfig, type Authenticator, createAuthenticator, type Principal } from './auth.ts'
export { JsonRpcError, McpServerError, type McpServerErrorCode } from './errors.ts'
export { type HealthReport, HealthStatus } from '../shared/health-status.ts'
export { formatLogLine, type Logger, type LogLevel, silentLogger, stderrLogger } from '../shared/logger.ts'
export {
  defineLongRunningTool,
  type LongRunningTool,
  type LongRunningToolDefinition,
  type ToolCaller,
  type ToolContext,
  type ToolMode,
} from './long-running-tool.ts'
export { configFromEnv, main } from './main.ts'
export { LongRunningMcpServer, type LongRunningMcpServerConfig, TASK_TOOL_NAMES } from './mcp-server.ts'
export { clientTokenFor, ResultDelivery, type ResultDeliveryConfig } from './result-delivery.ts'
export { OwnerScopedTaskStore, toSpecTask } from './spec-task-store.ts'
export {
  INTERRUPTED_MESSAGE,
  encodedLength,
  MAX_EVENT_PAYLOAD_CHARS,
  memoryEventText,
  type StartTask,
  type TaskEvent,
  TaskRunner,
  type TaskRunnerConfig,
  toCallToolResult,
} from './task-runner.ts'
export {
  isEnded,
  type NewTaskRecord,
  type DeliveryState,
  type Outbox,
  type OutboxEntry,
  type PendingDelivery,
  SqliteTaskStore,
  type SqliteTaskStoreConfig,
  type TaskEnd,
  type TaskEndStatus,
  type TaskKind,
  type TaskPage,
  type TaskRecord,
  type TaskStatus,
  type TaskStore,
} from './task-store.ts'
export { type ModelTrainingConfig, modelTrainingTool, textStatisticsTool } from './tools/index.ts'
