/**
 * The agent of one invocation (`longrun/agent`): build it from a config object and invoke it, to
 * embed the runtime's wiring (memory-backed session, long-running MCP tools, the system prompt and
 * a bounded context) in a runtime of your own.
 */
export { DEFAULT_CONVERSATION_WINDOW, MCP_TOOL_LISTING_DEFAULTS } from './agent-defaults.ts'
export {
  APPROVAL_INTERRUPT_NAME,
  type ApprovalReason,
  isApproval,
  type PendingInterrupt,
  pendingInterruptsOf,
  requireApproval,
} from './approval-hook.ts'
export { AgentConfigError, ModelCredentialsError } from './errors.ts'
export { buildInvocationAgent, type InvocationAgent, type InvocationAgentConfig } from './invocation-agent.ts'
export { mcpListingKey, McpToolListings, type McpToolListingsConfig } from './mcp-tool-listings.ts'
export { type McpTools, type McpToolsConfig, mcpToolsFor } from './mcp-tools.ts'
export { buildModel, checkBedrockCredentials, createModel } from './model-provider.ts'
export {
  describeModelEndpoint,
  type ModelProvider,
  type ModelProviderConfig,
  type StaticCredentials,
} from './model-provider-config.ts'
export { modelUnreachableReason } from './model-reachability.ts'
export { LONG_RUNNING_SYSTEM_PROMPT, systemPromptFor } from './system-prompt.ts'
