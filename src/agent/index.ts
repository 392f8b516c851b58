/**
 * The agent of one invocation (`longrun/agent`): build it from a config object and invoke it, to
 * embed the runtime's wiring (memory-backed session, long-running MCP tools, the system prompt and
 * a bounded context) in a runtime of your own.
 */
export { DEFAULT_CONVERSATION_WINDOW } from './agent-defaults.ts'
export { buildInvocationAgent, type InvocationAgent, type InvocationAgentConfig } from './invocation-agent.ts'
export { listMcpTools, McpToolCatalog, type McpTools, type McpToolsConfig } from './mcp-tools.ts'
export {
  createModel,
  type ModelProvider,
  type ModelProviderConfig,
  modelProviderFromEnv,
  type StaticCredentials,
} from './model-provider.ts'
export { LONG_RUNNING_SYSTEM_PROMPT, systemPromptFor } from './system-prompt.ts'
