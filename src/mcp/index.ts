export {
  COMPOSITE_SESSION_SEPARATOR,
  type CompositeSessionField,
  CompositeSessionHeaderError,
  type CompositeSessionParts,
  formatCompositeSessionHeader,
  isCompositeSessionHeader,
  parseCompositeSessionHeader,
} from '../contract/index.ts'
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CALL_MS,
  LongRunningMcpClient,
  type LongRunningMcpClientConfig,
  McpClientConfigError,
  type StartedToolTask,
  type ToolProgress,
} from './long-running-mcp-client.ts'
